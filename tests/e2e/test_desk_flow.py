"""The live desk in a real browser: the running ASGI server, the X sandbox and its ticker,
and two volunteers, a trainee and a supervisor in Chromium.

Given the demo brand seeded and its people on shift, when customers tweet at @NorthwindHelp:
two volunteers see the question appear without reloading and race to claim it (one wins,
the other is told who did); a trainee's reply goes to review, the supervisor approves it and
the sandbox receives exactly that one reply; the customer's follow-up goes back to the trainee.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from helpdesk.management.commands.demo import EmbeddedDesk, start_embedded_desk
from helpdesk.models import Brand, Question, Reply
from helpdesk.states import ReplyState
from routing.models import Placement, RoutingSettings
from routing.presence import start_shift
from tests import waiting
from tests.people import log_in_browser

T = TypeVar("T")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT_MS = 15_000
WAIT_S = WAIT_MS / 1000
DESK: ViewportSize = {"width": 1280, "height": 900}


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT_S) -> T:
    return waiting.wait_for(what, probe, timeout)


@pytest.fixture
def desk(server_url: str, monkeypatch: pytest.MonkeyPatch, live_settings: Any) -> Any:
    # The live desk alone: the reports' months of history would fill the queue.
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    routing, _ = RoutingSettings.objects.get_or_create(brand=brand)
    routing.default_placement = Placement.STICKY
    routing.save()
    for name in ("alice", "bruno", "dev"):
        start_shift(User.objects.get(username=name), brand.pk)
    monkeypatch.delenv("X_API_BASE_URL", raising=False)
    running = start_embedded_desk(sandbox_port=0, rate=0.0, poll_interval=0.3, seed=1)
    try:
        yield running
    finally:
        running.stop()


class Rounds:
    """The outbox's dispatch task, counting the rounds the embedded desk's ticker finished
    (it looks the task up by name every round)."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self.finished = 0

    def __call__(self) -> Any:
        try:
            return self.task()
        finally:
            self.finished += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.task, name)


@pytest.fixture
def dispatch_rounds(monkeypatch: pytest.MonkeyPatch) -> Rounds:
    import helpdesk.tasks

    rounds = Rounds(helpdesk.tasks.dispatch_outbox)
    monkeypatch.setattr(helpdesk.tasks, "dispatch_outbox", rounds)
    return rounds


class Sandbox:
    def __init__(self, desk: EmbeddedDesk) -> None:
        self.base = desk.sandbox_url.rstrip("/")

    def customer(self, username: str, name: str) -> None:
        response = requests.post(
            f"{self.base}/_sandbox/users", json={"username": username, "name": name}, timeout=5
        )
        assert response.status_code == 201, response.text

    def tweet(self, author: str, text: str, in_reply_to: str = "") -> str:
        item = {"author_username": author, "text": text}
        if in_reply_to:
            item["in_reply_to_tweet_id"] = in_reply_to
        response = requests.post(f"{self.base}/_sandbox/tweets", json={"tweets": [item]}, timeout=5)
        assert response.status_code == 201, response.text
        tweet_id: str = response.json()["ids"][0]
        return tweet_id

    def tweets(self, **query: str) -> list[dict[str, Any]]:
        response = requests.get(f"{self.base}/_sandbox/tweets", params=query, timeout=5)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


def open_live_queue(page: Page) -> None:
    page.goto("/queue/")
    expect(page.locator("#queue-status")).to_have_text("Live.")


def row(page: Page, question: Question) -> Locator:
    return page.locator(f'#queue [data-question-id="{question.pk}"]')


