"""The desk's working pages: question and thread, composer and live lint, review, feedback
and the floor, for every role (DESIGN invariants 6 and 8)."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from helpdesk.models import AuditEvent, Customer, Question, Reply, Role, Volunteer
from helpdesk.replies import submit_reply
from helpdesk.states import QuestionState, ReplyState
from routing.models import QuestionGroup
from routing.presence import start_shift
from tests.factories import make_store, make_volunteer
from tests.people import People, log_in
from tests.replies.conftest import Desk, _desk

PASSWORD = "correct horse battery"


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


def on_shift(desk: Desk, state: str = "certified", **fields: Any) -> Volunteer:
    fields.setdefault("languages", ["en"])
    volunteer = desk.member(state, **fields)
    start_shift(volunteer.user, desk.brand.pk)
    return volunteer


def handle_of(question: Question) -> str:
    assert question.customer is not None
    return question.customer.username


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def status_for(client: Client, desk: Desk, who: str, url: str) -> int:
    People(desk.brand).log_in(client, who)
    response = client.get(url)
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    return int(response.status_code)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("certified", 200),
        ("untrained", 200),
        ("suspended", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("other-brand-volunteer", 404),
    ],
)
def test_question_page_by_role(client: Client, desk: Desk, role: str, expected: int) -> None:
    question = desk.question()
    assert status_for(client, desk, role, f"/desk/questions/{question.pk}/") == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("certified", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("supervisor", 200),
        ("admin", 200),
        ("other-brand-volunteer", 403),
    ],
)
@pytest.mark.parametrize("page", ["/desk/review/", "/desk/review/news/?seen=", "/desk/floor/"])
def test_supervisor_pages_by_role(
    client: Client, desk: Desk, role: str, expected: int, page: str
) -> None:
    assert status_for(client, desk, role, page) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("certified", 200),
        ("untrained", 200),
        ("suspended", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("other-brand-volunteer", 200),
    ],
)
def test_feedback_page_by_role(client: Client, desk: Desk, role: str, expected: int) -> None:
    assert status_for(client, desk, role, "/desk/my-feedback/") == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("certified", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("supervisor", 403),
        ("admin", 403),
        ("other-brand-volunteer", 404),
        ("holder", 200),
    ],
)
def test_composer_and_lint_only_for_the_holder(
    client: Client, desk: Desk, role: str, expected: int
) -> None:
    holder = desk.member("certified")
    question = desk.question(holder)
    if role == "holder":
        log_in(client, holder)
    else:
        People(desk.brand).log_in(client, role)
    compose = client.get(f"/desk/questions/{question.pk}/compose/")
    lint = client.post(f"/desk/questions/{question.pk}/lint/", {"text": "hello"})
    assert (compose.status_code, lint.status_code) == (expected, expected)


def test_anonymous_and_outsiders_write_nothing(client: Client, desk: Desk) -> None:
    question = desk.question()
    events = AuditEvent.objects.count()
    client.force_login(make_volunteer(desk.brand, role=Role.AGENCY).user)
    for action in ("claim", "release", "escalate", "compose"):
        client.post(f"/desk/questions/{question.pk}/{action}/", {"note": "x", "text": "x"})
    question.refresh_from_db()
    assert (question.state, question.claimed_by_id) == (QuestionState.QUEUED, None)
    assert AuditEvent.objects.count() == events
    assert not Reply.objects.exists()


# --- question --------------------------------------------------------------------------------


def test_question_page_shows_thread_history_claim_and_group_escaped(
    client: Client, desk: Desk
) -> None:
    # Given a customer's thread with a hostile follow-up, an earlier question with our reply,
    # and a group sibling
    holder = desk.member("certified", display_name="Ann M")
    earlier = desk.question(holder)
    reply = submit_reply(
        earlier,
        holder.user,
        f"@{handle_of(earlier)} Sorted {holder.signature}",
        language="en",
    )
    question = desk.question(holder, text="<script>alert(1)</script> where is it?")
    Question.objects.filter(pk=question.pk).update(customer=earlier.customer)
    Question.objects.create(
        brand=desk.brand,
        conversation=question.conversation,
        customer=earlier.customer,
        tweet_id="77",
        text="<img src=x onerror=alert(2)>",
        source="mentions",
        received_at=timezone.now() + timedelta(minutes=1),
    )
    group = QuestionGroup.objects.create(brand=desk.brand, key="outage", label="Outage")
    sibling = desk.question(text="is the site down?")
    Question.objects.filter(pk__in=[question.pk, sibling.pk]).update(group=group)
    client.force_login(desk.member("certified").user)

    # When a volunteer opens the question
    page = client.get(f"/desk/questions/{question.pk}/").content.decode()

    # Then the thread is there oldest first, escaped, with the history and the group
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert page.index("&lt;script&gt;") < page.index("&lt;img src=x")
    assert earlier.text in page and reply.text in page
    assert f"/desk/questions/{sibling.pk}/" in page and "Outage" in page
    assert "Held by Ann M until" in page


def test_claim_through_the_page_winner_then_loser(client: Client, desk: Desk) -> None:
    question = desk.question()
    winner = on_shift(desk, display_name="Ann Winner")
    loser = on_shift(desk)

    client.force_login(winner.user)
    won = client.post(f"/desk/questions/{question.pk}/claim/")
    other = Client()
    other.force_login(loser.user)
    lost = other.post(f"/desk/questions/{question.pk}/claim/")

    question.refresh_from_db()
    assert won["Location"] == f"/desk/questions/{question.pk}/compose/"
    assert (question.state, question.claimed_by_id) == (QuestionState.CLAIMED, winner.user_id)
    assert lost["Location"] == f"/desk/questions/{question.pk}/"
    [message] = texts(lost)
    assert message.startswith("Already claimed by Ann Winner (until ")


def test_holder_releases_and_escalates(client: Client, desk: Desk) -> None:
    holder = desk.member("certified")
    first, second = desk.question(holder), desk.question(holder)
    client.force_login(holder.user)

    client.post(f"/desk/questions/{first.pk}/release/")
    refused = client.post(f"/desk/questions/{second.pk}/escalate/", {"note": " "})
    client.post(f"/desk/questions/{second.pk}/escalate/", {"note": "Needs a refund"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.claimed_by_id) == (QuestionState.QUEUED, None)
    assert second.state == QuestionState.ESCALATED
    assert texts(refused)[-1] == "Say what was tried and why it goes to the care team."


def test_shift_start_and_end(client: Client, desk: Desk) -> None:
    from routing.presence import is_on_shift

    volunteer = desk.member("certified")
    client.force_login(volunteer.user)
    client.post("/desk/shift/", {"action": "start"})
    assert is_on_shift(volunteer.user_id, desk.brand.pk)
    response = client.post("/desk/shift/", {"action": "end", "next": "/desk/my-feedback/"})
    assert not is_on_shift(volunteer.user_id, desk.brand.pk)
    assert response["Location"] == "/desk/my-feedback/"


@pytest.mark.parametrize(
    ("who", "expected", "on_shift"),
    [
        ("anonymous", 302, False),
        ("no-desk-record", 403, False),
        ("volunteer-without-standing", 302, False),
        ("untrained", 302, False),  # the gate refuses every claim: no shift (issue 11)
        ("trainee", 302, True),
        ("certified", 302, True),
        ("mentor", 302, True),
        ("suspended", 302, False),
        ("supervisor", 302, False),  # no standing: not a member of the programme
        ("agency", 403, False),
        ("admin", 302, False),  # no standing either
        ("other-brand-volunteer", 302, False),
    ],
)
def test_going_on_shift_by_role(
    client: Client, desk: Desk, who: str, expected: int, on_shift: bool
) -> None:
    # Given someone of the brand (or not) in ``who``
    from routing.models import Shift

    People(desk.brand).log_in(client, who)
    events = AuditEvent.objects.count()

    # When they ask to go on shift
    response = client.post("/desk/shift/", {"action": "start"})

    # Then only volunteers who may claim are on shift; the others wrote nothing
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"] in ("/queue/", "/accounts/login/?next=/desk/shift/")
    assert Shift.objects.filter(ended_at__isnull=True).exists() is on_shift
    assert AuditEvent.objects.count() == events + (1 if on_shift else 0)


@pytest.mark.parametrize(
    ("who", "expected", "claimed"),
    [
        ("anonymous", 302, False),
        ("no-desk-record", 403, False),
        ("volunteer-without-standing", 302, False),
        ("untrained", 302, False),
        ("trainee", 302, True),
        ("certified", 302, True),
        ("mentor", 302, True),
        ("suspended", 302, False),
        ("supervisor", 302, False),
        ("supervisor-other-store", 302, False),
        ("agency", 403, False),
        ("admin", 302, False),
        ("other-brand-volunteer", 404, False),
        ("other-brand-supervisor", 404, False),
    ],
)
def test_claiming_from_the_page_by_role(
    client: Client, desk: Desk, who: str, expected: int, claimed: bool
) -> None:
    # Given a queued question in English, and someone in ``who`` who speaks it, on shift
    # whenever start_shift lets them
    from routing.presence import PresenceError

    question = desk.question()
    people = People(desk.brand)
    user = people.user(who)
    if user is not None:
        Volunteer.objects.filter(user=user).update(languages=["en"])
        with contextlib.suppress(PresenceError):
            start_shift(user, desk.brand.pk)
    people.log_in(client, who)
    events = AuditEvent.objects.count()

    # When they claim it from the question page
    response = client.post(f"/desk/questions/{question.pk}/claim/")

    # Then only volunteers who pass the gate hold it; for the others nothing changed
    question.refresh_from_db()
    assert response.status_code == expected
    if claimed:
        assert response["Location"] == f"/desk/questions/{question.pk}/compose/"
        assert (question.state, question.claimed_by) == (QuestionState.CLAIMED, user)
        assert AuditEvent.objects.count() == events + 1
    else:
        assert (question.state, question.claimed_by) == (QuestionState.QUEUED, None)
        assert AuditEvent.objects.count() == events


# --- composer --------------------------------------------------------------------------------


def test_composer_prefills_handle_and_signature(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)
    page = client.get(f"/desk/questions/{question.pk}/compose/").content.decode()
    handle = handle_of(question)
    assert f">@{handle}  ^AM</textarea>" in page
    assert 'hx-trigger="keyup changed delay:300ms"' in page
    assert f'hx-post="/desk/questions/{question.pk}/lint/"' in page


def test_lint_counts_cjk_double_and_escapes_hostile_draft(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)

    cjk = client.post(f"/desk/questions/{question.pk}/lint/", {"text": "日本語"})
    hostile = client.post(
        f"/desk/questions/{question.pk}/lint/",
        {"text": "<script>alert(1)</script> call me at jane@example.com ^AM"},
    ).content.decode()

    assert "<strong>6/280</strong>" in cjk.content.decode()
    assert "<script>" not in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert '<mark class="sev-block"' in hostile
    assert "jane@example.com</mark>" in hostile
    assert "This draft cannot be sent" in hostile


def test_typing_in_the_composer_keeps_the_claim(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    soon = timezone.now() + timedelta(seconds=30)
    Question.objects.filter(pk=question.pk).update(lease_expires_at=soon)
    client.force_login(holder.user)

    client.post(f"/desk/questions/{question.pk}/lint/", {"text": "Usually 2 days ^AM"})

    question.refresh_from_db()
    assert question.lease_expires_at is not None
    assert question.lease_expires_at > soon + timedelta(minutes=5)
    assert question.claimed_by_id == holder.user_id


def test_lint_speaks_french(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)
    english = client.post(
        f"/desk/questions/{question.pk}/lint/", {"text": "write to jane@example.com ^AM"}
    ).content.decode()
    french = client.post(
        f"/desk/questions/{question.pk}/lint/",
        {"text": "write to jane@example.com ^AM"},
        HTTP_ACCEPT_LANGUAGE="fr",
    ).content.decode()
    assert french != english
    assert "adresse" in french.lower() or "courriel" in french.lower()


def test_lint_says_what_happens_next(client: Client, desk: Desk) -> None:
    certified = desk.member("certified", signature="^AM")
    trainee = desk.member("trainee", signature="^TR")
    mine, theirs = desk.question(certified), desk.question(trainee)
    client.force_login(certified.user)
    now = client.post(
        f"/desk/questions/{mine.pk}/lint/",
        {"text": f"@{handle_of(mine)} We are on it. ^AM"},
    ).content.decode()
    client.force_login(trainee.user)
    review = client.post(
        f"/desk/questions/{theirs.pk}/lint/",
        {"text": f"@{handle_of(theirs)} We are on it. ^TR"},
    ).content.decode()
    assert "goes out now" in now
    assert "goes to a supervisor for review" in review
    assert "As a trainee, every reply is approved by a supervisor" in review


def test_submit_as_certified_goes_to_the_send_queue(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)
    text = f"@{handle_of(question)} We are on it. ^AM"

    response = client.post(f"/desk/questions/{question.pk}/compose/", {"text": text})

    reply = Reply.objects.get(question=question)
    assert reply.state == ReplyState.QUEUED and reply.text == text
    assert response["Location"] == f"/desk/questions/{question.pk}/"
    [message] = texts(response)
    assert message.startswith("Your reply is in the send queue: 0 ahead, expected at ")


def test_submit_as_trainee_goes_to_review_with_the_reason(client: Client, desk: Desk) -> None:
    holder = desk.member("trainee", signature="^TR")
    question = desk.question(holder)
    client.force_login(holder.user)
    text = f"@{handle_of(question)} We are on it. ^TR"

    response = client.post(f"/desk/questions/{question.pk}/compose/", {"text": text})

    reply = Reply.objects.get(question=question)
    assert reply.state == ReplyState.PENDING_REVIEW
    [message] = texts(response)
    assert message == (
        "Your reply went to a supervisor for review: "
        "As a trainee, every reply is approved by a supervisor before it goes."
    )


def test_blocked_draft_is_refused_and_nothing_written(client: Client, desk: Desk) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)
    events = AuditEvent.objects.count()

    response = client.post(
        f"/desk/questions/{question.pk}/compose/",
        {"text": "<b>mail</b> me at jane@example.com ^AM"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was sent" in page and "The draft breaks a rule" in page
    assert "&lt;b&gt;mail&lt;/b&gt;" in page and "<b>mail" not in page
    assert not Reply.objects.exists()
    assert AuditEvent.objects.count() == events
    question.refresh_from_db()
    assert question.state == QuestionState.CLAIMED


# --- review ----------------------------------------------------------------------------------


def pending(desk: Desk, text: str = "We are on it.") -> Reply:
    author = desk.member("trainee", signature="^TR")
    question = desk.question(author)
    handle = handle_of(question)
    reply = submit_reply(question, author.user, f"@{handle} {text} ^TR", language="en")
    assert reply.state == ReplyState.PENDING_REVIEW
    return reply


def test_review_lists_pending_replies_escaped(client: Client, desk: Desk) -> None:
    reply = pending(desk, "<script>x()</script> sorted")
    other_brand_reply = pending(_desk())
    client.force_login(desk.supervisor.user)
    page = client.get("/desk/review/").content.decode()
    assert f'id="reply-{reply.pk}"' in page
    assert f'id="reply-{other_brand_reply.pk}"' not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    assert "As a trainee, every reply is approved" in page
    assert reply.question.text in page


def earlier_in_thread(desk: Desk, reply: Reply, text: str, ours: str) -> Question:
    """A message the customer wrote earlier in the reply's conversation, which we answered
    with ``ours``."""
    question = reply.question
    earlier = Question.objects.create(
        brand=desk.brand,
        account=desk.account,
        conversation=question.conversation,
        customer=question.customer,
        tweet_id=str(int(question.tweet_id) - 1),
        text=text,
        lang="en",
        source=question.source,
        state=QuestionState.ANSWERED,
        received_at=question.received_at - timedelta(hours=1),
    )
    Reply.objects.create(
        question=earlier,
        author=desk.supervisor.user,
        account=desk.account,
        text=ours,
        state=ReplyState.SENT,
        created_at=earlier.received_at + timedelta(minutes=5),
    )
    return earlier


def test_review_cards_open_the_whole_thread_escaped(client: Client, desk: Desk) -> None:
    # given a pending reply in a conversation where the customer wrote before, and we
    # answered then
    reply = pending(desk)
    earlier = earlier_in_thread(
        desk, reply, "First <img src=x onerror=alert(1)> & more", "Our <b>earlier</b> answer"
    )
    lone = pending(desk)

    # when the supervisor opens the review page
    client.force_login(desk.supervisor.user)
    page = client.get("/desk/review/").content.decode()

    # then the card holds the whole conversation in a <details>, oldest first, the
    # reviewed question marked, hostile text escaped
    card = page[page.index(f'id="reply-{reply.pk}"') : page.index(f'id="reply-{lone.pk}"')]
    thread = card[card.index('<details class="whole-thread">') : card.index("</details>")]
    assert "The whole conversation (2 messages)" in thread
    assert "First &lt;img src=x onerror=alert(1)&gt; &amp; more" in thread
    assert "Our &lt;b&gt;earlier&lt;/b&gt; answer" in thread
    assert "<img src=x" not in page and "<b>earlier</b>" not in page
    assert thread.index("First &lt;img") < thread.index(reply.question.text)
    assert thread.count('aria-current="true"') == 1
    assert f"/desk/questions/{reply.question_id}/" in thread
    assert earlier.state == QuestionState.ANSWERED
    lone_card = page[page.index(f'id="reply-{lone.pk}"') :]
    assert "The whole conversation (1 message)" in lone_card


def test_the_review_page_reads_the_threads_in_a_bounded_number_of_queries(
    client: Client, desk: Desk
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(desk.supervisor.user)

    def queries_for_the_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/desk/review/").status_code == 200
        return len(captured)

    first = pending(desk)
    earlier_in_thread(desk, first, "before", "we said")
    one_card = queries_for_the_page()
    for n in range(9):
        reply = pending(desk)
        earlier_in_thread(desk, reply, f"before {n}", f"we said {n}")
    ten_cards = queries_for_the_page()

    assert "The whole conversation (2 messages)" in client.get("/desk/review/").content.decode()
    assert ten_cards == one_card


def test_approve_edit_approve_reject_and_bulk(client: Client, desk: Desk) -> None:
    plain, edited, rejected, bulk_a, bulk_b = (pending(desk) for _ in range(5))
    client.force_login(desk.supervisor.user)

    client.post(f"/desk/review/{plain.pk}/approve/")
    new_text = f"@{handle_of(edited.question)} Fixed now. ^TR"
    client.post(f"/desk/review/{edited.pk}/approve/", {"text": new_text})
    no_feedback = client.post(f"/desk/review/{rejected.pk}/reject/", {"feedback": "  "})
    rejected.refresh_from_db()
    assert rejected.state == ReplyState.PENDING_REVIEW
    assert texts(no_feedback)[-1] == "Say what to change: feedback is required."
    client.post(f"/desk/review/{rejected.pk}/reject/", {"feedback": "Say sorry first"})
    client.post("/desk/review/bulk/", {"reply": [str(bulk_a.pk), str(bulk_b.pk)]})

    for reply in (plain, edited, rejected, bulk_a, bulk_b):
        reply.refresh_from_db()
    assert [r.state for r in (plain, edited, bulk_a, bulk_b)] == [ReplyState.QUEUED] * 4
    assert edited.text == new_text and edited.edited_by_reviewer
    assert (rejected.state, rejected.review_feedback) == (ReplyState.REJECTED, "Say sorry first")

    # And the author sees the feedback, and who reviewed it (not "Sent ... by" the reviewer:
    # issue 11, finding 19)
    client.force_login(rejected.author)
    page = client.get("/desk/my-feedback/").content.decode()
    assert "Say sorry first" in page
    reviewer = desk.supervisor.display_name or desk.supervisor.user.get_username()
    assert f"Reviewed by {reviewer}," in page
    assert f"by {reviewer}</p>" not in page


def test_reviewing_another_brands_reply_is_not_found(client: Client, desk: Desk) -> None:
    foreign = pending(_desk())
    client.force_login(desk.supervisor.user)
    response = client.post(f"/desk/review/{foreign.pk}/approve/")
    bulk = client.post("/desk/review/bulk/", {"reply": [str(foreign.pk)]})
    foreign.refresh_from_db()
    assert response.status_code == 404 and bulk.status_code == 302
    assert foreign.state == ReplyState.PENDING_REVIEW


# --- floor -----------------------------------------------------------------------------------


def test_floor_shows_people_claims_and_deadlines(client: Client, desk: Desk) -> None:
    ann = on_shift(desk, display_name="Ann On")
    desk.member("certified", display_name="Bob Off")
    held = desk.question(ann)
    now = timezone.now()
    late = desk.question()
    soon = desk.question()
    later = desk.question()
    Question.objects.filter(pk=late.pk).update(sla_due_at=now - timedelta(minutes=5))
    Question.objects.filter(pk=soon.pk).update(sla_due_at=now + timedelta(minutes=5))
    Question.objects.filter(pk=later.pk).update(sla_due_at=now + timedelta(hours=5))
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/floor/").content.decode()

    assert "Ann On" in page and "Bob Off" not in page
    assert held.text in page
    assert f'data-question-id="{late.pk}"' in page and f'data-question-id="{soon.pk}"' in page
    assert f'data-question-id="{later.pk}"' not in page
    assert page.index(f'data-question-id="{late.pk}"') < page.index(f'data-question-id="{soon.pk}"')


def test_reassign_from_the_floor(client: Client, desk: Desk) -> None:
    ann = on_shift(desk)
    bob = on_shift(desk)
    question = desk.question(ann)
    client.force_login(desk.supervisor.user)

    response = client.post(
        f"/desk/questions/{question.pk}/reassign/", {"to": str(bob.user_id), "next": "/desk/floor/"}
    )

    question.refresh_from_db()
    assert response["Location"] == "/desk/floor/"
    assert question.claimed_by_id == bob.user_id


def test_volunteer_cannot_reassign(client: Client, desk: Desk) -> None:
    ann = on_shift(desk)
    bob = on_shift(desk)
    question = desk.question(ann)
    client.force_login(bob.user)
    response = client.post(f"/desk/questions/{question.pk}/reassign/", {"to": str(bob.user_id)})
    question.refresh_from_db()
    assert response.status_code == 403 and question.claimed_by_id == ann.user_id


def test_a_supervisor_returns_a_held_question_to_the_queue(client: Client, desk: Desk) -> None:
    ann = on_shift(desk)
    question = desk.question(ann)
    client.force_login(desk.supervisor.user)

    response = client.post(f"/desk/questions/{question.pk}/take-back/", {"next": "/desk/floor/"})

    question.refresh_from_db()
    assert response["Location"] == "/desk/floor/"
    assert (question.state, question.claimed_by_id) == (QuestionState.QUEUED, None)
    event = AuditEvent.objects.filter(question=question, kind="question.released").get()
    assert event.actor_id == desk.supervisor.user_id
    assert event.data == {"holder_id": ann.user_id, "by_supervisor": True}


def test_a_volunteer_cannot_take_back_someone_else_s_question(client: Client, desk: Desk) -> None:
    ann = on_shift(desk)
    bob = on_shift(desk)
    question = desk.question(ann)
    client.force_login(bob.user)

    response = client.post(f"/desk/questions/{question.pk}/take-back/")

    question.refresh_from_db()
    assert response.status_code == 403 and question.claimed_by_id == ann.user_id
    assert not AuditEvent.objects.filter(question=question, kind="question.released").exists()


def test_customer_name_is_escaped_on_the_floor_and_question(client: Client, desk: Desk) -> None:
    question = desk.question()
    Customer.objects.filter(questions=question).update(
        name="<b onmouseover=x>Eve</b>", username="eve<i>"
    )
    Question.objects.filter(pk=question.pk).update(sla_due_at=timezone.now())
    client.force_login(desk.supervisor.user)
    for url in (f"/desk/questions/{question.pk}/", "/desk/floor/"):
        page = client.get(url).content.decode()
        assert "<b onmouseover" not in page and "eve<i>" not in page
        assert "eve&lt;i&gt;" in page


# --- the floor's live part -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("certified", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("trainee", 403),
        ("supervisor", 200),
        ("admin", 200),
        ("other-brand-supervisor", 200),
    ],
)
def test_floor_fragment_checks_the_role_as_the_page_does(
    client: Client, desk: Desk, role: str, expected: int
) -> None:
    # Given someone on shift holding a question, and a person in ``role``
    ann = on_shift(desk, display_name="Ann On")
    held = desk.question(ann)
    People(desk.brand).log_in(client, role)

    # When they ask for the page and for its live part
    page = client.get("/desk/floor/")
    body = client.get("/desk/floor/body/", headers={"HX-Request": "true"})

    # Then both answer alike; the fragment is only the live part, of their own brand
    assert (page.status_code, body.status_code) == (expected, expected)
    if expected == 302:
        assert page["Location"] == "/accounts/login/?next=/desk/floor/"
        assert body["Location"] == "/accounts/login/?next=/desk/floor/body/"
    if expected == 200:
        fragment = body.content.decode()
        ours = role != "other-brand-supervisor"
        assert ("Ann On" in fragment, held.text in fragment) == (ours, ours)
        assert "<html" not in fragment and "<title>" not in fragment
        assert 'id="near-h"' in fragment


def test_floor_fragment_says_when_it_was_drawn_and_follows_changes(
    client: Client, desk: Desk, time_machine: Any
) -> None:
    # Given a floor with nobody on shift, seen at a known second
    seen = timezone.now().replace(microsecond=0) + timedelta(minutes=1)
    time_machine.move_to(seen, tick=False)
    client.force_login(desk.supervisor.user)
    before = client.get("/desk/floor/body/").content.decode()
    assert "Nobody is on shift." in before
    stamp = f'<time datetime="{seen.isoformat()}">{seen:%H:%M:%S}</time>'
    assert stamp in before

    # When someone goes on shift and takes a question, ten seconds later
    later = seen + timedelta(seconds=10)
    time_machine.move_to(later, tick=False)
    ann = on_shift(desk, display_name="Ann On")
    held = desk.question(ann)
    after = client.get("/desk/floor/body/").content.decode()

    # Then the next refresh shows them, and the new time
    assert "Nobody is on shift." not in after
    assert "Ann On" in after and held.text in after
    assert f">{later:%H:%M:%S}</time>" in after and stamp not in after


def test_floor_page_refreshes_its_live_part_and_keeps_the_query(client: Client, desk: Desk) -> None:
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/floor/", {"store": "NW-SEA"}).content.decode()

    body_url = "/desk/floor/body/?store=NW-SEA"
    assert f'<div id="floor-body" hx-get="{body_url}" hx-trigger="every 10s" ' in page
    # Without JavaScript the refresh is a plain link back to the same page.
    assert f'href="/desk/floor/?store=NW-SEA" hx-get="{body_url}"' in page
    assert page.count('id="near-h"') == 1


def test_a_question_both_held_and_late_has_distinct_reassign_fields(
    client: Client, desk: Desk
) -> None:
    ann = on_shift(desk)
    on_shift(desk)
    held = desk.question(ann)
    Question.objects.filter(pk=held.pk).update(sla_due_at=timezone.now())
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/floor/").content.decode()

    assert page.count(f'id="to-held-{held.pk}"') == 1
    assert page.count(f'id="to-near-{held.pk}"') == 1


def test_the_floor_refreshes_in_french(client: Client, desk: Desk) -> None:
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/floor/", headers={"Accept-Language": "fr"}).content.decode()
    body = client.get("/desk/floor/body/", headers={"Accept-Language": "fr"}).content.decode()

    assert "Actualiser maintenant" in page and "toutes les 10 secondes" in page
    assert "Mis à jour à" in body and "Updated at" not in body


@pytest.mark.parametrize(
    "state",
    [QuestionState.APPROVED, QuestionState.ANSWERED, QuestionState.FAILED, QuestionState.ESCALATED],
)
def test_a_question_past_its_claim_says_who_handled_it(
    client: Client, desk: Desk, state: str
) -> None:
    """Issue 11 (8): once the lease is gone the page said "Held by Alice until ." (no time)."""
    holder = desk.member("certified")
    question = desk.question(holder)
    Question.objects.filter(pk=question.pk).update(state=state, lease_expires_at=None)
    client.force_login(holder.user)

    page = client.get(f"/desk/questions/{question.pk}/").content.decode()

    assert "until ." not in page and "Held by" not in page
    assert "Handled by " in page


def test_the_floor_offers_only_the_reassignments_it_accepts(client: Client, desk: Desk) -> None:
    """Issue 11 (18): the reassign menus listed people of every store and then refused
    them; a question held by someone of another store offered a reassignment too."""
    mine, theirs = make_store(desk.brand, code="MINE"), make_store(desk.brand, code="THEIRS")
    desk.supervisor.store = mine
    desk.supervisor.save()
    ann = on_shift(desk, store=mine, display_name="Ann Mine")
    bea = on_shift(desk, store=mine, display_name="Bea Mine")
    carl = on_shift(desk, store=theirs, display_name="Carl Theirs")
    held_by_ann, held_by_carl = desk.question(ann), desk.question(carl)
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/floor/").content.decode()

    options = set(re.findall(r'<option value="(\d+)">', page))
    assert str(bea.user_id) in options
    assert options <= {str(ann.user_id), str(bea.user_id)}
    assert f'action="/desk/questions/{held_by_ann.pk}/reassign/"' in page
    assert f'action="/desk/questions/{held_by_carl.pk}/reassign/"' not in page


def test_the_customers_earlier_questions_are_earlier_ones(client: Client, desk: Desk) -> None:
    """Issue 11 (19): the list of the customer's earlier questions showed later ones too."""
    holder = desk.member("certified")
    before, question, after = (desk.question(holder) for _ in range(3))
    Question.objects.filter(pk__in=[before.pk, after.pk]).update(customer=question.customer)
    Question.objects.filter(pk=before.pk).update(text="the one before")
    Question.objects.filter(pk=after.pk).update(text="the one after")
    client.force_login(holder.user)

    page = client.get(f"/desk/questions/{question.pk}/").content.decode()

    assert "the one before" in page
    assert "the one after" not in page


