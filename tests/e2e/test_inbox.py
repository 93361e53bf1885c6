"""Issue 14's inbox in a real browser: answering a question from the queue without leaving it.

Given the demo brand with a queue of questions and a certified volunteer whose replies go
straight out (no sampled review), when she answers the first question with the keyboard
alone, then no page loads after the queue's own, and it takes at most 5 keys besides the
reply's words, on a desk screen and on a phone (where each key changes the view at most
once). At 1,280 x 800 a dozen questions show without scrolling. Screenshots of the inbox with
a claimed question and a draft the rules flag, on both screens, in English and French.

The figures are written to ``ARTIFACTS/inbox-counts-<screen>.json`` and printed; they are
recorded in docs/benchmarks.md ("Answering flow (issue 14)").
"""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, ViewportSize, expect

from charter.models import ReviewPolicy
from helpdesk.models import Brand, Question, Reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.views.inbox import inbox_title
from routing.presence import start_shift
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_layout_and_keyboard import ingest, user
from tests.people import log_in_browser

# What the browser shows and how keys move in it does not depend on the database: CI runs
# these in its embedded pass only (the PostgreSQL pass keeps the desk-flow and layout tests).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.backend_neutral]

WAIT_MS = 15_000
PHONE: ViewportSize = {"width": 375, "height": 740}
DESK: ViewportSize = {"width": 1280, "height": 800}
KEY_BUDGET = 5
WORDS = "Sorry for the wait, it usually ships in about two days."

# Counts what the person sees change: full page loads (the load event fires only on those,
# not on the inbox's pushState), and the inbox's view on a phone (list or question).
WATCH = """
window.viewChanges = 0;
document.addEventListener("DOMContentLoaded", () => {
  const inbox = document.getElementById("inbox");
  if (!inbox) { return; }
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.oldValue !== inbox.getAttribute("data-view")) { window.viewChanges += 1; }
    }
  }).observe(inbox, { attributes: true, attributeFilter: ["data-view"], attributeOldValue: true });
});
"""


@pytest.fixture
def queue_of_questions(server_url: str) -> list[Question]:
    """The demo brand without sampled review, Alice (certified) on shift, and 14 questions
    waiting for her."""
    # The live desk alone: the reports' months of history would fill the queue.
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    # No sampled review: Alice's reply goes straight out (the demo samples certified replies).
    ReviewPolicy.objects.filter(brand=brand).update(
        certified_sample_rate=0.0, mentor_sample_rate=0.0
    )
    start_shift(user("alice"), brand.pk)
    return ingest(
        brand,
        [
            (f"customer_{n}", f"Customer {n}", f"@NorthwindHelp where is my order number {n}?")
            for n in range(14)
        ],
    )


