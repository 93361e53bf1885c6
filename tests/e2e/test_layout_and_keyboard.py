"""Every page on a phone and on a desk screen, and the desk used with the keyboard alone, in a
real browser (STYLE: "fits a 375 px wide phone without sideways scrolling, and can be used
with the keyboard").

Given the demo brand with hostile-ish tweets in every place a tweet shows (a 200-character
URL, a 200-character word, CJK and emoji without a space), when each person opens each page
they use, in English and in French, then nothing scrolls sideways and every page has its
language and a title. A trainee claims, writes and submits a reply with keys only, and the
supervisor approves it with keys only, seeing where the focus is at every stop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Browser, Page, ViewportSize, expect

from charter.models import TrainingModule
from charter.training.quiz import start_attempt
from helpdesk.enrolment import create_invitation, enrol_employee
from helpdesk.events import EVENTS_LAYER, brand_queue_group, event_frame
from helpdesk.management.commands.seed_demo import DEMO_PASSWORD
from helpdesk.models import AuditEvent, Brand, Question, Reply, Source, Store, Volunteer, XAccount
from helpdesk.replies import reject_reply, submit_reply
from helpdesk.sequence import next_sequence
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_any
from routing.claims import claim_question
from routing.presence import start_shift
from tests.e2e.conftest import ARTIFACTS, off_the_browser_loop
from tests.people import log_in_browser

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAIT_MS = 15_000
PHONE: ViewportSize = {"width": 375, "height": 740}
DESK: ViewportSize = {"width": 1280, "height": 800}

# Hostile-ish text that a layout has to wrap: nothing in these offers a line break.
LONG_URL = "https://northwind.example/track/" + "0123456789abcdef" * 11
LONG_WORD = "Whereismyorder" * 14 + "!!!!"
CJK_EMOJI = (
    "注文した商品が届きません退款怎么办주문취소" * 3
    + "\U0001f600\U0001f469\U0001f3fd\u200d\U0001f4bb\U0001f44d\U0001f3fd\U0001f1eb\U0001f1f7" * 8
)
LONG_NAME = "Maximilianaxavierabernadettebartholomew" * 2  # 78 characters, one word
BASE_ID = 1_950_000_000_000_000_000


@dataclass
class World:
    """The records the pages show; ``fill`` fills the paths in the table of pages."""

    brand: Brand
    fill: dict[str, str] = field(default_factory=dict)


def user(username: str) -> User:
    return User.objects.get(username=username)


def ingest(brand: Brand, tweets: list[tuple[str, str, str]], *, first: int = 1) -> list[Question]:
    """Store ``(handle, name, text)`` tweets to @NorthwindHelp the way the gateway does, and
    return their questions in order. Tweets and authors are numbered from ``first``: a second
    batch in one test starts past the first's."""
    account = XAccount.objects.get(brand=brand, username="NorthwindHelp")
    data, users = [], []
    for n, (handle, name, text) in enumerate(tweets, start=first):
        tweet_id, author_id = str(BASE_ID + n), str(700_000 + n)
        data.append(
            {
                "id": tweet_id,
                "text": text,
                "author_id": author_id,
                "lang": "en",
                "created_at": "2026-01-01T12:00:00.000Z",
                "edit_history_tweet_ids": [tweet_id],
            }
        )
        users.append({"id": author_id, "username": handle, "name": name})
    payload = json.loads(json.dumps({"data": data, "includes": {"users": users}}))
    _, batch = parse_any(payload)
    result = ingest_batch(brand, batch, source=Source.MENTIONS, account=account)
    assert result.new == len(tweets), result
    by_pk = Question.objects.in_bulk(result.question_ids)
    return [by_pk[pk] for pk in result.question_ids]


def claimed(question: Question, username: str) -> Question:
    result = claim_question(question.pk, user(username))
    assert result.won, result
    return Question.objects.get(pk=question.pk)


