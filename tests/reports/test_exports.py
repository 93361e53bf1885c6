"""Exports of a report (CSV, XLSX, PDF, JSON) and of its questions (CSV, XLSX), and the
``report`` command: each opens in the library that reads its format and holds the JSON's
figures; hostile text stays text; nobody downloads what they may not read."""

from __future__ import annotations

import csv
import io
import json
import tempfile
import warnings
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from django.core.management import CommandError, call_command
from django.test import AsyncClient, Client
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from helpdesk.models import Conversation, Customer, Question
from helpdesk.reports.models import OpeningHours
from helpdesk.reports.period import Period
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import build_report
from helpdesk.reports.rows import COLUMNS
from helpdesk.reports.templatetags.reports import duration
from tests.factories import make_account, make_brand, make_store, make_volunteer
from tests.people import People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db

ZONE = "Europe/Paris"
FORMULA = "=cmd|' /C calc'!A0"
MARKUP = "<b>Tom & Jerry</b> &amp;"


@pytest.fixture
def desk() -> dict[str, Any]:
    brand = make_brand(time_zone=ZONE, slug="acme")
    account = make_account(brand)
    north = make_store(brand, code="N1", name=MARKUP, region="North")
    south = make_store(brand, code="S1", name="South", region="South")
    ana = make_volunteer(brand, store=north, display_name=FORMULA)
    bob = make_volunteer(brand, store=south, display_name="Bob")
    other = make_brand(slug="other")
    everyone = People(brand, store=south, other_brand=other)
    people = {
        "volunteer": ana,  # answered questions, so has figures
        **{kind: everyone.volunteer(kind) for kind in ("untrained", "suspended")},
        **{kind: everyone.volunteer(kind) for kind in ("supervisor", "agency", "admin")},
        "other-agency": everyone.volunteer("other-brand-agency"),
    }
    now = timezone.now()
    for i in range(8):
        received = now - timedelta(days=3, hours=i * 7)
        author, store = (ana, north) if i % 2 else (bob, south)
        question = make_question(brand, received_at=received)
        answer(
            question,
            author.user,
            account,
            sent_at=received + timedelta(minutes=7 * (i + 1)),
            store=store,
        )
    make_question(
        brand, received_at=now - timedelta(days=2), state="dismissed", dismissed_reason=FORMULA
    )
    make_question(
        brand, received_at=now - timedelta(days=2), state="dismissed", dismissed_reason=MARKUP
    )
    make_question(brand, received_at=now - timedelta(days=1))
    return {"brand": brand, "people": people, "north": north, "south": south}


def scope(desk: dict[str, Any], **filters: Any) -> Scope:
    zone = ZoneInfo(ZONE)
    today = timezone.now().astimezone(zone).date()
    return Scope(
        brand_id=desk["brand"].pk, period=Period(today - timedelta(days=29), today, zone), **filters
    )


def get(client: Client, desk: dict[str, Any], role: str, url: str) -> Any:
    client.force_login(desk["people"][role].user)
    return client.get(url)


def first_sheet_rows(body: bytes, folder: Path) -> list[tuple[Any, ...]]:
    """The values of each row of an XLSX download's first sheet (the file written to
    ``folder`` to be read, the workbook closed after)."""
    path = folder / "download.xlsx"
    path.write_bytes(body)
    workbook = load_workbook(path, read_only=True)
    try:
        return list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def csv_tables(text: str) -> dict[str, list[list[str]]]:
    """The CSV export's tables by name: each starts with its name alone on a row."""
    tables: dict[str, list[list[str]]] = {}
    rows = list(csv.reader(io.StringIO(text)))
    current: list[list[str]] | None = None
    for index, row in enumerate(rows):
        if not row:
            current = None
        elif current is None and (index == 0 or not rows[index - 1]):
            current = tables.setdefault(row[0], [])
        elif current is not None:
            current.append(row)
    return tables


def number(text: str) -> float | None:
    return float(text) if text != "" else None


