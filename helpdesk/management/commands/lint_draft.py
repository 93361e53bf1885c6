"""``manage.py lint_draft [--brand HANDLE] [--language en|fr] FILE``: lint drafts from a file.

FILE (or ``-`` for stdin) holds one draft per line. A line that is a JSON object is a JSON
Lines record: it must have a string ``text``, and may have ``signature``, ``customer_handle``
and ``language`` (strings) for that draft. Any other line is the draft itself, as written
(a draft that starts with ``{`` must therefore be given as JSON). Blank lines are skipped.

For each draft, one JSON line on stdout, exactly ``LintResult.as_json()``::

    {"text": ..., "verdict": "ok" | "advice" | "review" | "block", "weighted_length": N,
     "findings": [{"rule": ..., "severity": ..., "start": i, "end": j, "message": ...}]}

The rules are the brand's (its ``LinterSettings``, or the defaults), and the brand's own care
handles may be mentioned. ``--brand`` takes one of the brand's X handles (with or without
``@``, any case) or the brand's slug, and may be left out when there is only one brand. A line
that cannot be read is reported on stderr with its number; the others are still linted, and
the exit status is non-zero at the end (DESIGN invariant 9).

It lives in ``helpdesk``, not in ``charter``, because it reads the desk's brands and care
accounts: ``charter`` imports nothing of the desk (docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from charter.linter import LintConfig, lint
from charter.management.inputs import open_input
from charter.models import LinterSettings
from helpdesk.models import Brand, XAccount

LANGUAGES = ("en", "fr")
_OPTIONAL_FIELDS = ("signature", "customer_handle", "language")
_BOM = b"\xef\xbb\xbf"


class _BadLine(ValueError):
    pass


def _draft_of(raw: bytes) -> tuple[str, dict[str, str]]:
    """The draft on one line and its per-draft options; ``_BadLine`` with a plain reason."""
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise _BadLine(f"not UTF-8 text (byte {error.start + 1})") from None
    if not line.lstrip().startswith("{"):
        return line, {}
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        raise _BadLine(f"starts with {{ but is not a JSON object ({reason})") from None
    if not isinstance(record, dict):
        raise _BadLine("starts with { but is not a JSON object")
    text = record.get("text")
    if not isinstance(text, str):
        raise _BadLine(
            'a JSON line needs a "text" string' if text is None else '"text" is not a string'
        )
    options = {}
    for name in _OPTIONAL_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _BadLine(f'"{name}" is not a string')
        options[name] = value
    if options.get("language", "en") not in LANGUAGES:
        raise _BadLine(f'"language" must be one of {", ".join(LANGUAGES)}')
    return text, options


class Command(BaseCommand):
    help = (
        "Lint drafts with a brand's charter rules: one draft per line, or JSON Lines with a "
        "'text' field ('-' reads stdin); writes one JSON line per draft."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="File to read, or - for stdin")
        parser.add_argument(
            "--brand", help="An X handle of the brand (@ optional) or its slug; optional with one"
        )
        parser.add_argument(
            "--language", choices=LANGUAGES, default="en", help="Language of the messages"
        )
        parser.add_argument(
            "--signature", default="", help="The volunteer's signature to expect, e.g. ^AB"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        brand = self._brand(options["brand"])
        config = LintConfig.from_settings(
            LinterSettings.objects.filter(brand=brand).first(),
            brand_handles=XAccount.objects.filter(brand=brand)
            .order_by("username")
            .values_list("username", flat=True),
        )
        path: str = options["path"]
        errors = 0
        with self._open(path) as stream:
            for number, raw in _numbered_lines(stream):
                if not raw.strip():
                    continue
                try:
                    text, fields = _draft_of(raw)
                except _BadLine as error:
                    self.stderr.write(f"line {number}: {error}")
                    errors += 1
                    continue
                customer = fields.get("customer_handle", "")
                result = lint(
                    text,
                    replace(config, customer_handle=customer) if customer else config,
                    language=fields.get("language", options["language"]),
                    signature=fields.get("signature", options["signature"]),
                )
                self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False))
        if errors:
            raise CommandError(f"{errors} line(s) could not be linted; see the reasons above")

    def _brand(self, wanted: str | None) -> Brand:
        if wanted is None:
            brands = list(Brand.objects.order_by("slug")[:2])
            if len(brands) == 1:
                return brands[0]
            if not brands:
                raise CommandError("there is no brand yet: create one first")
            raise CommandError(f"several brands exist; pass --brand with one of: {_choices()}")
        handle = wanted.strip().removeprefix("@")
        by_handle = {
            account.brand_id: account.brand
            for account in XAccount.objects.select_related("brand").filter(username__iexact=handle)
        }
        by_slug = (
            {}
            if wanted.strip().startswith("@")
            else {b.pk: b for b in Brand.objects.filter(slug=handle)}
        )
        found = {**by_handle, **by_slug}
        if len(found) == 1:
            return next(iter(found.values()))
        if not found:
            raise CommandError(f"no brand has the handle or slug {wanted!r}; brands: {_choices()}")
        raise CommandError(
            f"{wanted!r} names several brands ({', '.join(sorted(b.slug for b in found.values()))})"
            "; pass a handle with @ or a slug that is not also a handle"
        )

    def _open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return open_input(path)


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(stream, start=1):
        yield number, raw.removeprefix(_BOM) if number == 1 else raw


def _choices() -> str:
    """Every brand as ``slug (@handle, ...)``, for error messages."""
    parts = []
    for brand in Brand.objects.order_by("slug").prefetch_related("x_accounts"):
        handles = ", ".join(sorted(f"@{a.username}" for a in brand.x_accounts.all()))
        parts.append(f"{brand.slug} ({handles})" if handles else brand.slug)
    return "; ".join(parts) or "none"