@pytest.fixture
def world(server_url: str) -> World:
    """The demo brand with its training, people on shift, and hostile tweets everywhere: in
    the queue, held by a volunteer, in review, in feedback, late on the floor, and in an
    enrolment waiting for the supervisor."""
    # The live desk alone: the reports' months of history would fill the queue.
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    call_command("seed_training", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    for name in ("alice", "bruno", "dev", "sam"):
        start_shift(user(name), brand.pk)
    held, rejected, pending, late, queued_url, queued_emoji, refused = ingest(
        brand,
        [
            ("rosa_buys", LONG_NAME, f"@NorthwindHelp my order never arrived, see {LONG_URL}"),
            ("tomas_k", "Tomas K", f"@NorthwindHelp where is my order? {CJK_EMOJI}"),
            ("mei_l", CJK_EMOJI[:40], f"@NorthwindHelp {CJK_EMOJI} order"),
            ("wordy", LONG_NAME, f"@NorthwindHelp order {LONG_WORD}"),
            ("linky", "Linky", f"@NorthwindHelp my order {LONG_URL}"),
            ("emoji_fan", CJK_EMOJI[:30], f"@NorthwindHelp order? {CJK_EMOJI}"),
            ("refusing", LONG_NAME, f"@NorthwindHelp order {LONG_URL}"),
        ],
    )
    # Alice holds one question (the composer); Dev's first reply was rejected with feedback
    # and the second waits for review; one queued question is past its deadline.
    claimed(held, "alice")
    first = submit_reply(
        claimed(rejected, "dev"), user("dev"), f"@tomas_k {LONG_WORD[:180]} ^DP", language="en"
    )
    second = submit_reply(
        claimed(pending, "dev"), user("dev"), f"@mei_l {LONG_WORD[:150]} ^DP", language="en"
    )
    assert (first.state, second.state) == (ReplyState.PENDING_REVIEW, ReplyState.PENDING_REVIEW)
    reject_reply(first, by=user("sam"), feedback=f"Link, don't paste: {LONG_URL} {CJK_EMOJI}")
    # A reply X refused for good, with a long reason, waits in the supervisors' outbox.
    failing = submit_reply(
        claimed(refused, "alice"), user("alice"), f"@refusing {LONG_WORD[:150]} ^AM", language="en"
    )
    Reply.objects.filter(pk=failing.pk).update(
        state=ReplyState.FAILED, failure_reason=f"403 {LONG_WORD} {CJK_EMOJI}"
    )
    Question.objects.filter(pk=refused.pk).update(state=QuestionState.FAILED)
    Question.objects.filter(pk=late.pk).update(sla_due_at=late.received_at)
    Question.objects.filter(pk=held.pk).update(sla_due_at=held.received_at)
    chicago = Store.objects.get(brand=brand, code="NW-CHI")
    enrol_employee(
        username="maximiliana",
        password="Tr0ub4dor&3-horse",
        display_name=LONG_NAME,
        brand=brand,
        store=chicago,
        employee_number="E-" + "9" * 28,
        languages=["en", "fr"],
    )
    create_invitation(brand, store=chicago, by=Volunteer.objects.get(user__username="sam"))
    module = TrainingModule.objects.filter(brand=brand).order_by("position").first()
    assert module is not None
    attempt = start_attempt(user("dev").pk, module)
    assert {queued_url.state, queued_emoji.state} == {QuestionState.QUEUED}
    return World(
        brand,
        {
            "held": str(held.pk),
            "late": str(late.pk),
            "attempt": str(attempt.pk),
            "module": module.slug,
        },
    )


# --- phone and desk layout -------------------------------------------------------------------


def check_the_draft(page: Page) -> None:
    """The composer with what the linter found on show: a price, and a long link.

    On the composer page the check is a form post, so the answer is a new page: the marks
    show as soon as its HTML is in, and a layout forced then may not have the stylesheet yet
    (Chromium 156 measured the long link unwrapped, 1,606 px wide on a 1,280 px screen). The
    page is measured once it has loaded, as a person sees it."""
    page.locator("#reply-text").fill(f"@rosa_buys It is $199 this week, see {LONG_URL} ^AM")
    page.locator("button[name=action][value=check]").click()
    expect(page.locator("#lint .findings")).to_be_visible()
    expect(page.locator("#lint .draft")).to_contain_text("$199")
    expect(page.locator("#lint mark").first).to_be_visible()
    page.wait_for_load_state("load")


def live_queue(page: Page) -> None:
    expect(page.locator("#queue button[data-claim]").first).to_be_visible()


@dataclass(frozen=True)
class Visit:
    """One page as one person sees it. ``path`` may name the world's records in braces;
    ``ready`` waits for (or brings about) the state worth measuring; ``shot`` names the
    phone screenshot."""

    who: str
    path: str
    ready: Callable[[Page], None] | None = None
    shot: str = ""


PAGES: list[Visit] = [
    Visit("anonymous", "/accounts/login/"),
    Visit("anonymous", "/charter/enrol/"),
    Visit("alice", "/queue/", live_queue, shot="queue"),
    Visit("alice", "/desk/questions/{held}/"),
    Visit("alice", "/desk/questions/{held}/compose/", check_the_draft, shot="composer"),
    # The inbox with the held question open and its draft checked, beside the list.
    Visit("alice", "/queue/{held}/", check_the_draft, shot="inbox"),
    Visit("alice", "/charter/"),
    Visit("alice", "/charter/status/"),
    Visit("dev", "/desk/my-feedback/"),
    Visit("dev", "/training/"),
    Visit("dev", "/training/modules/{module}/"),
    Visit("dev", "/training/attempts/{attempt}/"),
    Visit("dev", "/training/practice/"),
    Visit("sam", "/queue/", live_queue),
    Visit("sam", "/desk/questions/{late}/"),
    Visit("sam", "/desk/review/", shot="review"),
    Visit("sam", "/desk/floor/"),
    Visit("sam", "/desk/escalations/"),
    Visit("sam", "/desk/triage/"),
    Visit("sam", "/desk/outbox/", shot="outbox"),
    Visit("sam", "/desk/outbox/?show=queued"),
    Visit("sam", "/desk/saved-replies/"),
    Visit("sam", "/desk/saved-replies/new/"),
    Visit("sam", "/supervision/"),
    Visit("sam", "/supervision/people/"),
    Visit("sam", "/supervision/invitations/"),
    Visit("sam", "/training/practice/grade/"),
    Visit("sam", "/reports/"),
    Visit("sam", "/monitoring/"),
    Visit("alice", "/reports/me/"),
    Visit("agnes", "/reports/", shot="reports"),
    Visit("agnes", "/reports/?period=90d&group_by=volunteer&business_time=on"),
    Visit("agnes", "/reports/api-tokens/"),
    Visit("agnes", "/monitoring/", shot="monitoring"),
    Visit("agnes", "/api/docs/"),
    Visit("sam", "/crisis/"),
    Visit("admin", "/admin/routing/routingrule/tester/"),
]

MEASURE = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5) {
      const cls = typeof el.className === "string" && el.className.trim()
        ? "." + el.className.trim().split(/\\s+/).join(".") : "";
      wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls
        + " (right " + Math.round(box.right) + ")");
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    lang: document.documentElement.lang,
    title: document.title,
    wide: wide.slice(0, 6),
  };
}"""


# Every page records what its Content-Security-Policy blocked (an inline script or style,
# an eval, a connection elsewhere); the browser still reports it when it blocks it.
WATCH_THE_POLICY = """window.blockedByPolicy = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.blockedByPolicy.push(e.effectiveDirective + " " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber);
});"""


def blocked_by_policy(page: Page) -> list[str]:
    blocked: list[str] = page.evaluate("() => window.blockedByPolicy")
    return blocked


def watch_the_policy(page: Page) -> None:
    """For ``log_in_browser(watch=...)``: the page records what the policy blocks."""
    page.add_init_script(WATCH_THE_POLICY)


SHOTS = ("queue", "composer", "inbox", "review", "reports")


def shot_path(name: str, lang: str) -> Path:
    """Where the phone screenshot goes: the conftest's artifacts directory."""
    return ARTIFACTS / (f"phone-{name}.png" if lang == "en" else f"phone-{name}-{lang}.png")


