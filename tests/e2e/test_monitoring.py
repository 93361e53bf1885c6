"""The live monitoring page in Chromium, on the running desk and its X sandbox: a question
tweeted at the brand changes the queue count without a reload within 2 seconds of reaching
the desk, and a reply sent changes the send figures."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Browser, expect

from charter.models import ReviewPolicy
from helpdesk.management.commands.demo import EmbeddedDesk, start_embedded_desk
from helpdesk.models import Brand, Question, Reply
from helpdesk.replies.submit import submit_reply
from helpdesk.states import ReplyState
from routing.claims import claim_question
from routing.presence import start_shift
from tests.e2e.conftest import off_the_browser_loop
from tests.e2e.test_desk_flow import DESK, WAIT_MS, Sandbox, wait_for
from tests.people import log_in_browser

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_MS = 2_000  # the promise: the page follows the desk within 2 seconds


@pytest.fixture
def desk(server_url: str, monkeypatch: pytest.MonkeyPatch, live_settings: Any) -> Any:
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    # No sampled review: Alice's reply goes straight out. The demo has no policy row yet (the
    # defaults sample 10 % of certified replies), so an update of it would change nothing.
    ReviewPolicy.objects.update_or_create(
        brand=brand, defaults={"certified_sample_rate": 0.0, "mentor_sample_rate": 0.0}
    )
    start_shift(User.objects.get(username="alice"), brand.pk)
    monkeypatch.delenv("X_API_BASE_URL", raising=False)
    running = start_embedded_desk(sandbox_port=0, rate=0.0, poll_interval=0.3, seed=1)
    try:
        yield running
    finally:
        running.stop()


def alice_answers(question: Question) -> Reply:
    alice = User.objects.get(username="alice")
    assert claim_question(question.pk, alice).won
    return submit_reply(
        question,
        alice,
        "@rosa_buys Sorry! Send us a DM with your order number. ^AM",
        language="en",
    )


def test_the_page_follows_the_desk_without_a_reload(
    desk: EmbeddedDesk, browser: Browser, server_url: str
) -> None:
    sandbox = Sandbox(desk)
    sandbox.customer("rosa_buys", "Rosa Buys")
    agnes = log_in_browser(browser, server_url, "agnes", viewport=DESK, timeout_ms=WAIT_MS)
    agnes.goto("/monitoring/")
    expect(agnes.locator("#monitor-status")).to_contain_text("Live")
    waiting = agnes.locator('[data-figure="waiting"]')
    before = int(waiting.inner_text())
    agnes.evaluate("window.notReloaded = true")

    tweet = sandbox.tweet("rosa_buys", "@NorthwindHelp my order never arrived, can you help?")
    question = wait_for("the question", lambda: Question.objects.filter(tweet_id=tweet).first())
    expect(waiting).to_have_text(str(before + 1), timeout=LIVE_MS)
    assert agnes.evaluate("window.notReloaded") is True

    # Alice answers it; once X has it, the send figures move.
    account = agnes.locator('tr[data-account="NorthwindHelp"]')
    allowance = account.locator('[data-figure="allowance-left"]')
    left_before = int(allowance.inner_text().split()[0])
    spend_today = agnes.locator('[data-figure="spend-today"]')
    spend_before = spend_today.inner_text()
    reply = off_the_browser_loop(lambda: alice_answers(question))
    assert reply.state == ReplyState.QUEUED, reply.review_reasons
    wait_for(
        "the reply sent",
        lambda: Reply.objects.filter(pk=reply.pk, state="sent").first(),
        timeout=30,
    )
    expect(allowance).to_contain_text(f"{left_before - 1} of", timeout=LIVE_MS)
    expect(spend_today).not_to_have_text(spend_before, timeout=LIVE_MS)  # a post is billed
    expect(agnes.locator('[data-figure="waiting"]')).to_have_text(str(before), timeout=LIVE_MS)
    expect(agnes.locator(".card", has_text="First response")).to_contain_text("1 question answered")
    assert agnes.evaluate("window.notReloaded") is True
