"""Replies X refused for good go back to a supervisor, who sends them again (perhaps edited),
gives the question back to the queue or dismisses it; and the outbox page, for every role."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpdesk.models import AuditEvent, Question, Reply, Role
from helpdesk.outbox import dismiss_failed_question, retry_failed_reply, return_failed_question
from helpdesk.replies import ReplyError, reject_reply, submit_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import posting
from tests.factories import make_volunteer
from tests.people import People
from tests.replies.conftest import Desk


def fresh(reply: Reply) -> Reply:
    return Reply.objects.select_related("question").get(pk=reply.pk)


def replies_on_x(desk: Desk, question: Question) -> list[Any]:
    return [
        t
        for t in desk.sandbox.world.find(in_reply_to=question.tweet_id)
        if t.author_id == desk.account.x_user_id
    ]


def failed_duplicate(desk: Desk) -> tuple[Reply, Reply]:
    """Two customers given the same text: X posts the first and refuses the second."""
    first = desk.queued_reply(text="Thanks, we are on it. ^AB")
    second = desk.queued_reply(text="Thanks, we are on it. ^AB")
    assert posting.send_reply(first.pk) == "sent"
    assert posting.send_reply(second.pk) == "failed"
    return first, fresh(second)


def snapshot(reply: Reply) -> tuple[Any, ...]:
    reply = fresh(reply)
    question = reply.question
    return (
        reply.state,
        reply.text,
        reply.failure_reason,
        question.state,
        question.claimed_by_id,
        AuditEvent.objects.count(),
    )


def test_an_edited_retry_reaches_x_once_and_the_audit_says_who(live_desk: Desk) -> None:
    first, failed = failed_duplicate(live_desk)
    supervisor = live_desk.supervisor.user

    retried = retry_failed_reply(
        failed, by=supervisor, edited_text="Thanks for your patience, we are on it. ^AB"
    )

    assert retried.state == ReplyState.QUEUED and retried.failure_reason == ""
    assert retried.original_text == "Thanks, we are on it. ^AB"
    assert retried.edited_by_reviewer
    assert retried.question.state == QuestionState.APPROVED
    event = AuditEvent.objects.get(kind="reply.retried")
    assert event.actor_id == supervisor.pk
    assert event.data["edited"] is True
    assert "duplicate content" in event.data["failure"]
    posting.dispatch_due()
    sent = fresh(failed)
    assert sent.state == ReplyState.SENT and sent.question.state == QuestionState.ANSWERED
    on_x = replies_on_x(live_desk, sent.question)
    assert [t.text for t in on_x] == ["Thanks for your patience, we are on it. ^AB"]
    assert len(replies_on_x(live_desk, first.question)) == 1


def test_a_retry_as_it_is_goes_back_to_the_outbox(live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)

    retried = retry_failed_reply(failed, by=live_desk.supervisor.user)

    assert retried.state == ReplyState.QUEUED and retried.text == "Thanks, we are on it. ^AB"
    assert not retried.edited_by_reviewer and retried.original_text == ""
    assert retried.question.state == QuestionState.APPROVED
    # X still refuses the same text for the second customer: back to the supervisor.
    assert posting.send_reply(retried.pk) == "failed"
    assert fresh(failed).state == ReplyState.FAILED


def test_an_edit_the_linter_blocks_is_refused_and_nothing_changes(live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)
    before = snapshot(failed)

    with pytest.raises(ReplyError) as refused:
        retry_failed_reply(
            failed,
            by=live_desk.supervisor.user,
            edited_text="Your card 4111 1111 1111 1111 is fine. ^AB",
        )

    assert refused.value.code == "edit_blocked" and refused.value.reasons
    assert snapshot(failed) == before


def test_an_empty_edit_is_refused(live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)
    before = snapshot(failed)

    with pytest.raises(ReplyError) as refused:
        retry_failed_reply(failed, by=live_desk.supervisor.user, edited_text="   ")

    assert refused.value.code == "empty"
    assert snapshot(failed) == before


def test_a_supervisor_may_not_edit_their_own_failed_reply(live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)
    author = Reply.objects.get(pk=failed.pk).author
    make_volunteer_role(author, Role.SUPERVISOR)
    before = snapshot(failed)

    with pytest.raises(ReplyError) as refused:
        retry_failed_reply(failed, by=author, edited_text="Other words, same help. ^AB")

    assert refused.value.code == "own_reply"
    assert snapshot(failed) == before


def make_volunteer_role(user: Any, role: str) -> None:
    volunteer = user.volunteer
    volunteer.role = role
    volunteer.save(update_fields=["role"])


def test_giving_the_question_back_leaves_it_unclaimed_for_anyone(live_desk: Desk) -> None:
    reply = live_desk.queued_reply(mention=False)
    assert posting.send_reply(reply.pk) == "failed"

    question = return_failed_question(reply, by=live_desk.supervisor.user)

    question.refresh_from_db()
    assert question.state == QuestionState.QUEUED
    assert question.claimed_by_id is None and question.lease_expires_at is None
    assert fresh(reply).state == ReplyState.FAILED  # kept for the record
    event = AuditEvent.objects.get(kind="question.queued", question=question)
    assert event.actor_id == live_desk.supervisor.user.pk
    assert event.from_state == QuestionState.FAILED
    assert event.data["after_failure"].startswith("403 Reply to this conversation")
    # Nothing left to do for the failed reply once its question moved on.
    with pytest.raises(ReplyError) as refused:
        retry_failed_reply(reply, by=live_desk.supervisor.user)
    assert refused.value.code == "question_moved"


def test_dismissing_needs_a_reason_and_keeps_it(live_desk: Desk) -> None:
    reply = live_desk.queued_reply(mention=False)
    assert posting.send_reply(reply.pk) == "failed"
    before = snapshot(reply)

    for reason in ("", "   ", "x" * 201):
        with pytest.raises(ReplyError):
            dismiss_failed_question(reply, by=live_desk.supervisor.user, reason=reason)
    assert snapshot(reply) == before

    question = dismiss_failed_question(
        reply, by=live_desk.supervisor.user, reason="Customer limited  replies"
    )

    question.refresh_from_db()
    assert question.state == QuestionState.DISMISSED
    assert question.dismissed_reason == "Customer limited replies"
    event = AuditEvent.objects.get(kind="question.dismissed", question=question)
    assert event.actor_id == live_desk.supervisor.user.pk
    assert event.data["reason"] == "Customer limited replies"


def test_a_reply_that_did_not_fail_cannot_be_retried(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    before = snapshot(reply)

    for act in (
        lambda: retry_failed_reply(reply, by=live_desk.supervisor.user),
        lambda: return_failed_question(reply, by=live_desk.supervisor.user),
        lambda: dismiss_failed_question(reply, by=live_desk.supervisor.user, reason="no"),
    ):
        with pytest.raises(ReplyError) as refused:
            act()
        assert refused.value.code == "not_failed"
    assert snapshot(reply) == before


@pytest.mark.parametrize(
    "who",
    [
        "no-desk-record",
        "untrained",
        "trainee",
        "certified",
        "mentor",
        "suspended",
        "agency",
        "other-brand-supervisor",
    ],
)
def test_only_the_brands_supervisors_act_on_failed_replies(live_desk: Desk, who: str) -> None:
    _, failed = failed_duplicate(live_desk)
    user = People(live_desk.brand).user(who)
    before = snapshot(failed)

    for act in (
        lambda: retry_failed_reply(failed, by=user),
        lambda: return_failed_question(failed, by=user),
        lambda: dismiss_failed_question(failed, by=user, reason="spam"),
    ):
        with pytest.raises(ReplyError) as refused:
            act()
        assert refused.value.code == "not_found"
    assert snapshot(failed) == before


# --- the page ------------------------------------------------------------------------------


PAGE_ROLES = [
    ("anonymous", 302),
    ("no-desk-record", 403),
    ("agency", 403),
    ("untrained", 403),
    ("certified", 403),
    ("suspended", 403),
    ("supervisor", 200),
    ("admin", 200),
    ("other-brand-supervisor", 200),
]


@pytest.mark.parametrize(("role", "expected"), PAGE_ROLES)
def test_the_outbox_page_by_role(client: Client, live_desk: Desk, role: str, expected: int) -> None:
    _, failed = failed_duplicate(live_desk)
    People(live_desk.brand).log_in(client, role)

    response = client.get("/desk/outbox/")

    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/accounts/login/")
    if expected == 200:
        page = response.content.decode()
        # Another brand's supervisor sees their own (empty) outbox, never this one.
        assert (f'id="reply-{failed.pk}"' in page) == (role != "other-brand-supervisor")


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("untrained", 403),
        ("certified", 403),
        ("suspended", 403),
        ("supervisor", 302),
        ("admin", 302),
        ("other-brand-supervisor", 404),
    ],
)
@pytest.mark.parametrize("action", ["retry", "give-back", "dismiss"])
def test_the_outbox_actions_by_role(
    client: Client, live_desk: Desk, role: str, expected: int, action: str
) -> None:
    _, failed = failed_duplicate(live_desk)
    before = snapshot(failed)
    People(live_desk.brand).log_in(client, role)

    response = client.post(f"/desk/outbox/{failed.pk}/{action}/", {"reason": "Deleted tweet"})

    assert response.status_code == expected
    after = fresh(failed)
    if role in ("supervisor", "admin"):
        assert response["Location"] == "/desk/outbox/?show=failed"
        moved = {
            "retry": (ReplyState.QUEUED, QuestionState.APPROVED),
            "give-back": (ReplyState.FAILED, QuestionState.QUEUED),
            "dismiss": (ReplyState.FAILED, QuestionState.DISMISSED),
        }[action]
        assert (after.state, after.question.state) == moved
    else:
        assert snapshot(failed) == before


def test_the_failed_tab_shows_xs_reason_escaped(client: Client, live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)
    Reply.objects.filter(pk=failed.pk).update(failure_reason="<img src=x onerror=alert(1)>")
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/outbox/").content.decode()

    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert f'action="/desk/outbox/{failed.pk}/retry/"' in page


def test_an_edited_retry_refused_by_the_linter_says_why(client: Client, live_desk: Desk) -> None:
    _, failed = failed_duplicate(live_desk)
    client.force_login(live_desk.supervisor.user)

    response = client.post(
        f"/desk/outbox/{failed.pk}/retry/",
        {"text": "Card 4111 1111 1111 1111 ^AB"},
        follow=True,
    )

    page = response.content.decode()
    assert "The edited reply breaks a rule that cannot be approved" in page
    assert fresh(failed).state == ReplyState.FAILED


def test_the_sent_tab_links_to_x_and_deletes_with_a_reason(client: Client, live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    posting.dispatch_due()
    reply = fresh(reply)
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/outbox/?show=sent").content.decode()
    # In sandbox mode the post exists only in the sandbox: the link opens its page there.
    base = live_desk.sandbox.base_url.rstrip("/")
    assert f"{base}/{live_desk.account.username}/status/{reply.tweet_id}" in page

    refused = client.post(f"/desk/outbox/{reply.pk}/delete/", {"reason": " "}, follow=True)
    assert "Say why: a reason is required." in refused.content.decode()
    assert fresh(reply).state == ReplyState.SENT

    client.post(f"/desk/outbox/{reply.pk}/delete/", {"reason": "Wrong customer"})
    assert fresh(reply).state == ReplyState.DELETED
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is None


def test_the_waiting_tab_says_when_each_reply_will_go(client: Client, live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/outbox/?show=queued").content.decode()

    assert f'id="reply-{reply.pk}"' in page
    assert "Expected to go at" in page


def test_the_outbox_in_french(client: Client, live_desk: Desk) -> None:
    failed_duplicate(live_desk)
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/outbox/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="fr">' in page
    assert "Envoyer à nouveau" in page


# --- the review page's news ----------------------------------------------------------------


def pending_reply(desk: Desk) -> Reply:
    trainee = desk.member("trainee")
    question = desk.question(trainee)
    reply = submit_reply(question, trainee.user, "We are looking into it now. ^T", language="en")
    assert reply.state == ReplyState.PENDING_REVIEW
    return reply


def test_the_review_news_tells_of_arrivals_and_of_replies_handled_elsewhere(
    client: Client, desk: Desk
) -> None:
    shown = pending_reply(desk)
    client.force_login(desk.supervisor.user)
    page = client.get("/desk/review/").content.decode()
    assert f"/desk/review/news/?seen={shown.pk}" in page
    assert "Up to date" in client.get(f"/desk/review/news/?seen={shown.pk}").content.decode()

    pending_reply(desk)
    pending_reply(desk)
    reject_reply(
        shown, by=make_volunteer(desk.brand, role=Role.ADMIN).user, feedback="Say sorry first."
    )

    news = client.get(f"/desk/review/news/?seen={shown.pk},junk,").content.decode()
    assert "2 new replies are waiting." in news
    assert "1 reply on this page was handled by someone else." in news
    assert 'href="/desk/review/"' in news


def test_the_review_page_points_to_failed_replies(client: Client, live_desk: Desk) -> None:
    failed_duplicate(live_desk)
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/review/").content.decode()

    assert "1 reply could not be sent and needs you." in page
    assert 'href="/desk/outbox/?show=failed"' in page