# Layout and keys are the same on either database: CI runs these in its embedded pass only.
@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    ("viewport", "locale", "lang"),
    [(PHONE, "en-US", "en"), (PHONE, "fr-FR", "fr"), (DESK, "en-US", "en")],
    ids=["phone-en", "phone-fr", "desk-en"],
)
def test_every_page_fits_the_screen_with_its_language_and_title(
    world: World,
    browser: Browser,
    server_url: str,
    viewport: ViewportSize,
    locale: str,
    lang: str,
) -> None:
    pages: dict[str, Page] = {}
    problems: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if viewport == PHONE:
        for name in SHOTS:
            shot_path(name, lang).unlink(missing_ok=True)
    for visit in PAGES:
        page = pages.get(visit.who)
        if page is None:
            page = log_in_browser(
                browser,
                server_url,
                visit.who,
                viewport=viewport,
                locale=locale,
                timeout_ms=WAIT_MS,
                watch=watch_the_policy,
            )
            pages[visit.who] = page
        path = visit.path.format(**world.fill)
        response = page.goto(path)
        assert response is not None and response.status == 200, (visit.who, path)
        if visit.ready is not None:
            visit.ready(page)
        seen: dict[str, Any] = page.evaluate(MEASURE)
        where = f"{visit.who} {path}"
        if seen["scrollWidth"] > seen["innerWidth"]:
            problems.append(
                f"{where}: {seen['scrollWidth']}px wide in {seen['innerWidth']}px: "
                + "; ".join(seen["wide"])
            )
        if seen["lang"] != lang:
            problems.append(f"{where}: <html lang={seen['lang']!r}>")
        title = str(seen["title"]).strip()
        if not title or title.startswith("Helpforce ·"):
            problems.append(f"{where}: no title of its own ({title!r})")
        if "content-security-policy" not in response.headers:
            problems.append(f"{where}: no Content-Security-Policy")
        problems.extend(f"{where}: the policy blocked {b}" for b in blocked_by_policy(page))
        if visit.shot and viewport == PHONE:
            page.screenshot(path=str(shot_path(visit.shot, lang)), full_page=True)
    for page in pages.values():
        page.context.close()

    assert problems == [], "\n".join(problems)
    if viewport == PHONE:
        for name in SHOTS:
            assert shot_path(name, lang).stat().st_size > 0, name


