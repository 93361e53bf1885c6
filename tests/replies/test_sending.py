"""Posting replies to the X sandbox through tweepy: exactly once, whatever X answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from helpdesk.models import AuditEvent, Question, Reply, XAccount
from helpdesk.replies import ReplyError, delete_sent_reply, send_queue_position
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import posting
from tests.replies.conftest import Desk

pytestmark = pytest.mark.django_db


def replies_on_x(desk: Desk, question: Question) -> list[Any]:
    return [
        t
        for t in desk.sandbox.world.find(in_reply_to=question.tweet_id)
        if t.author_id == desk.account.x_user_id
    ]


def fresh(reply: Reply) -> Reply:
    return Reply.objects.select_related("question").get(pk=reply.pk)


def test_a_reply_is_posted_once_in_reply_to_the_question_from_the_care_account(
    live_desk: Desk,
) -> None:
    reply = live_desk.queued_reply()

    dispatched = posting.dispatch_due()

    reply = fresh(reply)
    assert dispatched.dispatched == [reply.pk]
    assert reply.state == ReplyState.SENT and reply.sending_since is None
    assert reply.send_attempts == 1 and reply.sent_at is not None
    posted = replies_on_x(live_desk, reply.question)
    assert [t.id for t in posted] == [reply.tweet_id]
    assert posted[0].text == reply.text and posted[0].author_username == live_desk.account.username
    assert reply.question.state == QuestionState.ANSWERED
    sent = AuditEvent.objects.get(kind="reply.sent", question=reply.question)
    assert sent.data["tweet_id"] == reply.tweet_id and sent.data["found_on_x"] is False
    # Dispatching or sending again does nothing
    assert posting.dispatch_due().dispatched == []
    assert posting.send_reply(reply.pk) == "not_ours"
    assert live_desk.sandbox.world.requests["create_tweet"] == 1


def test_a_timeout_after_x_accepted_is_settled_by_looking_not_by_posting_again(
    live_desk: Desk, settings: Any
) -> None:
    settings.X_HTTP_TIMEOUT_SECONDS = 0.3
    reply = live_desk.queued_reply()
    live_desk.sandbox.world.add_fault("create_tweet", "timeout_after_accept", seconds=1.0)

    outcome = posting.send_reply(reply.pk)

    reply = fresh(reply)
    assert outcome == "sent" and reply.state == ReplyState.SENT
    posted = replies_on_x(live_desk, reply.question)
    assert [t.id for t in posted] == [reply.tweet_id]
    assert live_desk.sandbox.world.requests["create_tweet"] == 1
    assert AuditEvent.objects.get(kind="reply.sent").data["found_on_x"] is True


def test_a_reply_whose_look_on_x_fails_stays_held_and_the_audit_log_says_so(
    live_desk: Desk, settings: Any
) -> None:
    # Given X accepting the post but timing out, then failing the look on its timeline
    settings.X_HTTP_TIMEOUT_SECONDS = 0.3
    reply = live_desk.queued_reply()
    world = live_desk.sandbox.world
    world.add_fault("create_tweet", "timeout_after_accept", seconds=1.0)
    world.add_fault("user_tweets", "5xx")

    outcome = posting.send_reply(reply.pk)

    # Then the reply stays held for the sweep, and the audit log has why
    reply = fresh(reply)
    assert outcome == "in_doubt"
    assert reply.state == ReplyState.QUEUED and reply.sending_since is not None
    doubt = AuditEvent.objects.get(kind="reply.send_in_doubt")
    assert doubt.question_id == reply.question_id and doubt.actor_label == "system:outbox"
    assert doubt.data["reply_id"] == reply.pk and doubt.data["attempts"] == 1
    assert "ReadTimeout" in doubt.data["error"] and "503" in doubt.data["error"]

    # And once the sweep looks, it is settled as sent, posted once
    Reply.objects.filter(pk=reply.pk).update(sending_since=timezone.now() - posting.stuck_after())
    assert posting.sweep_replies().settled_sent == 1
    assert len(replies_on_x(live_desk, fresh(reply).question)) == 1
    assert AuditEvent.objects.filter(kind="reply.send_in_doubt").count() == 1


def test_a_5xx_backs_off_then_the_retry_posts(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    live_desk.sandbox.world.add_fault("create_tweet", "5xx")
    before = timezone.now()

    assert posting.send_reply(reply.pk) == "requeued"

    reply = fresh(reply)
    assert reply.state == ReplyState.QUEUED and reply.sending_since is None
    assert reply.scheduled_for is not None and reply.scheduled_for >= before + timedelta(seconds=1)
    assert "503" in reply.last_send_error
    assert reply.question.state == QuestionState.APPROVED
    assert posting.send_reply(reply.pk) == "not_ours"  # not due yet
    Reply.objects.filter(pk=reply.pk).update(scheduled_for=timezone.now())

    assert posting.send_reply(reply.pk) == "sent"

    reply = fresh(reply)
    assert reply.send_attempts == 2 and reply.state == ReplyState.SENT
    assert len(replies_on_x(live_desk, reply.question)) == 1
    assert list(
        AuditEvent.objects.filter(question=reply.question)
        .order_by("pk")
        .values_list("kind", flat=True)
    )[-5:] == [
        "question.sending",
        "question.approved",
        "question.sending",
        "reply.sent",
        "question.answered",
    ]


def test_a_429_reschedules_at_the_reset_and_blocks_the_account(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    other = live_desk.queued_reply()
    live_desk.sandbox.world.add_fault("create_tweet", "429", seconds=120)

    assert posting.send_reply(reply.pk) == "requeued"

    reply = fresh(reply)
    account = XAccount.objects.get(pk=live_desk.account.pk)
    assert account.posts_blocked_until is not None
    assert reply.scheduled_for == account.posts_blocked_until
    assert account.posts_blocked_until > timezone.now() + timedelta(seconds=100)
    # Nothing goes before the reset; both wait for it
    result = posting.dispatch_due()
    assert result.dispatched == []
    assert result.scheduled == {
        reply.pk: account.posts_blocked_until,
        other.pk: account.posts_blocked_until,
    }
    assert replies_on_x(live_desk, reply.question) == []


def test_a_duplicate_403_for_our_own_earlier_post_is_settled_as_sent(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    # An earlier attempt that X accepted without our hearing of it
    earlier = live_desk.sandbox.world.post(
        live_desk.account.x_user_id, reply.text, in_reply_to=reply.question.tweet_id
    )

    assert posting.send_reply(reply.pk) == "sent"

    reply = fresh(reply)
    assert reply.tweet_id == earlier.id
    assert [t.id for t in replies_on_x(live_desk, reply.question)] == [earlier.id]


def test_a_duplicate_of_another_customers_reply_fails_back_to_a_supervisor(
    live_desk: Desk,
) -> None:
    first = live_desk.queued_reply(text="Thanks, we are on it. ^AB")
    second = live_desk.queued_reply(text="Thanks, we are on it. ^AB")
    assert posting.send_reply(first.pk) == "sent"

    assert posting.send_reply(second.pk) == "failed"

    second = fresh(second)
    assert second.state == ReplyState.FAILED
    assert "duplicate content" in second.failure_reason
    assert second.question.state == QuestionState.FAILED


def test_a_reply_x_does_not_allow_fails_with_the_reason(live_desk: Desk) -> None:
    reply = live_desk.queued_reply(mention=False)

    assert posting.send_reply(reply.pk) == "failed"

    reply = fresh(reply)
    assert reply.state == ReplyState.FAILED and reply.tweet_id == ""
    assert reply.failure_reason.startswith("403 Reply to this conversation is not allowed")
    assert reply.question.state == QuestionState.FAILED
    failed = AuditEvent.objects.get(kind="reply.failed")
    assert failed.data["reason"] == reply.failure_reason
    assert AuditEvent.objects.filter(kind="question.failed", question=reply.question).exists()
    assert replies_on_x(live_desk, reply.question) == []


def _crashed_mid_send(reply: Reply, minutes_ago: int = 5) -> datetime:
    """What a worker killed after claiming leaves behind."""
    since = timezone.now() - timedelta(minutes=minutes_ago)
    Reply.objects.filter(pk=reply.pk).update(
        sending_since=since, last_attempt_at=since, send_attempts=1
    )
    Question.objects.filter(pk=reply.question_id).update(state=QuestionState.SENDING)
    return since


def test_the_sweep_settles_a_crash_after_x_posted_as_sent(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    since = _crashed_mid_send(reply)
    posted = live_desk.sandbox.world.post(
        live_desk.account.x_user_id, reply.text, in_reply_to=reply.question.tweet_id
    )
    posted.created_at = since + timedelta(seconds=1)  # the crashed worker's request

    result = posting.sweep_replies()

    reply = fresh(reply)
    assert (result.settled_sent, result.requeued) == (1, 0)
    assert reply.state == ReplyState.SENT and reply.tweet_id == posted.id
    assert reply.question.state == QuestionState.ANSWERED
    assert live_desk.sandbox.world.requests["create_tweet"] == 0


def test_the_sweep_requeues_a_crash_before_x_posted_and_it_is_sent_once(
    live_desk: Desk,
) -> None:
    reply = live_desk.queued_reply()
    recent = live_desk.queued_reply()
    _crashed_mid_send(reply)
    _crashed_mid_send(recent, minutes_ago=0)  # its sender may still be talking to X

    result = posting.sweep_replies()

    assert (result.settled_sent, result.requeued, result.redispatched) == (0, 1, 1)
    reply = fresh(reply)
    assert reply.state == ReplyState.SENT and reply.send_attempts == 2
    assert len(replies_on_x(live_desk, reply.question)) == 1
    recent = fresh(recent)
    assert recent.state == ReplyState.QUEUED and recent.sending_since is not None
    assert replies_on_x(live_desk, recent.question) == []


def test_sends_wait_for_the_accounts_budget_in_priority_order(live_desk: Desk) -> None:
    XAccount.objects.filter(pk=live_desk.account.pk).update(post_limit_per_window=3)
    normal = [live_desk.queued_reply() for _ in range(4)]
    urgent = live_desk.queued_reply(priority=0)
    before = timezone.now()

    result = posting.dispatch_due()

    after = timezone.now()
    assert result.dispatched == [urgent.pk, normal[0].pk, normal[1].pk]
    assert set(result.scheduled) == {normal[2].pk, normal[3].pk}
    states = {r.pk: fresh(r).state for r in [*normal, urgent]}
    assert list(states.values()).count(ReplyState.SENT) == 3
    for waiting in normal[2:]:
        at = fresh(waiting).scheduled_for
        assert at is not None and before + timedelta(seconds=900) <= at
        assert at <= after + timedelta(seconds=900)
    # Once the first three are out, the wait is counted from when they went
    last = send_queue_position(normal[3])
    sent_at = sorted(t for r in [urgent, *normal[:2]] if (t := fresh(r).sent_at) is not None)
    assert last.ahead == 1 and last.expected_at == sent_at[1] + timedelta(seconds=900)
    assert posting.dispatch_due().dispatched == []
    assert fresh(normal[3]).scheduled_for == last.expected_at
    assert live_desk.sandbox.world.requests["create_tweet"] == 3


def test_x_spent_window_header_blocks_the_account_until_its_reset(live_desk: Desk) -> None:
    live_desk.sandbox.world.set_limit("create_tweet", 1)
    reply = live_desk.queued_reply()

    assert posting.send_reply(reply.pk) == "sent"

    account = XAccount.objects.get(pk=live_desk.account.pk)
    assert account.posts_blocked_until is not None
    assert account.posts_blocked_until > datetime.now(UTC) + timedelta(seconds=800)


def test_a_supervisor_deletes_a_sent_reply_from_x(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    posting.dispatch_due()
    reply = fresh(reply)
    volunteer = live_desk.member("mentor")

    with pytest.raises(ReplyError):
        delete_sent_reply(reply, by=volunteer.user, reason="Wrong customer")
    with pytest.raises(ReplyError):
        delete_sent_reply(reply, by=live_desk.supervisor.user, reason=" ")
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is not None

    deleted = delete_sent_reply(reply, by=live_desk.supervisor.user, reason="Wrong customer")

    assert deleted.state == ReplyState.DELETED and deleted.deleted_by_id is not None
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is None
    event = AuditEvent.objects.get(kind="reply.deleted")
    assert event.actor_id == live_desk.supervisor.user.pk
    assert event.data == {
        "reply_id": reply.pk,
        "reason": "Wrong customer",
        "tweet_id": reply.tweet_id,
    }


@pytest.mark.parametrize(
    ("then", "state", "closed_list"),
    [("queue", QuestionState.QUEUED, False), ("supervisor", QuestionState.ESCALATED, True)],
)
def test_deleting_the_only_reply_reopens_the_question_as_the_moderator_chooses(
    live_desk: Desk, then: str, state: str, closed_list: bool
) -> None:
    from routing.handover import escalation_notes, escalations_of

    reply = live_desk.queued_reply()
    posting.dispatch_due()
    reply = fresh(reply)
    question = Question.objects.get(pk=reply.question_id)
    assert question.state == QuestionState.ANSWERED
    first_response = question.first_response_at

    delete_sent_reply(reply, by=live_desk.supervisor.user, reason="Wrong customer", then=then)

    question.refresh_from_db()
    assert question.state == state
    assert question.claimed_by_id is None
    # The customer did see a reply: the first response stays what it was.
    assert question.first_response_at == first_response
    event = AuditEvent.objects.get(kind="question.reopened")
    assert (event.from_state, event.to_state) == (QuestionState.ANSWERED, state)
    listed = [q.pk for q in escalations_of(live_desk.supervisor)]
    assert (question.pk in listed) is closed_list
    if closed_list:
        note = escalation_notes([question.pk])[question.pk].note
        assert note == "Our reply was deleted from X: Wrong customer"


def test_a_bad_choice_deletes_nothing(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    posting.dispatch_due()
    reply = fresh(reply)
    with pytest.raises(ReplyError):
        delete_sent_reply(reply, by=live_desk.supervisor.user, reason="x", then="nowhere")
    assert fresh(reply).state == ReplyState.SENT
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is not None
