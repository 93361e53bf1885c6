"""The agency's reports in a real browser: agnes (agency staff) logs in and lands on the
reports, picks a period and a store, sees the charts and their tables, and downloads the
XLSX, which holds the page's figures; no console error, and nothing scrolls sideways on a
375 px phone."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from helpdesk.models import Brand, Store
from helpdesk.reports.period import Period, presets
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import build_report
from tests.e2e.conftest import ARTIFACTS
from tests.people import log_in_browser

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT_MS = 20_000


@pytest.fixture
def demo(server_url: str) -> Brand:
    # Two weeks of history: the reports' figures need days to compare, not the demo's four
    # months (18,000 questions, about 20 s a test).
    call_command("seed_demo", "--history-days", "14", stdout=StringIO(), stderr=StringIO())
    return Brand.objects.get(slug="northwind")


def console_errors(errors: list[str]) -> Callable[[Page], None]:
    """Watch a page: its console's errors and uncaught exceptions go to ``errors``."""

    def watch(page: Page) -> None:
        def console(message: ConsoleMessage) -> None:
            if message.type == "error":
                errors.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))

    return watch


def sideways(page: Page) -> dict[str, Any]:
    seen: dict[str, Any] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, width: window.innerWidth})"
    )
    return seen


@pytest.mark.parametrize("width", [375, 1280], ids=["phone", "desk"])
def test_agnes_reads_the_reports_and_downloads_the_xlsx(
    demo: Brand, browser: Browser, server_url: str, width: int, tmp_path: Path
) -> None:
    errors: list[str] = []
    seattle = Store.objects.get(brand=demo, code="NW-SEA")

    page = log_in_browser(
        browser,
        server_url,
        "agnes",
        viewport={"width": width, "height": 900},
        locale="en-US",
        timeout_ms=WAIT_MS,
        accept_downloads=True,
        watch=console_errors(errors),
    )

    # She lands on the reports.
    assert page.url.rstrip("/").endswith("/reports")
    expect(page.locator("h1")).to_contain_text("Reports")
    # She picks the last 7 days and the Seattle store.
    page.select_option("select[name=period]", "7d")
    page.select_option("select[name=store]", str(seattle.pk))
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(lambda url: f"store={seattle.pk}" in url and "period=7d" in url)
    # The charts and the tables they draw are there, with the query layer's figures.
    expect(page.locator("svg.chart")).to_have_count(5)
    zone = ZoneInfo(demo.time_zone)
    first, last = presets(timezone.now().astimezone(zone).date())["7d"]
    report = build_report(
        Scope(
            brand_id=demo.pk,
            period=Period(first, last, zone),
            stores=frozenset({seattle.pk}),
        )
    )
    assert report.summary.volumes.received > 0, "seed_demo gives the reports a history"
    cards = page.locator(".cards .card .value")
    expect(cards.first).to_have_text(str(report.summary.volumes.received))
    groups = page.locator("table.groups")
    expect(groups).to_be_visible()
    expect(groups.locator("tfoot td").first).to_have_text(str(report.summary.volumes.received))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reports-{width}.png"), full_page=True)
    # Nothing scrolls sideways, even on a phone.
    seen = sideways(page)
    assert seen["scroll"] <= seen["width"], seen
    # The XLSX download holds the same figures.
    with page.expect_download() as download_info:
        page.locator("nav.exports a", has_text="XLSX").first.click()
    saved = tmp_path / "report.xlsx"
    download_info.value.save_as(saved)
    workbook = load_workbook(saved, read_only=True)
    values = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    ]
    assert report.summary.volumes.received in values
    assert report.summary.volumes.answered in values
    assert errors == []
