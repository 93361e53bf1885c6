"""Row-level exports in constant memory: the peak memory of writing one row per question as
CSV (streamed) and as XLSX (XlsxWriter's constant-memory mode), for a period of about a
tenth of the questions and for all of them.

Builds a throw-away PostgreSQL database with ``bench/report.py``'s year of questions
(``--questions``, 200,000 by default), then consumes each export whole while tracemalloc
records the peak of Python's allocations (the database driver's C buffers and XlsxWriter's
temporary files on disk are not in it). Prints one JSON line:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce SECRET_KEY=x \\
        python bench/exports.py [--questions 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from bench.report import ZONE, build  # noqa: E402 - needs the project on the path


def peak(run: Callable[[], int]) -> tuple[int, float, float]:
    """Rows written, peak MiB allocated while writing them, seconds (under tracemalloc)."""
    tracemalloc.start()
    started = time.perf_counter()
    rows = run()
    seconds = time.perf_counter() - started
    _current, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows, round(top / 2**20, 1), round(seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=200_000)
    args = parser.parse_args()

    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from django.db import connection

    from helpdesk.reports.exports import question_rows_csv, question_rows_xlsx
    from helpdesk.reports.period import Period
    from helpdesk.reports.queries import Scope

    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... : this measures PostgreSQL")
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_exports"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    figures: dict[str, Any] = {"bench": "exports", "questions": args.questions}
    try:
        brand = build(args.questions)["brand"]
        zone = ZoneInfo(ZONE)
        periods = {
            "tenth": Period(date(2026, 10, 26), date(2026, 11, 30), zone),
            "all": Period(date(2025, 12, 1), date(2026, 11, 30), zone),
        }
        for name, period in periods.items():
            scope = Scope(brand_id=brand.pk, period=period)

            def csv_rows(scope: Scope = scope) -> int:
                return sum(1 for _line in question_rows_csv(scope)) - 1

            def xlsx_file(scope: Scope = scope, name: str = name) -> int:
                path = question_rows_xlsx(scope)
                figures[f"xlsx_mb_on_disk_{name}"] = round(path.stat().st_size / 2**20, 1)
                path.unlink()
                return -1

            rows, csv_peak, csv_s = peak(csv_rows)
            _rows, xlsx_peak, xlsx_s = peak(xlsx_file)
            figures.update(
                {
                    f"rows_{name}": rows,
                    f"csv_peak_mb_{name}": csv_peak,
                    f"xlsx_peak_mb_{name}": xlsx_peak,
                    f"csv_s_{name}": csv_s,
                    f"xlsx_s_{name}": xlsx_s,
                }
            )
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
