"""Told without watching (notify.js): a volunteer who clicked "Notify me" gets one browser
notification, a beep and a count in the tab title when a question is offered to them and
when a reply of theirs is rejected; the browser's permission is asked only after the click.

``window.Notification`` is a spy installed before the page's scripts run (it records what
would be shown and defers the permission to the browser's, which the context grants), and
so is ``AudioContext.createOscillator`` (one oscillator per beep)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from io import StringIO
from typing import Any, TypeVar

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, Page, ViewportSize, expect

from charter.models import ReviewPolicy
from helpdesk.models import Brand, Question
from helpdesk.replies import submit_reply
from helpdesk.replies.review import reject_reply
from helpdesk.states import QuestionState
from helpdesk.views.inbox import inbox_title
from routing.claims import claim_question
from routing.models import Placement, RoutingSettings
from routing.presence import start_shift
from tests import waiting
from tests.demo.sandbox_traffic import deliver
from tests.people import log_in_browser

T = TypeVar("T")

# What the browser shows and how keys move in it does not depend on the database: CI runs
# these in its embedded pass only (the PostgreSQL pass keeps the desk-flow and layout tests).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.backend_neutral]

DESK: ViewportSize = {"width": 1280, "height": 900}

SPY = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.__asked = 0;
  window.__beeps = 0;
  class SpyNotification {
    constructor(title, options) {
      window.__notes.push({ title: title, body: (options || {}).body, tag: (options || {}).tag });
    }
    close() {}
    static get permission() { return Real ? Real.permission : "granted"; }
    static requestPermission(callback) {
      window.__asked += 1;
      const asked = Real ? Real.requestPermission() : Promise.resolve("granted");
      return asked.then((answer) => { if (callback) callback(answer); return answer; });
    }
  }
  window.Notification = SpyNotification;
  if (window.AudioContext) {
    const oscillator = window.AudioContext.prototype.createOscillator;
    window.AudioContext.prototype.createOscillator = function () {
      window.__beeps += 1;
      return oscillator.call(this);
    };
  }
})();
"""


@pytest.fixture
def offering_desk(server_url: str, live_settings: Any) -> Brand:
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    routing, _ = RoutingSettings.objects.get_or_create(brand=brand)
    routing.default_placement = Placement.OFFER
    routing.save()
    # Every certified reply sampled for review, so Alice's can be rejected.
    ReviewPolicy.objects.update_or_create(brand=brand, defaults={"certified_sample_rate": 1.0})
    start_shift(User.objects.get(username="alice"), brand.pk)
    return brand


def off_the_browser_thread(action: Callable[[], T]) -> T:
    """Run a desk action in a thread of its own: Playwright keeps an event loop in the
    test's thread, where announcing on the channel layer (async_to_sync) is refused."""
    done: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            done.append(action())
        except BaseException as error:  # handed back to the test
            failed.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if failed:
        raise failed[0]
    return done[0]


def notes_shown(page: Page, count: int) -> None:
    # Polled from here: the desk's Content-Security-Policy refuses wait_for_function's eval.
    waiting.wait_for(
        f"{count} notifications",
        lambda: page.evaluate("window.__notes.length") >= count or None,
        15,
    )


def spied(page: Page) -> None:
    page.add_init_script(SPY)