# --- keyboard only ---------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) {
    return null;
  }
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    text: (el.innerText || el.value || el.getAttribute("name") || "").trim().slice(0, 40),
    visible: el.matches(":focus-visible"),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    onScreen: box.width > 0 && box.right > 0 && box.left < window.innerWidth,
  };
}"""


class Keys:
    """A person at the keyboard: Tab, type, press; every place the focus lands is checked
    for a visible outline."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.unseen: list[str] = []

    def check_focus(self) -> None:
        focus: dict[str, Any] | None = self.page.evaluate(FOCUSED)
        assert focus is not None, "the focus is on nothing"
        if not (
            focus["visible"]
            and focus["outline"] == "solid"
            and focus["width"] >= 2
            and focus["onScreen"]
        ):
            self.unseen.append(f"{self.page.url} {focus}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def has_focus(self, selector: str) -> bool:
        return bool(
            self.page.evaluate(
                "(s) => !!document.activeElement && document.activeElement.matches(s)", selector
            )
        )

    def tab_to(self, selector: str, limit: int = 60) -> None:
        """Tab forward until the element matching ``selector`` has the focus (if it has not
        already, as an autofocus field has)."""
        for _ in range(limit):
            if self.has_focus(selector):
                self.check_focus()
                return
            self.page.keyboard.press("Tab")
            self.check_focus()
        pytest.fail(f"{limit} Tabs did not reach {selector} on {self.page.url}")

    def log_in(self, username: str) -> None:
        self.tab_to("#id_username")
        self.type(username)
        self.tab_to("#id_password")
        self.type(DEMO_PASSWORD)
        self.press("Enter")
        self.page.wait_for_url(lambda url: "/accounts/login/" not in url)


def keyboard_person(browser: Browser, server_url: str) -> Keys:
    context = browser.new_context(base_url=server_url, viewport=DESK)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto("/accounts/login/")
    return Keys(page)


def focused_question_id(page: Page) -> str | None:
    value: str | None = page.evaluate(
        "() => document.activeElement && document.activeElement.getAttribute('data-question-id')"
    )
    return value


@pytest.fixture
def two_questions(server_url: str) -> tuple[Question, Question]:
    """The demo brand and a trainee on shift with two questions in their queue."""
    # The live desk alone: the reports' months of history would fill the queue.
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    start_shift(user("dev"), brand.pk)
    first, second = ingest(
        brand,
        [
            ("rosa_buys", "Rosa Buys", "@NorthwindHelp my order never arrived, can you help?"),
            ("tomas_k", "Tomas K", "@NorthwindHelp is my order shipped yet?"),
        ],
    )
    return first, second


@pytest.mark.backend_neutral
def test_a_reply_from_queue_to_approval_with_the_keyboard_alone(
    two_questions: tuple[Question, Question], browser: Browser, server_url: str
) -> None:
    # Given a trainee on shift with two questions in their queue
    first, second = two_questions

    # When the trainee logs in and lands on the queue, all with keys, and skips the menu
    dev = keyboard_person(browser, server_url)
    dev.log_in("dev")
    dev.page.wait_for_url("**/queue/")
    expect(dev.page.locator("#queue button[data-claim]")).to_have_count(2)
    expect(dev.page.locator("#queue-status")).to_have_text("Live.")
    dev.tab_to("a.skip")
    dev.press("Enter")
    assert dev.has_focus("main#main")

    # Then j and k move between the questions (opening each beside the list), with the focus
    # in sight, and c claims one
    dev.press("j")
    assert focused_question_id(dev.page) == str(first.pk)
    dev.check_focus()
    dev.press("j")
    assert focused_question_id(dev.page) == str(second.pk)
    dev.check_focus()
    dev.press("k")
    assert focused_question_id(dev.page) == str(first.pk)
    dev.press("c")

    # And the focus moves to the reply box beside the list, in the same page: the draft is
    # written and submitted from there (Ctrl+Enter), and the result shows in place
    expect(dev.page.locator("#reply-text")).to_be_focused()
    first.refresh_from_db()
    assert (first.state, first.claimed_by_id) == (QuestionState.CLAIMED, user("dev").pk)
    dev.check_focus()
    dev.press("ControlOrMeta+a")
    text = "@rosa_buys Sorry for the wait, it usually ships in about two days. ^DP"
    dev.type(text)
    dev.press("Control+Enter")
    expect(dev.page.locator("#pane .messages")).to_contain_text("went to a supervisor for review")
    assert dev.page.url.endswith(f"/queue/{first.pk}/")
    # and the focus is on the next question, one key from claiming it
    expect(dev.page.locator(f'#queue [data-question-id="{second.pk}"]')).to_be_focused()
    dev.check_focus()

    # And the reply is recorded, waiting for review, as typed
    reply = Reply.objects.get(question=first)
    assert (reply.state, reply.text, reply.author_id) == (
        ReplyState.PENDING_REVIEW,
        text,
        user("dev").pk,
    )

    # When the supervisor logs in, lands on Review (their role's page) and approves it, with
    # keys
    sam = keyboard_person(browser, server_url)
    sam.log_in("sam")
    sam.page.wait_for_url("**/desk/review/")
    sam.page.wait_for_load_state()
    sam.tab_to(f'#reply-{reply.pk} form[action="/desk/review/{reply.pk}/approve/"] button')
    sam.press("Enter")
    expect(sam.page.locator(".messages")).to_contain_text("Reply approved")

    # Then it is approved by them and on its way; the other question is still waiting
    reply.refresh_from_db()
    assert (reply.state, reply.reviewed_by_id) == (ReplyState.QUEUED, user("sam").pk)
    approved = AuditEvent.objects.get(kind="reply.approved", question=first)
    assert (approved.actor_id, approved.data["reply_id"]) == (user("sam").pk, reply.pk)
    second.refresh_from_db()
    assert (second.state, second.claimed_by_id) == (QuestionState.QUEUED, None)
    # Every place the focus landed showed a solid outline of at least 2 px.
    assert dev.unseen + sam.unseen == [], "\n".join(dev.unseen + sam.unseen)


# --- the live floor --------------------------------------------------------------------------


@pytest.fixture
def floor_question(server_url: str) -> Question:
    """The demo brand with Alice and Bruno on shift in Sam's store and one question in the
    queue."""
    # The live desk alone: the reports' months of history would fill the queue.
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    # Alice works from Sam's store here, so Sam may reassign what she holds (the floor
    # offers only the reassignments it accepts).
    Volunteer.objects.filter(user=user("alice")).update(
        store=Volunteer.objects.get(user=user("sam")).store
    )
    for name in ("alice", "bruno"):
        start_shift(user(name), brand.pk)
    (question,) = ingest(
        brand, [("rosa_buys", "Rosa Buys", "@NorthwindHelp my order never arrived, help?")]
    )
    return question


def drawn_at(page: Page) -> str:
    """When the server drew the floor's live part, to the microsecond (the text shows only
    seconds, and a redraw may come within the same second)."""
    value = page.locator("#floor-body .updated time").get_attribute("datetime")
    assert value
    return value


def test_the_floor_refreshes_itself_without_moving_focus_or_scroll(
    floor_question: Question, browser: Browser, server_url: str
) -> None:
    # Given the supervisor on the floor, scrolled down, with the focus on "Refresh now"; the
    # page's clock runs on its own and the test can move it on (Playwright's clock), and the
    # page counts the requests htmx makes
    sam = log_in_browser(
        browser,
        server_url,
        "sam",
        viewport={"width": 375, "height": 400},
        locale="en",
        timeout_ms=WAIT_MS,
        watch=watch_the_policy,
    )
    sam.clock.install()
    floor = sam.goto("/desk/floor/")
    assert floor is not None and "'unsafe-eval'" not in floor.headers["content-security-policy"]
    sam.evaluate(
        "() => { window.floorRequests = 0; document.body.addEventListener("
        "'htmx:beforeSend', () => { window.floorRequests += 1; }); }"
    )
    body = sam.locator("#floor-body")
    alice_card = body.locator(f'.person[data-user-id="{user("alice").pk}"]')
    expect(alice_card).to_contain_text("Holds nothing.")
    drawn = drawn_at(sam)
    sam.evaluate("() => { window.notReloaded = true; window.scrollTo(0, 120); }")
    sam.locator("a.button", has_text="Refresh now").focus()
    # Focusing may scroll the button into view: where the page stands now is what must hold.
    scrolled = sam.evaluate("() => window.scrollY")
    assert scrolled > 0

    # When Alice claims the question in her own browser
    alice = log_in_browser(
        browser,
        server_url,
        "alice",
        viewport=DESK,
        locale="en",
        timeout_ms=WAIT_MS,
        watch=watch_the_policy,
    )
    alice.goto(f"/desk/questions/{floor_question.pk}/")
    alice.locator(f'form[action="/desk/questions/{floor_question.pk}/claim/"] button').click()
    alice.wait_for_url(f"**/desk/questions/{floor_question.pk}/compose/")

    # Then the floor shows it within a refresh, in place: same page, focus and scroll
    expect(alice_card).to_contain_text("my order never arrived", timeout=WAIT_MS)
    assert drawn_at(sam) != drawn
    assert sam.evaluate("() => window.notReloaded === true && window.scrollY") == scrolled
    expect(sam.locator("a.button", has_text="Refresh now")).to_be_focused()

    # While the supervisor works in it (the focus on a reassign menu), it holds still
    menu = alice_card.locator("select[name=to]")
    menu.focus()
    held = drawn_at(sam)
    asked = sam.evaluate("() => window.floorRequests")
    sam.clock.run_for(21_000)  # on the page's clock: two polls come due, at once
    expect(menu).to_be_focused()
    assert sam.evaluate("() => window.floorRequests") == asked
    assert drawn_at(sam) == held

    # And "Refresh now" from the keyboard redraws it at once, leaving the focus on it
    sam.locator("a.button", has_text="Refresh now").focus()
    sam.keyboard.press("Enter")
    expect(sam.locator("#floor-body .updated time")).not_to_have_attribute("datetime", held)
    expect(sam.locator("a.button", has_text="Refresh now")).to_be_focused()
    assert sam.evaluate("() => window.notReloaded === true")
    # All of it under the desk's Content-Security-Policy, which allows no eval
    assert blocked_by_policy(sam) == [] and blocked_by_policy(alice) == []


def test_a_lost_last_event_is_noticed_by_the_ping(
    two_questions: tuple[Question, Question], browser: Browser, server_url: str, settings: Any
) -> None:
    # Given a volunteer's live queue that asks for the last event's number every second
    settings.QUEUE_PING_SECONDS = 1.0
    first, second = two_questions
    page = log_in_browser(
        browser, server_url, "dev", viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
    )
    page.goto("/queue/")
    expect(page.locator("#queue-status")).to_have_text("Live.")
    expect(page.locator("#queue [data-question-id]")).to_have_count(2)

    # When a question leaves the queue and its event is numbered but never arrives (no
    # later event would show the gap)
    Question.objects.filter(pk=second.pk).update(state=QuestionState.DISMISSED)
    next_sequence(brand_queue_group(second.brand_id))

    # Then the page notices from the ping's answer and reloads the list from the server
    expect(page.locator("#queue [data-question-id]")).to_have_count(1)
    expect(page.locator(f'#queue [data-question-id="{first.pk}"]')).to_have_count(1)


SENT_SPY = """
window.sentActions = [];
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  try { window.sentActions.push(JSON.parse(data).action); } catch (e) {}
  return realSend.call(this, data);
};
"""


def deliver_numbered(group: str, *seqs: int) -> None:
    """Events numbered ``seqs`` on the group, as announce() sends them (frame encoded once),
    one right after the other on one connection to the layer."""

    async def send_all() -> None:
        layer = get_channel_layer(EVENTS_LAYER)
        for seq in seqs:
            message = {"type": "desk.event", "kind": "questions.queued", "payload": {}, "seq": seq}
            message["frame"] = json.dumps(event_frame(message))
            await layer.group_send(group, message)

    async_to_sync(send_all)()


def test_events_that_cross_on_the_way_are_put_back_in_order_without_a_resync(
    two_questions: tuple[Question, Question], browser: Browser, server_url: str
) -> None:
    # Given a volunteer's live queue, whose socket messages the test can read
    first, _ = two_questions
    group = brand_queue_group(first.brand_id)
    page = log_in_browser(
        browser, server_url, "dev", viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
    )
    page.add_init_script(SENT_SPY)
    page.goto("/queue/")
    expect(page.locator("#queue-status")).to_have_text("Live.")

    def deliver(*numbers: int) -> None:
        for seq in numbers:
            deliver_numbered(group, seq)

    # When two events, numbered by two processes, arrive in the other order
    a, b = (off_the_browser_loop(lambda: next_sequence(group)) for _ in range(2))
    off_the_browser_loop(lambda: deliver(b, a))
    # (longer than the page's wait for a hole: its own 0.5 s and the server's 1 s window,
    # for which the second event may be held after the first went at once)
    page.wait_for_timeout(2_500)

    # Then the page puts them in order and asks for nothing
    assert page.evaluate("window.sentActions.filter(a => a === 'resync').length") == 0

    # And a hole that stays open is reloaded after the wait
    c, d = (off_the_browser_loop(lambda: next_sequence(group)) for _ in range(2))
    off_the_browser_loop(lambda: deliver(d))
    resyncs = "window.sentActions.filter(a => a === 'resync').length"
    for _ in range(WAIT_MS // 250):  # the page's CSP forbids wait_for_function's eval
        if page.evaluate(resyncs):
            break
        page.wait_for_timeout(250)
    assert (page.evaluate(resyncs), c) == (1, d - 1)


def test_a_storm_of_events_reloads_the_list_a_few_times_and_ends_with_all_of_it(
    two_questions: tuple[Question, Question], browser: Browser, server_url: str
) -> None:
    # Given a volunteer's live queue of two questions, whose requests for the list are counted
    first, _ = two_questions
    group = brand_queue_group(first.brand_id)
    page = log_in_browser(
        browser, server_url, "dev", viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
    )
    page.goto("/queue/")
    expect(page.locator("#queue-status")).to_have_text("Live.")
    expect(page.locator("#queue [data-question-id]")).to_have_count(2)
    page.wait_for_timeout(1_000)  # the reload that follows the socket's hello is over
    list_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            list_requests.append(request.url)
            if request.headers.get("hx-target") == "queue"
            else None
        ),
    )
    storm = 20

    # When 20 questions arrive and a storm of 20 more numbered events follows, one every 50 ms
    def arrive_and_storm() -> None:
        ingest(
            first.brand,
            [
                (f"storm_{n}", f"Storm {n}", f"@NorthwindHelp storm question {n}?")
                for n in range(storm)
            ],
            first=100,
        )
        for _ in range(storm):
            deliver_numbered(group, next_sequence(group))
            time.sleep(0.05)  # a claim every 50 ms: each alone would have had its reload

    off_the_browser_loop(arrive_and_storm)

    # Then the list shows all of them, after far fewer reloads than events
    expect(page.locator("#queue [data-question-id]")).to_have_count(2 + storm)
    page.wait_for_timeout(1_500)  # a trailing reload, if one is due, has come by now
    # (a second of events in 300 ms windows: about four; one reload an event would be 20,
    # and htmx's own queue of one request behind another made it 11 here)
    assert 1 <= len(list_requests) <= 6, list_requests
    expect(page.locator("#queue [data-question-id]")).to_have_count(2 + storm)
    page.context.close()