def test_the_csv_holds_the_jsons_figures(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "agency", "/reports/exports/report.csv?period=30d")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="acme-report-' in response["Content-Disposition"]
    tables = csv_tables(response.content.decode())
    data = build_report(scope(desk)).as_json()
    header, this, previous = tables["Summary"]
    summary = dict(zip(header, this, strict=True))
    assert int(summary["received"]) == data["summary"]["received"] == 11
    assert int(summary["answered"]) == data["summary"]["answered"] == 8
    assert number(summary["first_response_p50_seconds"]) == data["summary"]["first_response"]["p50"]
    assert number(summary["first_response_p90_seconds"]) == data["summary"]["first_response"]["p90"]
    assert number(summary["answer_rate_fraction"]) == data["summary"]["answer_rate"]
    assert int(dict(zip(header, previous, strict=True))["received"]) == data["previous"]["received"]
    groups = tables["By store"]
    labels = [row[1] for row in groups[1:]]
    assert labels[-1] == "Total"
    assert f"N1 {MARKUP}" in labels  # the store's name as written, never escaped
    assert sum(int(row[2]) for row in groups[1:-1]) == int(groups[-1][2]) == 11
    days = tables["Day by day"]
    assert len(days) == 1 + 30
    assert sum(int(row[1]) for row in days[1:]) == 11


def test_text_stays_text_and_formulas_do_not_run(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "agency", "/reports/exports/report.csv")

    reasons = dict(
        (row[0], row[1])
        for row in csv_tables(response.content.decode())["Dismissed, by reason"][1:]
    )
    assert reasons == {"'" + FORMULA: "1", MARKUP: "1"}
    assert "&lt;" not in response.content.decode()


def test_the_xlsx_holds_the_jsons_figures(
    client: Client, desk: dict[str, Any], tmp_path: Path
) -> None:
    response = get(client, desk, "agency", "/reports/exports/report.xlsx?group_by=volunteer")

    assert response.status_code == 200
    path = tmp_path / "report.xlsx"
    path.write_bytes(response.content)
    workbook = load_workbook(path)
    data = build_report(scope(desk), grouping="volunteer").as_json()
    summary = workbook["Summary"]
    header = [c.value for c in summary[1]]
    this = dict(zip(header, [c.value for c in summary[2]], strict=True))
    assert this["received"] == data["summary"]["received"]
    assert this["first_response_p95_seconds"] == data["summary"]["first_response"]["p95"]
    assert this["sla_compliance_fraction"] == data["summary"]["sla"]["compliance"]
    by_volunteer = workbook["By volunteer"]
    names = [row[1].value for row in by_volunteer.iter_rows(min_row=2)]
    assert "'" + FORMULA in names  # a name starting with = is not a formula
    assert all(cell.data_type != "f" for row in by_volunteer.iter_rows() for cell in row)
    dismissed = {
        row[0].value: row[1].value for row in workbook["Dismissed, by reason"].iter_rows(min_row=2)
    }
    assert dismissed == {"'" + FORMULA: 1, MARKUP: 1}


def test_the_pdf_holds_the_jsons_figures(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "agency", "/reports/exports/report.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    data = build_report(scope(desk)).as_json()
    assert "acme" in response["Content-Disposition"]
    assert f"Received {data['summary']['received']}" in text
    assert duration(data["summary"]["first_response"]["p50"]) in text
    assert "Tom & Jerry" in text  # the store's name as written, not escaped markup
    assert "<b>" in text


def test_the_json_export_is_the_reports_json(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "agency", "/reports/exports/report.json?business_time=on")

    assert json.loads(response.content) == json.loads(
        json.dumps(build_report(scope(desk, business_time=True)).as_json(), default=str)
    )


def test_exports_follow_the_business_hours_switch(client: Client, desk: dict[str, Any]) -> None:
    OpeningHours.objects.bulk_create(
        OpeningHours(brand=desk["brand"], weekday=day, opens_at=time(9), closes_at=time(12))
        for day in range(7)
    )

    calendar = csv_tables(
        get(client, desk, "agency", "/reports/exports/report.csv").content.decode()
    )
    business = csv_tables(
        get(client, desk, "agency", "/reports/exports/report.csv?business_time=on").content.decode()
    )

    def p90(tables: dict[str, list[list[str]]]) -> float | None:
        header, this = tables["Summary"][0], tables["Summary"][1]
        return number(dict(zip(header, this, strict=True))["first_response_p90_seconds"])

    expected = build_report(scope(desk, business_time=True)).summary.first_response.p90
    assert p90(business) == expected
    assert p90(calendar) == build_report(scope(desk)).summary.first_response.p90
    assert p90(business) != p90(calendar)


def test_row_level_csv_has_one_row_per_question(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "agency", "/reports/exports/questions.csv")

    assert response.status_code == 200
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 11
    assert list(rows[0]) == list(COLUMNS)
    assert {row["dismissed_reason"] for row in rows} == {"", "'" + FORMULA, MARKUP}
    answered = [row for row in rows if row["state"] == "answered"]
    assert sorted(float(row["first_response_seconds"]) for row in answered) == sorted(
        60.0 + 7 * 60 * (i + 1) for i in range(8)
    )


def test_row_level_xlsx_has_no_row_cap(
    client: Client, desk: dict[str, Any], tmp_path: Path
) -> None:
    brand = desk["brand"]
    received = timezone.now() - timedelta(days=1)
    customer = Customer.objects.create(x_user_id="555", username="many")
    conversation = Conversation.objects.create(
        brand=brand, x_conversation_id="555", customer=customer
    )
    Question.objects.bulk_create(
        Question(
            brand=brand,
            conversation=conversation,
            customer=customer,
            tweet_id=str(10**12 + n),
            text="again?",
            source="mentions",
            received_at=received,
            state="queued",
        )
        for n in range(6500)
    )

    response = get(client, desk, "agency", "/reports/exports/questions.xlsx")

    rows = first_sheet_rows(b"".join(response.streaming_content), tmp_path)
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + 6500 + 11


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("volunteer", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("supervisor", 200),
        ("agency", 200),
        ("admin", 200),
        ("other-agency", 200),
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "/reports/exports/report.csv",
        "/reports/exports/report.xlsx",
        "/reports/exports/report.json",
        "/reports/exports/questions.csv",
        "/reports/exports/questions.xlsx",
    ],
)
def test_who_may_download(
    client: Client, desk: dict[str, Any], role: str, status: int, url: str
) -> None:
    response = get(client, desk, role, url)

    assert response.status_code == status
    if role == "other-agency" and url.endswith(".json"):
        assert json.loads(response.content)["summary"]["received"] == 0
        assert json.loads(response.content)["brand"] == "other"


