"""A report as tables, and the tables as CSV and XLSX; the row-level export streamed.

The tables are read off ``Report.as_json()``, the same dict the API and the JSON export
give, so a CSV or XLSX cannot hold another figure. Numbers stay numbers: durations in
seconds, rates as fractions of 1 (the headers say so).

CSV layout (one file, several tables): each table starts with a row holding only its name,
then its header row, then its rows; a blank row separates tables. XLSX: one sheet per
table, named after it.

Text is written as it was typed: never HTML-escaped (a CSV is not a page), and a text cell
that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a leading apostrophe (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from helpdesk.reports import rows as row_level
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import GROUPING_LABELS, PRIORITY_LABELS, Report

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows an XLSX sheet holds (Excel's limit, the header included).
SHEET_ROWS = 1_048_576


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as text: a would-be formula gets a leading apostrophe."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def cell(value: Any) -> Any:
    """A value as a CSV/XLSX cell: numbers as they are, None empty, text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    return spreadsheet_text(str(value))


@dataclass(frozen=True)
class Table:
    name: str
    header: list[str]
    rows: list[list[Any]]


DURATION_COLUMNS = ("count", "p50", "p90", "p95")


def _durations(figures: dict[str, Any]) -> list[Any]:
    return [figures[key] for key in DURATION_COLUMNS]


def _duration_header(prefix: str) -> list[str]:
    return [f"{prefix}_count"] + [f"{prefix}_{key}_seconds" for key in DURATION_COLUMNS[1:]]


FIGURE_HEADER = [
    "received",
    "answered",
    "dismissed",
    "escalated",
    "open",
    "answer_rate_fraction",
    *_duration_header("first_response"),
    *_duration_header("desk_response"),
    "sla_met",
    "sla_breached",
    "sla_pending",
    "sla_compliance_fraction",
]


def _figure_row(figures: dict[str, Any]) -> list[Any]:
    return [
        figures["received"],
        figures["answered"],
        figures["dismissed"],
        figures["escalated"],
        figures["open"],
        figures["answer_rate"],
        *_durations(figures["first_response"]),
        *_durations(figures["desk_response"]),
        figures["sla"]["met"],
        figures["sla"]["breached"],
        figures["sla"]["pending"],
        figures["sla"]["compliance"],
    ]


def report_tables(report: Report) -> list[Table]:
    """Every table of the report, from its JSON."""
    data = report.as_json()
    filters = data["filters"]
    about = Table(
        _("Report"),
        ["item", "value"],
        [
            ["brand", data["brand"]],
            ["time_zone", data["time_zone"]],
            ["first_day", data["period"]["first"]],
            ["last_day", data["period"]["last"]],
            ["previous_first_day", data["previous_period"]["first"]],
            ["previous_last_day", data["previous_period"]["last"]],
            ["business_time", data["business_time"]],
            ["group_by", data["group_by"]],
            ["anonymised", data["anonymised"]],
            ["stores", " ".join(str(pk) for pk in filters["stores"] or [])],
            ["region", filters["region"]],
            ["volunteer", filters["volunteer"]],
            ["topic", filters["topic"]],
            ["language", filters["language"]],
        ],
    )
    summary = Table(
        _("Summary"),
        ["period", *FIGURE_HEADER],
        [
            ["this", *_figure_row(data["summary"])],
            ["previous", *_figure_row(data["previous"])],
        ],
    )
    grouping = str(GROUPING_LABELS[report.grouping])
    groups = Table(
        _("By %(grouping)s") % {"grouping": grouping.lower()},
        ["key", "label", *FIGURE_HEADER],
        [[row["key"], row["label"], *_figure_row(row)] for row in data["groups"]]
        + [["", _("Total"), *_figure_row(data["summary"])]],
    )
    sla = Table(
        _("SLA by priority"),
        ["priority", "label", "met", "breached", "pending", "compliance_fraction"],
        [
            [
                row["priority"],
                str(PRIORITY_LABELS.get(row["priority"], row["priority"])),
                row["met"],
                row["breached"],
                row["pending"],
                row["compliance"],
            ]
            for row in data["sla_by_priority"]
        ],
    )
    resolution = data["resolution"]
    resolution_table = Table(
        _("Resolution"),
        ["conversations", "resolved", "unresolved", *_duration_header("resolution")],
        [
            [
                resolution["conversations"],
                resolution["resolved"],
                resolution["unresolved"],
                *_durations(resolution["time"]),
            ]
        ],
    )
    reviews = data["reviews"]
    reviews_table = Table(
        _("Reviews"),
        [
            "submitted",
            "to_review",
            "approved",
            "rejected",
            "pending",
            "edited",
            "approval_rate_fraction",
            *_duration_header("time_to_review"),
        ],
        [
            [
                reviews["submitted"],
                reviews["to_review"],
                reviews["approved"],
                reviews["rejected"],
                reviews["pending"],
                reviews["edited"],
                reviews["approval_rate"],
                *_durations(reviews["time_to_review"]),
            ]
        ],
    )
    findings = Table(
        _("Findings that sent replies to review"),
        ["rule", "replies"],
        [[row["rule"], row["count"]] for row in reviews["findings"]],
    )
    series = Table(
        _("Week by week") if data["period"]["granularity"] == "week" else _("Day by day"),
        ["start", "received", "answered", *_duration_header("first_response")],
        [
            [
                row["start"],
                row["received"],
                row["answered"],
                *_durations(row["first_response"]),
            ]
            for row in data["series"]
        ],
    )
    distribution = Table(
        _("First-response times"),
        ["from_seconds", "to_seconds", "questions"],
        [
            [row["from_seconds"], row["to_seconds"], row["count"]]
            for row in data["first_response_distribution"]
        ],
    )
    heatmap = Table(
        _("Busiest hours"),
        ["weekday", *[f"{hour:02d}" for hour in range(24)]],
        [
            [day, *counts]
            for day, counts in zip(
                data["heatmap"]["weekdays"], data["heatmap"]["counts"], strict=True
            )
        ],
    )
    dismissed = Table(
        _("Dismissed, by reason"),
        ["reason", "questions"],
        [[row["reason"], row["count"]] for row in data["dismissed_by_reason"]],
    )
    volunteers = Table(
        _("Volunteers"),
        [
            "name",
            "store_id",
            "level",
            "training",
            "replies_sent",
            "first_responses",
            "approved",
            "rejected",
            "shift_hours",
            "shift_seconds",
        ],
        [
            [
                row["name"],
                row["store_id"],
                row["level"],
                row["training"],
                row["replies_sent"],
                row["first_responses"],
                row["approved"],
                row["rejected"],
                row["shift_hours"],
                row["shift_seconds"],
            ]
            for row in data["volunteers"]
        ],
    )
    return [
        about,
        summary,
        groups,
        sla,
        resolution_table,
        reviews_table,
        findings,
        series,
        distribution,
        heatmap,
        dismissed,
        volunteers,
    ]