class Person:
    """Someone at the keyboard whose keys are counted (the reply's own words are not)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.keys: list[str] = []
        self.loads = 0
        self.view_changes: list[int] = []
        page.on("load", self._loaded)

    def _loaded(self, _page: Page) -> None:
        self.loads += 1

    def view(self) -> str:
        value = self.page.locator("#inbox").get_attribute("data-view")
        return value or ""

    def press(self, key: str, then: Any) -> None:
        """Press ``key``, wait for ``then`` (a callable), and note how often the view changed."""
        before: int = self.page.evaluate("() => window.viewChanges")
        self.keys.append(key)
        self.page.keyboard.press(key)
        then()
        self.view_changes.append(self.page.evaluate("() => window.viewChanges") - before)

    def type(self, text: str) -> None:
        before: int = self.page.evaluate("() => window.viewChanges")
        self.page.keyboard.type(text)
        self.view_changes.append(self.page.evaluate("() => window.viewChanges") - before)


def count_views(page: Page) -> None:
    page.add_init_script(WATCH)


def open_inbox(browser: Browser, server_url: str, viewport: ViewportSize, locale: str) -> Page:
    page = log_in_browser(
        browser,
        server_url,
        "alice",
        viewport=viewport,
        locale=locale,
        timeout_ms=WAIT_MS,
        watch=count_views,
    )
    page.goto("/queue/")
    expect(page.locator("#queue [data-question-id]").first).to_be_visible()
    return page


def row_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "#queue [data-question-id]", "(rows) => rows.map((r) => r.dataset.questionId)"
    )
    return ids


def focused_row(page: Page) -> str | None:
    value: str | None = page.evaluate(
        "() => document.activeElement && document.activeElement.getAttribute('data-question-id')"
    )
    return value


@pytest.mark.parametrize(("viewport", "screen"), [(DESK, "desk"), (PHONE, "phone")])
def test_a_reply_from_the_queue_in_a_few_keys_and_no_page_load(
    queue_of_questions: list[Question],
    browser: Browser,
    server_url: str,
    viewport: ViewportSize,
    screen: str,
) -> None:
    # Given Alice on the queue page, logged in, with the list live
    page = open_inbox(browser, server_url, viewport, "en-US")
    expect(page.locator("#queue-status")).to_have_text("Live.")
    person = Person(page)
    page.evaluate("() => { window.notReloaded = true; }")
    first, second = row_ids(page)[:2]
    assert person.view() == "list"

    # When she moves to the first question, claims it, writes and submits, keys only
    first_pane = page.locator(f'#pane [data-pane-question="{first}"]')
    person.press("j", lambda: expect(first_pane).to_be_visible())
    person.press("c", lambda: expect(page.locator("#reply-text")).to_be_focused())
    person.type(WORDS)
    person.press(
        "Control+Enter", lambda: expect(page.locator("#pane [data-just-sent]")).to_have_count(1)
    )

    # Then the reply is accepted for sending, as the default draft plus her words
    question = Question.objects.get(pk=first)
    reply = Reply.objects.get(question=question)
    handle = question.customer.username if question.customer else ""
    assert reply.text == f"@{handle} {WORDS} ^AM"
    assert reply.state in (ReplyState.QUEUED, ReplyState.SENT), reply.state
    assert reply.author_id == user("alice").pk
    # with no page load after the queue's own, in at most 5 keys
    loads, keys, changes = person.loads, list(person.keys), list(person.view_changes)
    assert loads == 0
    assert page.evaluate("() => window.notReloaded === true")
    assert len(person.keys) <= KEY_BUDGET, person.keys
    # and on a phone, each step changed the view at most once (list -> question -> list)
    assert all(changes <= 1 for changes in person.view_changes), person.view_changes
    assert page.url.endswith(f"/queue/{first}/")

    # And the next question is one key away: the focus is on it, and c claims it
    expect(page.locator(f'#queue [data-question-id="{second}"]')).to_be_focused()
    assert person.view() == "list" or screen == "desk"
    person.press("c", lambda: expect(page.locator("#reply-text")).to_be_focused())
    expect(page.locator(f'#pane [data-pane-question="{second}"]')).to_be_visible()
    assert Question.objects.get(pk=second).state == QuestionState.CLAIMED
    assert person.loads == 0

    # Reload and Back work on the inbox's addresses
    page.reload()
    expect(page.locator(f'#pane [data-pane-question="{second}"]')).to_be_visible()
    page.go_back()
    expect(page.locator(f'#pane [data-pane-question="{first}"]')).to_be_visible()
    # from the server, not from a copy of the customers' words kept in the browser
    assert page.evaluate("() => localStorage.getItem('htmx-history-cache')") is None

    figures = {
        "screen": screen,
        "viewport": viewport,
        "full_page_loads_after_the_queue": loads,
        "keys_besides_the_reply": len(keys),
        "keys": keys,
        "view_changes_per_step": changes,
        "keys_to_claim_the_next_question": len(person.keys) - len(keys),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"inbox-counts-{screen}.json").write_text(json.dumps(figures))
    print(json.dumps(figures))
    page.context.close()


def test_a_dozen_questions_show_without_scrolling_at_1280_by_800(
    queue_of_questions: list[Question], browser: Browser, server_url: str
) -> None:
    page = open_inbox(browser, server_url, DESK, "en-US")
    expect(page.locator("#queue-status")).to_have_text("Live.")  # every line of the list's head

    # Inside the viewport and inside the list's own scrolling box (not hidden under it)
    seen: list[bool] = page.eval_on_selector_all(
        "#queue [data-question-id]",
        """(rows) => {
          const list = document.querySelector(".inbox-list").getBoundingClientRect();
          return rows.map((r) => {
            const b = r.getBoundingClientRect();
            return b.height > 0 && b.top >= Math.max(0, list.top) && b.left >= 0
              && b.bottom <= Math.min(window.innerHeight, list.bottom)
              && b.right <= window.innerWidth;
          });
        }""",
    )
    inside = [row for row in seen if row]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-queue-1280x800.png"))
    assert page.evaluate("() => window.scrollY") == 0
    assert len(inside) >= 12, seen
    print(json.dumps({"questions_visible_at_1280x800": len(inside)}))
    page.context.close()


@pytest.mark.parametrize(
    ("viewport", "screen", "locale", "lang"),
    [
        (DESK, "desk", "en-US", "en"),
        (DESK, "desk", "fr-FR", "fr"),
        (PHONE, "phone", "en-US", "en"),
        (PHONE, "phone", "fr-FR", "fr"),
    ],
    ids=["desk-en", "desk-fr", "phone-en", "phone-fr"],
)
def test_screenshots_of_a_claimed_question_with_a_flagged_draft(
    queue_of_questions: list[Question],
    browser: Browser,
    server_url: str,
    viewport: ViewportSize,
    screen: str,
    locale: str,
    lang: str,
) -> None:
    shot: Path = ARTIFACTS / f"inbox-{screen}-{lang}.png"
    shot.unlink(missing_ok=True)
    page = open_inbox(browser, server_url, viewport, locale)
    assert page.locator("html").get_attribute("lang") == lang

    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(page.locator("#reply-text")).to_be_focused()
    page.keyboard.type("It is $199 this week, see northwind.example/soundbar")
    expect(page.locator("#lint mark", has_text="$199")).to_be_visible()
    expect(page.locator("#lint .findings")).to_be_visible()
    page.locator("#lint .findings").scroll_into_view_if_needed()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= viewport["width"], width

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=screen == "phone")
    assert shot.stat().st_size > 0
    page.context.close()


def test_the_keys_list_saved_replies_and_typing_never_moves_the_list(
    queue_of_questions: list[Question], browser: Browser, server_url: str
) -> None:
    # Given Alice's inbox on a phone
    page = open_inbox(browser, server_url, PHONE, "en-US")
    first = row_ids(page)[0]

    # When she asks for the keys: an accessible dialog, closed with Escape
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(page.locator("#shortcuts-close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # When she opens and claims the first question, then types letters that are keys
    page.keyboard.press("j")
    page.keyboard.press("c")
    draft = page.locator("#reply-text")
    expect(draft).to_be_focused()
    page.keyboard.type("jkc?")

    # Then they are words of the draft, not moves: same question, same view, no dialog
    expect(draft).to_have_value(f"@customer_{first_customer(first)} jkc? ^AM")
    expect(page.locator(f'#pane [data-pane-question="{first}"]')).to_be_visible()
    expect(dialog).to_be_hidden()
    assert page.locator("#inbox").get_attribute("data-view") == "pane"

    # When she leaves the box, r brings her back to it
    page.keyboard.press("Escape")
    expect(draft).not_to_be_focused()
    page.keyboard.press("r")
    expect(draft).to_be_focused()

    # When she empties the box, leaves it and picks a saved reply by typing (/)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.locator("#saved-filter")).to_be_focused()
    page.keyboard.type("delivery")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")

    # Then the draft is the saved reply filled in for this customer and her, and the focus
    # is back in the draft
    expect(draft).to_be_focused()
    expect(draft).to_have_value(re.compile(r"^@customer_\d+ Standard delivery .* \^AM$"))

    # And Escape twice on a phone goes back to the list, where she was in it (the question
    # she holds has left the queue: the one after it)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(page.locator("#inbox")).to_have_attribute("data-view", "list")
    expect(page.locator(f'#queue [data-question-id="{first}"]')).to_have_count(0)
    expect(page.locator("#queue [data-question-id]").first).to_be_focused()
    assert page.url.endswith("/queue/")
    page.context.close()


def first_customer(question_id: str) -> str:
    question = Question.objects.select_related("customer").get(pk=question_id)
    assert question.customer is not None
    return question.customer.username.removeprefix("customer_")


def test_a_note_and_a_tag_in_the_pane_reach_a_colleague_without_a_page_load(
    queue_of_questions: list[Question], browser: Browser, server_url: str
) -> None:
    # Given Alice and Bruno on shift, each with the first question open in the inbox's pane
    start_shift(user("bruno"), queue_of_questions[0].brand_id)
    first = queue_of_questions[0].pk
    pages: dict[str, Page] = {}
    for name in ("alice", "bruno"):
        page = log_in_browser(
            browser, server_url, name, viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
        )
        page.goto(f"/queue/{first}/")
        expect(page.locator(f'#pane [data-pane-question="{first}"]')).to_be_visible()
        expect(page.locator("#queue-status")).to_have_text("Live.")
        page.evaluate("() => { window.notReloaded = true; }")
        pages[name] = page
    alice, bruno = pages["alice"], pages["bruno"]
    hostile = "<b>call back</b> after 5pm <script>window.ran = 1</script>"

    # When Alice leaves a note and a tag from the pane
    alice.locator("#note-text").fill(hostile)
    alice.locator("[data-note-form] button[type=submit]").click()
    expect(alice.locator("#pane [data-notes] .note .text")).to_have_text(hostile)
    alice.locator("#tag-name").fill("  Refund   request ")
    alice.locator("[data-tag-form] button[type=submit]").click()
    expect(alice.locator("#pane [data-tags] .question-tag")).to_have_text(["Refund request"])

    # Then both are stored once, as written (blank space collapsed in the tag's name)
    question = Question.objects.get(pk=first)
    assert [(n.author_id, n.text) for n in question.notes.all()] == [(user("alice").pk, hostile)]
    assert [t.name for t in question.tags.all()] == ["Refund request"]
    # and Bruno's idle pane shows them, as text, without a page load of his or hers
    expect(bruno.locator("#pane [data-notes] .note .text")).to_have_text(hostile)
    expect(bruno.locator("#pane [data-notes] .note .author")).to_have_text("Alice Moreau")
    expect(bruno.locator("#pane [data-tags] .question-tag")).to_have_text(["Refund request"])
    for page in (alice, bruno):
        assert page.evaluate("() => window.notReloaded === true")
        assert page.evaluate("() => window.ran === undefined")
        assert page.locator("#pane [data-notes] b").count() == 0


@pytest.fixture
def hostile_queue(server_url: str) -> list[Question]:
    """Alice on shift with three questions, the middle one's words and name hostile."""
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    start_shift(user("alice"), brand.pk)
    return ingest(
        brand,
        [
            ("calm_carla", "Carla", "@NorthwindHelp my parcel is late, any news?"),
            (
                "rosa_buys",
                "<b>Rosa</b><img src=x onerror=window.ran=1>",
                "@NorthwindHelp <img src=x onerror=window.ran=1> <b>refund</b> please, it broke",
            ),
            ("tomas_k", "Tomas K", "@NorthwindHelp is my order shipped yet?"),
        ],
    )