def test_anonymous_people_are_sent_to_log_in(client: Client, desk: dict[str, Any]) -> None:
    response = client.get("/reports/exports/report.csv")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_supervisors_export_is_their_store(client: Client, desk: dict[str, Any]) -> None:
    response = get(client, desk, "supervisor", "/reports/exports/report.json")
    refused = get(
        client, desk, "supervisor", f"/reports/exports/report.json?store={desk['north'].pk}"
    )

    data = json.loads(response.content)
    assert data["filters"]["stores"] == [desk["south"].pk]
    assert data["summary"]["received"] == 4
    assert refused.status_code == 400
    assert "store" in json.loads(refused.content)["errors"]


@pytest.mark.parametrize("query", ["store=%C2%B2", "first=0001-01-01&last=0001-01-05", "period=x"])
def test_bad_filters_are_a_400_not_a_file(client: Client, desk: dict[str, Any], query: str) -> None:
    response = get(client, desk, "agency", f"/reports/exports/report.csv?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "Content-Disposition" not in response


# --- the command --------------------------------------------------------------------------------


def days(desk: dict[str, Any]) -> tuple[str, str]:
    today = timezone.now().astimezone(ZoneInfo(ZONE)).date()
    return (today - timedelta(days=29)).isoformat(), today.isoformat()


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx", "pdf"])
def test_the_command_writes_each_format(desk: dict[str, Any], tmp_path: Path, fmt: str) -> None:
    since, until = days(desk)
    output = tmp_path / f"report.{fmt}"

    call_command(
        "report",
        "--since",
        since,
        "--until",
        until,
        "--format",
        fmt,
        "--output",
        str(output),
        "--brand",
        "acme",
        stderr=io.StringIO(),
    )

    data = build_report(scope(desk)).as_json()
    if fmt == "json":
        assert json.loads(output.read_text()) == json.loads(json.dumps(data, default=str))
    elif fmt == "csv":
        header, this, _previous = csv_tables(output.read_text())["Summary"]
        assert int(dict(zip(header, this, strict=True))["received"]) == data["summary"]["received"]
    elif fmt == "xlsx":
        sheet = load_workbook(output)["Summary"]
        assert sheet["B2"].value == data["summary"]["received"]
    else:
        text = " ".join(PdfReader(output).pages[0].extract_text().split())
        assert f"Received {data['summary']['received']}" in text
    assert [p.name for p in tmp_path.iterdir()] == [output.name]  # no temporary file left


def test_the_command_writes_rows_and_groups(desk: dict[str, Any], tmp_path: Path) -> None:
    since, until = days(desk)
    rows = tmp_path / "rows.csv"
    grouped = tmp_path / "grouped.json"

    call_command(
        "report",
        "--since",
        since,
        "--until",
        until,
        "--format",
        "csv",
        "--rows",
        "--output",
        str(rows),
        "--brand",
        "acme",
        "--anonymise",
        stderr=io.StringIO(),
    )
    call_command(
        "report",
        "--since",
        since,
        "--until",
        until,
        "--format",
        "json",
        "--group-by",
        "region",
        "--output",
        str(grouped),
        "--brand",
        "acme",
        "--business-time",
        stderr=io.StringIO(),
    )

    lines = list(csv.DictReader(rows.open()))
    assert len(lines) == 11
    assert not any(FORMULA in line["answered_by"] or line["answered_by"] == "Bob" for line in lines)
    data = json.loads(grouped.read_text())
    assert data["group_by"] == "region" and data["business_time"] is True
    assert {group["label"] for group in data["groups"]} >= {"North", "South"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"--brand": "nope"}, "no brand 'nope'"),
        ({"--since": "2026-13-01"}, "is not a date"),
        ({"--since": "2026-02-01", "--until": "2026-01-01"}, "must not be after"),
        ({"--since": "0001-01-01", "--until": "0001-01-02"}, "dates must lie between"),
        ({"--output": "/nonexistent/dir/report.csv"}, "no such directory"),
        ({"--rows": "", "--format": "pdf"}, "--rows writes CSV or XLSX"),
        ({"--store": "ZZ"}, "has no store 'ZZ'"),
    ],
)
def test_the_command_refuses_bad_input(
    desk: dict[str, Any], tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    options = {
        "--since": "2026-01-01",
        "--until": "2026-01-31",
        "--format": "csv",
        "--output": str(tmp_path / "out.csv"),
        "--brand": "acme",
        **changes,
    }
    argv = [part for flag, value in options.items() for part in (flag, value) if part]

    with pytest.raises(CommandError, match=message):
        call_command("report", *argv, stderr=io.StringIO())
    assert list(tmp_path.iterdir()) == []


def test_the_command_needs_a_brand_when_there_are_several(
    desk: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="say which brand"):
        call_command(
            "report",
            "--since",
            "2026-01-01",
            "--until",
            "2026-01-02",
            "--format",
            "json",
            "--output",
            str(tmp_path / "x.json"),
            stderr=io.StringIO(),
        )


def test_durations_in_exports_are_seconds(desk: dict[str, Any]) -> None:
    first = build_report(scope(desk)).summary.first_response

    # Tweeted a minute before arrival, answered 7, 14, ... 56 minutes after it.
    assert first.count == 8
    assert first.p50 == pytest.approx(60 + 7 * 60 * 4.5)


def test_a_row_xlsx_never_read_leaves_no_file_behind(
    client: Client, desk: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The XLSX of the rows is written to a temporary file, then streamed from it. The file
    # was removed only by reading the stream: a download abandoned before its first block
    # (a person who closed the tab, a client that only wanted the status) left it on disk,
    # one file a download (the test suite left dozens in /tmp).
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    # When an export is asked for and nothing of its body is read
    response = get(client, desk, "agency", "/reports/exports/questions.xlsx")

    # Then nothing of it is on disk, and the body is still there to read, whole
    assert response.status_code == 200
    assert list(tmp_path.iterdir()) == []
    assert len(first_sheet_rows(b"".join(response.streaming_content), tmp_path)) == 12


@pytest.mark.parametrize(
    "url", ["/reports/exports/questions.csv", "/reports/exports/questions.xlsx"]
)
def test_row_exports_stream_under_asgi_too(desk: dict[str, Any], url: str) -> None:
    # Django reads a synchronous iterator whole into a list before an ASGI server sends
    # it (with a warning): the desk runs on uvicorn, so the export must be asynchronous.
    client = AsyncClient()

    async def download() -> tuple[Any, bytes]:
        await client.aforce_login(desk["people"]["agency"].user)
        response: Any = await client.get(url)
        body = b"".join([chunk async for chunk in response.streaming_content])
        return response, body

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response, body = async_to_sync(download)()

    assert response.status_code == 200 and response.is_async
    if url.endswith(".csv"):
        assert len(list(csv.reader(io.StringIO(body.decode())))) == 1 + 11
    else:
        assert body[:2] == b"PK"  # a zip: the XLSX, whole
        with tempfile.TemporaryDirectory() as folder:
            assert len(first_sheet_rows(body, Path(folder))) == 12
