"""axe-core (tests/e2e/vendor, test-only) on the pages people work in all day: the queue as
a volunteer, the review queue as a supervisor and the reports as agency staff. None may have
a contrast failure or a control without a name (the label-type rules below)."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, Page, ViewportSize, expect

from charter.models import ReviewPolicy
from helpdesk.models import Brand, Question
from helpdesk.replies import submit_reply
from helpdesk.reports.demo_history import make_history
from routing.claims import claim_question
from routing.presence import start_shift
from tests.demo.sandbox_traffic import deliver, sandbox_first_messages
from tests.people import log_in_browser

# What the browser shows and how keys move in it does not depend on the database: CI runs
# these in its embedded pass only (the PostgreSQL pass keeps the desk-flow and layout tests).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.backend_neutral]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
RULES = [
    "color-contrast",
    "label",
    "button-name",
    "link-name",
    "select-name",
    "image-alt",
    "aria-input-field-name",
]
DESK: ViewportSize = {"width": 1280, "height": 900}


@pytest.fixture
def busy_desk(server_url: str, live_settings: Any) -> Brand:
    """The demo brand with a few weeks of history, questions in the queue, and one reply of
    Alice's waiting for review; set up off the browser's thread (see test_notify)."""
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    make_history(brand, days=21, per_day=40)
    ReviewPolicy.objects.update_or_create(brand=brand, defaults={"certified_sample_rate": 1.0})
    alice = User.objects.get(username="alice")
    start_shift(alice, brand.pk)
    result = deliver(brand, sandbox_first_messages()[:40:4] + sandbox_first_messages()[-3:])
    mine = Question.objects.filter(pk__in=result.question_ids, topic__slug="account").first()
    assert mine is not None and claim_question(mine.pk, alice).won
    submit_reply(mine, alice, "@someone Please DM us and we will look. ^AM", language="en")
    connections.close_all()
    return brand


def violations(
    browser: Browser,
    server_url: str,
    username: str,
    path: str,
    then: Callable[[Page], None] | None = None,
) -> list[str]:
    page = log_in_browser(browser, server_url, username, viewport=DESK)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    if then is not None:
        then(page)
    page.evaluate(AXE)  # through the debugger, which the page's script policy does not bind
    results: dict[str, Any] = page.evaluate(
        "(rules) => axe.run(document, {runOnly: {type: 'rule', values: rules}}).then((r) => ({"
        "violations: r.violations, passes: r.passes.map((p) => [p.id, p.nodes.length]),"
        "incomplete: r.incomplete.map((p) => [p.id, p.nodes.map((n) => n.target)])}))",
        RULES,
    )
    page.context.close()
    checked = dict(results["passes"])
    print(path, "checked:", checked, "incomplete:", results["incomplete"])
    # axe did look: the page's buttons and links passed its naming rules.
    assert checked.get("button-name", 0) + checked.get("link-name", 0) > 0
    found: list[dict[str, Any]] = results["violations"]
    return [
        f"{path} {v['id']}: {node['target']} {node.get('failureSummary', '')[:160]!r}"
        for v in found
        for node in v["nodes"]
    ]


@pytest.mark.parametrize(
    ("username", "path"),
    [
        pytest.param("alice", "/queue/", id="inbox"),
        pytest.param("sam", "/desk/review/", id="review"),
        pytest.param("sam", "/desk/triage/", id="triage"),
        pytest.param("agnes", "/reports/", id="reports"),
    ],
)
def test_no_contrast_or_unnamed_control_failures(
    busy_desk: Brand, browser: Browser, server_url: str, username: str, path: str
) -> None:
    found = violations(browser, server_url, username, path)
    print("\n".join(found))
    assert found == []


def test_the_inbox_with_a_claimed_question_and_a_flagged_draft_has_no_failures(
    busy_desk: Brand, browser: Browser, server_url: str
) -> None:
    def claim_and_draft(page: Page) -> None:
        page.keyboard.press("j")
        page.keyboard.press("c")
        expect(page.locator("#reply-text")).to_be_focused()
        page.keyboard.type("It is $199 this week, see northwind.example/soundbar")
        expect(page.locator("#lint .findings")).to_be_visible()

    found = violations(browser, server_url, "alice", "/queue/", then=claim_and_draft)
    print("\n".join(found))
    assert found == []