def tab_title(question_id: str) -> str:
    """The title the inbox should have with this question open (the server's own words)."""
    return f"{inbox_title(Question.objects.get(pk=question_id))} · Helpforce"


def test_the_title_names_the_open_question_after_keys_swaps_and_a_reload(
    hostile_queue: list[Question], browser: Browser, server_url: str
) -> None:
    # Given Alice with the hostile question open in the inbox, loaded as a whole page
    hostile = str(hostile_queue[1].pk)
    page = log_in_browser(
        browser, server_url, "alice", viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
    )
    page.goto(f"/queue/{hostile}/")
    expect(page.locator(f'#pane [data-pane-question="{hostile}"]')).to_be_visible()
    expect(page.locator("#queue-status")).to_have_text("Live.")
    page.evaluate("() => { window.notReloaded = true; }")

    # Then the server's <title> names it, its tweet as text
    expected = tab_title(hostile)
    assert expected == "@rosa_buys — <img src=x onerror=window.ran=1> <b>ref… · Queue · Helpforce"
    expect(page).to_have_title(expected)
    expect(page.locator("#pane-h .name")).to_have_text(
        "<b>Rosa</b><img src=x onerror=window.ran=1>"
    )

    # When she moves to the next question with the keyboard (htmx swaps the pane in place)
    ids = row_ids(page)
    neighbour = ids[ids.index(hostile) + 1] if ids.index(hostile) + 1 < len(ids) else None
    move, back = ("j", "k") if neighbour else ("k", "j")
    neighbour = neighbour or ids[ids.index(hostile) - 1]
    page.keyboard.press(move)
    expect(page.locator(f'#pane [data-pane-question="{neighbour}"]')).to_be_visible()

    # Then the title names that one; and back on the hostile one, that one again
    expect(page).to_have_title(tab_title(neighbour))
    page.keyboard.press(back)
    expect(page.locator(f'#pane [data-pane-question="{hostile}"]')).to_be_visible()
    expect(page).to_have_title(expected)
    assert page.evaluate("() => window.notReloaded === true")  # no page load on the way

    # And after a reload, the same; back to the list (htmx swaps the empty pane), the queue's
    page.reload()
    expect(page.locator(f'#pane [data-pane-question="{hostile}"]')).to_be_visible()
    expect(page).to_have_title(expected)
    page.set_viewport_size(PHONE)  # where the pane has its "Back to the list" link
    page.locator("#pane a[data-back]").click()
    expect(page.locator("#pane .pane-empty")).to_be_attached()
    expect(page).to_have_title("Queue · Helpforce")
    # and nothing of the customer's ran, nor was drawn as markup, anywhere
    assert page.evaluate("() => window.ran === undefined")
    assert page.locator("#pane-h b, #pane-h img, .thread .text b").count() == 0
    page.context.close()
