"""``manage.py report``: a brand's report for a period, as JSON, CSV, XLSX or PDF, or its
questions one row each (``--rows``), written to a file.

The same report as the page and the API (``helpdesk.reports.report.build_report``), for
scripts and cron jobs. The file appears complete or not at all: it is written beside the
target and renamed over it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from helpdesk.models import Brand, Store
from helpdesk.reports import exports
from helpdesk.reports.pdf import report_pdf
from helpdesk.reports.period import EARLIEST, LATEST, Period, PeriodError
from helpdesk.reports.queries import GROUPINGS, Scope, brand_zone
from helpdesk.reports.report import build_report

FORMATS = ("json", "csv", "xlsx", "pdf")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{text!r} is not a date written YYYY-MM-DD") from error


class Command(BaseCommand):
    help = (
        "Write a brand's report for a period (local days of the brand, both included) as "
        "JSON, CSV, XLSX or PDF, or with --rows its questions one row each (CSV or XLSX)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--until", required=True, help="last day (included), YYYY-MM-DD")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--brand", help="the brand's slug (needed when there are several)")
        parser.add_argument("--group-by", choices=GROUPINGS, default="store")
        parser.add_argument("--store", help="only this store (its code)")
        parser.add_argument("--business-time", action="store_true", help="count opening hours only")
        parser.add_argument(
            "--anonymise", action="store_true", help="name volunteers by an anonymous code"
        )
        parser.add_argument(
            "--rows", action="store_true", help="one row per question (CSV or XLSX)"
        )
        parser.add_argument("--language", default="en", choices=("en", "fr"), help="of a PDF")

    def handle(self, *args: Any, **options: Any) -> None:
        brand = self._brand(options["brand"])
        first, last = _day(options["since"]), _day(options["until"])
        for day in (first, last):
            if not EARLIEST <= day <= LATEST:
                raise CommandError(f"dates must lie between {EARLIEST} and {LATEST}")
        try:
            period = Period(first, last, brand_zone(brand))
        except PeriodError as error:
            raise CommandError(str(error)) from error
        stores = None
        if options["store"]:
            store = Store.objects.filter(brand=brand, code=options["store"]).first()
            if store is None:
                raise CommandError(f"{brand.slug} has no store {options['store']!r}")
            stores = frozenset({store.pk})
        scope = Scope(
            brand_id=brand.pk,
            period=period,
            stores=stores,
            business_time=options["business_time"],
        )
        fmt = options["format"]
        if options["rows"] and fmt not in ("csv", "xlsx"):
            raise CommandError("--rows writes CSV or XLSX")
        target = Path(options["output"])
        if not target.parent.is_dir():
            raise CommandError(f"no such directory: {target.parent}")
        try:
            with tempfile.NamedTemporaryFile(
                dir=target.parent, prefix=f".{target.name}.", delete=False
            ) as handle:
                temporary = Path(handle.name)
                try:
                    self._write(scope, fmt, options, handle)
                except BaseException:
                    temporary.unlink(missing_ok=True)
                    raise
            os.replace(temporary, target)
        except OSError as error:
            raise CommandError(f"cannot write {target}: {error}") from error
        self.stderr.write(f"Wrote {target} ({target.stat().st_size} bytes).")

    def _brand(self, slug: str | None) -> Brand:
        if slug:
            brand = Brand.objects.filter(slug=slug).first()
            if brand is None:
                raise CommandError(f"no brand {slug!r}")
            return brand
        brands = list(Brand.objects.order_by("slug")[:2])
        if len(brands) != 1:
            raise CommandError("say which brand with --brand SLUG")
        return brands[0]

    def _write(self, scope: Scope, fmt: str, options: dict[str, Any], out: IO[bytes]) -> None:
        anonymise = options["anonymise"]
        if options["rows"] and fmt == "csv":
            for line in exports.question_rows_csv(scope, anonymise=anonymise):
                out.write(line.encode())
        elif options["rows"]:
            built = exports.question_rows_xlsx(scope, anonymise=anonymise)
            try:
                with built.open("rb") as source:
                    shutil.copyfileobj(source, out)
            finally:
                built.unlink(missing_ok=True)
        else:
            report = build_report(scope, grouping=options["group_by"], anonymise=anonymise)
            if fmt == "json":
                text = json.dumps(report.as_json(), cls=DjangoJSONEncoder, ensure_ascii=False)
                out.write((text + "\n").encode())
            elif fmt == "csv":
                out.write(exports.report_csv(report).encode())
            elif fmt == "xlsx":
                out.write(exports.report_xlsx_bytes(report))
            else:
                out.write(report_pdf(report, language=options["language"]))