RLO = "\N{RIGHT-TO-LEFT OVERRIDE}"
ISOLATING = frozenset({"bdi", "textarea", "option", "title", "script"})


class _Isolation(HTMLParser):
    """Finds text holding a right-to-left override that no element isolates: its innermost
    element is neither a ``<bdi>`` nor one with a ``dir`` attribute."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append((tag, tag in ISOLATING or any(k == "dir" for k, _v in attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if RLO in data and not (self.stack and self.stack[-1][1]):
            where = "/".join(tag for tag, _isolated in self.stack[-3:])
            self.loose.append(f"{where}: {data.strip()[:40]!r}")


def test_customers_words_cannot_reorder_the_desks_own(client: Client, desk: Desk) -> None:
    """Issue 11 (14): a customer's name or text with a right-to-left override reordered the
    desk's words around it; each is shown with its direction isolated."""
    holder = on_shift(desk)
    question = desk.question(holder)
    Customer.objects.filter(questions=question).update(name=f"{RLO}evE yrraH")
    Question.objects.filter(pk=question.pk).update(
        text=f"@NorthwindHelp {RLO}my order is late", sla_due_at=timezone.now()
    )
    in_review = pending(desk)
    Customer.objects.filter(questions=in_review.question).update(name=f"{RLO}evE yrraH")
    Question.objects.filter(pk=in_review.question_id).update(text=f"{RLO}still late")
    # An escalated question of that customer, and a reply of each outbox tab to them.
    escalated = desk.question(holder)
    Question.objects.filter(pk=escalated.pk).update(
        state="escalated", text=f"{RLO}refund please", customer=question.customer
    )
    from helpdesk.audit import record

    record(
        "question.escalated",
        question=escalated,
        to_state="escalated",
        data={"note": f"{RLO}tried everything"},
    )
    for state in ("failed", "queued", "sent"):
        extra = desk.question(holder)
        Question.objects.filter(pk=extra.pk).update(
            text=f"{RLO}where is it",
            customer=question.customer,
            state="failed" if state == "failed" else extra.state,
        )
        Reply.objects.create(
            question=extra,
            author=holder.user,
            account=desk.account,
            text=f"@{RLO}customer hello ^AB",
            state=state,
            tweet_id=f"99{extra.pk}",
            failure_reason=f"{RLO}refused",
        )
    pages = {
        holder.user: [
            f"/desk/questions/{question.pk}/",
            f"/desk/questions/{question.pk}/compose/",
            "/queue/",
        ],
        desk.supervisor.user: [
            "/desk/floor/",
            f"/desk/questions/{question.pk}/",
            "/desk/review/",
            f"/desk/questions/{in_review.question_id}/",
            "/desk/outbox/?show=failed",
            "/desk/outbox/?show=queued",
            "/desk/outbox/?show=sent",
            "/desk/escalations/",
            "/monitoring/live/",
        ],
        in_review.author: ["/desk/my-feedback/"],
    }
    loose, without = [], []
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            finder = _Isolation()
            page = client.get(url).content.decode()
            finder.feed(page)
            loose += [f"{url} {spot}" for spot in finder.loose]
            if RLO not in page:
                without.append(url)

    assert loose == [], "\n".join(loose)
    # and the test is not empty: every page but these showed the customer's words
    assert without == ["/queue/", "/monitoring/live/", "/desk/my-feedback/"], without