# --- CSV ---------------------------------------------------------------------------------------


def report_csv(report: Report) -> str:
    """Every table in one CSV: the table's name alone on a row, its header, its rows, and a
    blank row before the next."""
    out = io.StringIO()
    writer = csv.writer(out)
    for index, table in enumerate(report_tables(report)):
        if index:
            writer.writerow([])
        writer.writerow([cell(table.name)])
        writer.writerow(table.header)
        writer.writerows([cell(value) for value in row] for row in table.rows)
    return out.getvalue()


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes (for streaming)."""

    def write(self, value: str) -> str:
        return value


def question_rows_csv(scope: Scope, *, anonymise: bool = False) -> Iterator[str]:
    """The row-level export as CSV lines, produced as they are read: constant memory."""
    writer = csv.writer(_Line())
    yield writer.writerow(row_level.COLUMNS)
    for row in row_level.question_rows(scope, anonymise=anonymise):
        yield writer.writerow([cell(row[column]) for column in row_level.COLUMNS])


# --- XLSX --------------------------------------------------------------------------------------


def _workbook(path: Path, *, constant_memory: bool) -> Any:
    import xlsxwriter

    return xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": constant_memory,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )


def _write_row(sheet: Any, row_number: int, values: Iterable[Any], bold: Any = None) -> None:
    for column, value in enumerate(values):
        value = cell(value)
        if isinstance(value, int | float):
            sheet.write_number(row_number, column, value, bold)
        elif value == "":
            sheet.write_blank(row_number, column, None, bold)
        else:
            sheet.write_string(row_number, column, value, bold)


def _sheet_name(name: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\ , unique."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip()[:31] or "Sheet"
    candidate, n = cleaned, 2
    while candidate.lower() in used:
        suffix = f" {n}"
        candidate, n = cleaned[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def report_xlsx(report: Report, path: Path) -> None:
    """Every table of the report on a sheet of its own, written to ``path``."""
    workbook = _workbook(path, constant_memory=False)
    bold = workbook.add_format({"bold": True})
    used: set[str] = set()
    for table in report_tables(report):
        sheet = workbook.add_worksheet(_sheet_name(table.name, used))
        _write_row(sheet, 0, table.header, bold)
        for number, row in enumerate(table.rows, start=1):
            _write_row(sheet, number, row)
        sheet.freeze_panes(1, 0)
    workbook.close()


def question_rows_xlsx(scope: Scope, *, anonymise: bool = False) -> Path:
    """The row-level export as an XLSX file in the temporary directory (the caller removes
    it): XlsxWriter's constant-memory mode writes each row out as it comes."""
    with tempfile.NamedTemporaryFile(prefix="helpforce-", suffix=".xlsx", delete=False) as handle:
        path = Path(handle.name)
    workbook = _workbook(path, constant_memory=True)
    bold = workbook.add_format({"bold": True})
    used: set[str] = set()
    sheet, number = None, SHEET_ROWS
    for row in row_level.question_rows(scope, anonymise=anonymise):
        if number == SHEET_ROWS:  # a sheet is full: the rows go on in the next one
            sheet = workbook.add_worksheet(_sheet_name(_("Questions"), used))
            _write_row(sheet, 0, row_level.COLUMNS, bold)
            number = 1
        _write_row(sheet, number, (row[column] for column in row_level.COLUMNS))
        number += 1
    if sheet is None:
        _write_row(workbook.add_worksheet(_("Questions")), 0, row_level.COLUMNS, bold)
    workbook.close()
    return path


def report_xlsx_bytes(report: Report) -> bytes:
    with tempfile.TemporaryDirectory(prefix="helpforce-") as folder:
        path = Path(folder) / "report.xlsx"
        report_xlsx(report, path)
        return path.read_bytes()