def test_live_desk_from_tweet_to_reply_and_back(
    desk: EmbeddedDesk,
    browser: Browser,
    server_url: str,
    artifacts: Path,
    dispatch_rounds: Rounds,
) -> None:
    sandbox = Sandbox(desk)
    sandbox.customer("rosa_buys", "Rosa Buys")
    sandbox.customer("tomas_k", "Tomas K")
    alice = log_in_browser(browser, server_url, "alice", viewport=DESK, timeout_ms=WAIT_MS)
    bruno = log_in_browser(browser, server_url, "bruno", viewport=DESK, timeout_ms=WAIT_MS)
    open_live_queue(alice)
    open_live_queue(bruno)

    # Two volunteers see the same new question appear without reloading.
    first_tweet = sandbox.tweet("rosa_buys", "@NorthwindHelp my order never arrived, can you help?")
    first = wait_for(
        "the first question", lambda: Question.objects.filter(tweet_id=first_tweet).first()
    )
    expect(row(alice, first)).to_be_visible()
    expect(row(bruno, first)).to_be_visible()
    expect(row(alice, first)).to_contain_text("my order never arrived")
    alice.screenshot(path=str(artifacts / "queue.png"), full_page=True)

    # Both claim at the same instant: one wins, the other is told who did.
    fire_at = int(time.time() * 1000) + 600
    arm = (
        "([id, at]) => setTimeout(() => document.querySelector("
        '`#queue [data-question-id="${id}"] button[data-claim]`).click(), at - Date.now())'
    )
    for page in (alice, bruno):
        expect(row(page, first).locator("button[data-claim]")).to_be_visible()
        page.evaluate(arm, [first.pk, fire_at])
    wait_for(
        "the claim", lambda: Question.objects.filter(pk=first.pk, claimed_by__isnull=False).first()
    )
    first.refresh_from_db()
    assert first.claimed_by is not None
    winner_name = first.claimed_by.username
    assert winner_name in ("alice", "bruno")
    winner, loser = (alice, bruno) if winner_name == "alice" else (bruno, alice)
    holder = "Alice Moreau" if winner_name == "alice" else "Bruno Silva"
    expect(winner.locator("#queue-status")).to_have_text("You have it.")
    expect(loser.locator("#queue-status")).to_contain_text(f"Already claimed by {holder}")
    expect(row(loser, first)).to_have_count(0)

    # A trainee claims a second question and writes a reply with something the rules flag.
    dev = log_in_browser(browser, server_url, "dev", viewport=DESK, timeout_ms=WAIT_MS)
    open_live_queue(dev)
    second_tweet = sandbox.tweet("tomas_k", "@NorthwindHelp how much is the soundbar in store?")
    second = wait_for(
        "the second question", lambda: Question.objects.filter(tweet_id=second_tweet).first()
    )
    expect(row(dev, second)).to_be_visible()
    dev.goto(f"/desk/questions/{second.pk}/")
    dev.locator(f'form[action="/desk/questions/{second.pk}/claim/"] button').click()
    dev.wait_for_url(f"**/desk/questions/{second.pk}/compose/")
    draft = dev.locator("#reply-text")
    expect(draft).to_have_value("@tomas_k  ^DP")
    draft.fill("@tomas_k It is $199 this week, see northwind.example/soundbar ^DP")
    dev.locator("button[name=action][value=check]").click()
    expect(dev.locator("#lint .findings")).to_contain_text("quotes a price")
    expect(dev.locator("#lint mark", has_text="$199")).to_be_visible()
    expect(dev.locator("#lint .next")).to_contain_text("goes to a supervisor for review")
    dev.screenshot(path=str(artifacts / "composer.png"), full_page=True)
    dev.locator("button[name=action][value=submit]").click()
    dev.wait_for_url(f"**/desk/questions/{second.pk}/")
    expect(dev.get_by_text("Your reply went to a supervisor for review")).to_be_visible()
    reply = Reply.objects.get(question=second)
    assert reply.state == ReplyState.PENDING_REVIEW
    assert sandbox.tweets(author="NorthwindHelp") == []

    # The supervisor approves it; the ticker sends exactly one reply, to the right tweet.
    sam = log_in_browser(browser, server_url, "sam", viewport=DESK, timeout_ms=WAIT_MS)
    sam.goto("/desk/review/")
    card = sam.locator(f"#reply-{reply.pk}")
    expect(card).to_contain_text("Dev Patel")
    expect(card).to_contain_text("$199 this week")
    sam.screenshot(path=str(artifacts / "review.png"), full_page=True)
    card.locator("form[action$='/approve/'] button", has_text="Approve").first.click()
    expect(sam.get_by_text("Reply approved")).to_be_visible()

    sent = wait_for(
        "the reply in the sandbox",
        lambda: sandbox.tweets(author="NorthwindHelp", in_reply_to=second_tweet),
        timeout=30,
    )
    wait_for(
        "the reply marked sent",
        lambda: Reply.objects.filter(pk=reply.pk, state=ReplyState.SENT).exists(),
    )
    seen = dispatch_rounds.finished
    # A whole dispatch round after that (the one running then may have begun before): still one.
    wait_for("a dispatch round more", lambda: dispatch_rounds.finished >= seen + 2)
    sent = sandbox.tweets(author="NorthwindHelp", in_reply_to=second_tweet)
    assert len(sent) == 1
    assert sent[0]["text"] == "@tomas_k It is $199 this week, see northwind.example/soundbar ^DP"
    assert sent[0]["referenced_tweets"] == [{"type": "replied_to", "id": second_tweet}]
    assert sent[0]["conversation_id"] == second_tweet
    assert (sent[0]["author_username"], sent[0]["author_id"]) == (
        "NorthwindHelp",
        "1600000000000000001",
    )
    assert sent[0]["via_api"] is True
    assert sandbox.tweets(author="NorthwindHelp") == sent
    reply.refresh_from_db()
    assert (reply.state, reply.tweet_id) == (ReplyState.SENT, sent[0]["id"])

    # The customer's follow-up comes back to the same volunteer.
    follow_tweet = sandbox.tweet(
        "tomas_k", "@NorthwindHelp thanks! is it in stock in Seattle?", in_reply_to=sent[0]["id"]
    )
    follow = wait_for(
        "the follow-up", lambda: Question.objects.filter(tweet_id=follow_tweet).first()
    )
    assert follow.conversation_id == second.conversation_id
    assert follow.offered_to is not None and follow.offered_to.username == "dev"
    open_live_queue(dev)
    expect(row(dev, follow)).to_be_visible()
    expect(row(dev, follow)).to_contain_text("in stock in Seattle")

    for name in ("queue.png", "composer.png", "review.png"):
        assert (artifacts / name).stat().st_size > 0, name