def test_events_that_come_several_to_a_frame_are_followed_like_single_ones(
    two_questions: tuple[Question, Question], browser: Browser, server_url: str, settings: Any
) -> None:
    # Given a volunteer's live queue, whose socket frames are watched, and a window of a
    # second (the server runs in this process): on CI's busy machine events sent one after
    # the other could come more than 0.25 s apart, each then alone in its frame
    settings.QUEUE_COALESCE_SECONDS = 1.0
    first, _ = two_questions
    group = brand_queue_group(first.brand_id)
    page = log_in_browser(
        browser, server_url, "dev", viewport=DESK, locale="en-US", timeout_ms=WAIT_MS
    )
    received: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []

    def watch(socket: Any) -> None:
        socket.on("framereceived", lambda payload: received.append(json.loads(payload)))
        socket.on("framesent", lambda payload: sent.append(json.loads(payload)))

    page.on("websocket", watch)
    page.goto("/queue/")
    expect(page.locator("#queue [data-question-id]")).to_have_count(2)
    expect(page.locator("#queue-status")).to_have_text("Live.")

    # When three questions arrive, announced by three events at once (the server sends the
    # first alone and holds the other two for one frame)
    def arrive() -> None:
        ingest(
            first.brand,
            [(f"pack_{n}", f"Pack {n}", f"@NorthwindHelp packed question {n}?") for n in range(3)],
            first=300,
        )
        deliver_numbered(group, *(next_sequence(group) for _ in range(3)))

    off_the_browser_loop(arrive)

    # Then the list has them all, a frame carried several events, and the page saw no gap
    expect(page.locator("#queue [data-question-id]")).to_have_count(5)

    def several() -> bool:
        return any(frame["type"] == "events" and len(frame["events"]) >= 2 for frame in received)

    # The list may show all five (the ingestion's own event reloads it) before the held
    # frame's window ends: wait for the frame, letting Playwright take in what comes
    deadline = time.monotonic() + WAIT_MS / 1000
    while not several() and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert several(), received
    assert not [m for m in sent if m.get("action") == "resync"], sent
    expect(page.locator("#queue-status")).to_have_text("Live.")
    page.context.close()