def test_offer_and_rejection_each_notify_once_with_the_count_in_the_title(
    offering_desk: Brand, browser: Browser, server_url: str
) -> None:
    # Given Alice on shift, on a desk page (the notifications work on every one), who
    # allows notifications after clicking "Notify me"
    alice = log_in_browser(browser, server_url, "alice", viewport=DESK, watch=spied)
    alice.context.grant_permissions(["notifications"], origin=server_url)
    sockets = count_queue_sockets(alice)
    alice.goto("/desk/my-feedback/")
    title = alice.title()
    notify = alice.get_by_role("button", name="Notify me")
    expect(notify).to_be_visible()
    assert alice.evaluate("window.__asked") == 0  # nobody asked before the click
    notify.click()
    expect(alice.get_by_role("button", name="Notifications on")).to_have_attribute(
        "aria-pressed", "true"
    )
    assert alice.evaluate("window.__asked") == 1
    # Its socket is live before anything happens (a frame it would miss is not replayed).
    alice.wait_for_timeout(1500)
    assert len(sockets) == 1, sockets  # no queue.js on this page: notify.js's own

    # When a customer asks something in her skills, which routing offers to her
    result = off_the_browser_thread(
        lambda: deliver(offering_desk, [("en", "{handle} my order never arrived, can you check?")])
    )
    question = Question.objects.select_related("customer").get(pk__in=result.question_ids)
    assert question.offered_to is not None and question.offered_to.username == "alice"

    # Then one notification, a beep, and (1) in the title
    notes_shown(alice, 1)
    expect(alice).to_have_title(f"(1) {title}")
    alice.wait_for_timeout(500)  # no second one for the same offer
    notes = alice.evaluate("window.__notes")
    assert [note["body"] for note in notes] == ["A question is offered to you."]
    assert alice.evaluate("window.__beeps") == 1

    # When she answers it and the supervisor rejects the reply
    alice_user = User.objects.get(username="alice")
    handle = question.customer.username if question.customer else ""

    def answer_and_reject() -> None:
        assert claim_question(question.pk, alice_user).won
        reply = submit_reply(
            question,
            alice_user,
            f"@{handle} Sorry about that! Please DM us your order number and we will look. ^AM",
            language="en",
        )
        assert Question.objects.get(pk=question.pk).state == QuestionState.IN_REVIEW
        reject_reply(reply, by=User.objects.get(username="sam"), feedback="Say who looks.")

    off_the_browser_thread(answer_and_reject)

    # Then a second notification and (2) in the title, and nothing of the tweet in either
    notes_shown(alice, 2)
    expect(alice).to_have_title(f"(2) {title}")
    alice.wait_for_timeout(500)
    notes = alice.evaluate("window.__notes")
    assert [note["body"] for note in notes] == [
        "A question is offered to you.",
        "A reply of yours was rejected: see the feedback.",
    ]
    assert all("order never arrived" not in str(note) for note in notes)
    assert alice.evaluate("window.__beeps") == 2

    # And once she is back at the page, the count goes
    alice.keyboard.press("Shift")
    expect(alice).to_have_title(title)


def count_queue_sockets(page: Page) -> list[str]:
    """The page's websockets to /ws/queue/ from the next page on, as they open (the page
    the login landed on is left first: its own sockets are not counted)."""
    page.goto("about:blank")
    page.wait_for_timeout(300)
    sockets: list[str] = []
    page.on(
        "websocket",
        lambda socket: sockets.append(socket.url) if socket.url.endswith("/ws/queue/") else None,
    )
    return sockets


def test_on_the_inbox_one_socket_serves_the_queue_and_the_notifications(
    offering_desk: Brand, browser: Browser, server_url: str
) -> None:
    # Given Alice on shift in the inbox, notifications allowed, its websockets counted
    alice = log_in_browser(browser, server_url, "alice", viewport=DESK, watch=spied)
    alice.context.grant_permissions(["notifications"], origin=server_url)
    sockets = count_queue_sockets(alice)
    alice.goto("/queue/")
    expect(alice.locator("#queue-status")).to_have_text("Live.")
    alice.get_by_role("button", name="Notify me").click()
    expect(alice.get_by_role("button", name="Notifications on")).to_be_visible()
    alice.wait_for_timeout(1500)  # time enough for a second socket, were there one

    # Then the inbox and notify.js share one socket
    assert len(sockets) == 1, sockets

    # When a question is offered to her
    result = off_the_browser_thread(
        lambda: deliver(offering_desk, [("en", "{handle} my order never arrived, can you check?")])
    )
    question = Question.objects.get(pk__in=result.question_ids)
    assert question.offered_to is not None and question.offered_to.username == "alice"

    # Then one notification, a beep and (1) before the queue's title, heard on that socket
    notes_shown(alice, 1)
    expect(alice).to_have_title("(1) Queue · Helpforce")
    assert [note["body"] for note in alice.evaluate("window.__notes")] == [
        "A question is offered to you."
    ]
    assert alice.evaluate("window.__beeps") == 1

    # And when the pane opens the question in place (no key pressed: the count stays),
    # the title names it, the count still before it
    alice.evaluate(
        "(id) => htmx.ajax('GET', '/queue/' + id + '/', {target: '#pane', swap: 'innerHTML'})",
        question.pk,
    )
    expect(alice.locator(f'#pane [data-pane-question="{question.pk}"]')).to_be_attached()
    expect(alice).to_have_title(f"(1) {inbox_title(question)} · Helpforce")
    assert len(sockets) == 1, sockets
    alice.keyboard.press("Shift")
    expect(alice).to_have_title(f"{inbox_title(question)} · Helpforce")
    alice.context.close()
