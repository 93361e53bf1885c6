"""Sending one reply at most once: claim it, post it, and when X's answer is unclear, look
on X before anything else; and deleting a sent one (moderation)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk.audit import record
from helpdesk.linking import LinkError
from helpdesk.models import Question, Reply, XAccount
from helpdesk.moves import move_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import gateway
from helpdesk.x.metering import bill_found_post
from helpdesk.x.posting.common import (
    BACKOFF_BASE_SECONDS,
    DUPLICATE_MARK,
    LOOK_MARGIN,
    SYSTEM,
    SendClaim,
    move_question_on,
    sender_client,
)

log = logging.getLogger(__name__)


def claim_for_sending(reply_id: int, now: datetime) -> SendClaim | None:
    """Take the reply for one attempt, or None if it is not ours to send now."""
    with transaction.atomic(durable=True):
        won = (
            Reply.objects.filter(pk=reply_id, state=ReplyState.QUEUED, sending_since__isnull=True)
            .filter(Q(scheduled_for__isnull=True) | Q(scheduled_for__lte=now))
            .update(sending_since=now, last_attempt_at=now, send_attempts=F("send_attempts") + 1)
        )
        if not won:
            return None
        reply = Reply.objects.select_related("question").get(pk=reply_id)
        move_question_on(reply.question, QuestionState.APPROVED, QuestionState.SENDING, reply)
    return SendClaim(reply_id, now)


@shared_task(name="helpdesk.tasks.send_reply", ignore_result=True)
def send_reply_task(reply_id: int) -> str:
    """The Celery task that :func:`dispatch_due` enqueues (``helpdesk.tasks`` lists it
    with the others; it is defined here so that the sender does not import its caller)."""
    return send_reply(reply_id)


def send_reply(reply_id: int) -> str:
    """Post one queued reply if it is due and nobody holds it; returns what happened
    (``not_ours``, ``sent``, ``requeued``, ``rescheduled``, ``failed``, ``in_doubt``)."""
    now = timezone.now()
    row = (
        Reply.objects.filter(pk=reply_id)
        .values_list("from_linked_account", "account__posts_blocked_until")
        .first()
    )
    if row is None:
        return "not_ours"
    from_linked_account, blocked = row
    # X blocked the care account; a volunteer's linked account has its own limits.
    if not from_linked_account and blocked is not None and blocked > now:
        Reply.objects.filter(
            pk=reply_id, state=ReplyState.QUEUED, sending_since__isnull=True
        ).update(scheduled_for=blocked, dispatched_at=None)
        return "rescheduled"
    claim = claim_for_sending(reply_id, now)
    if claim is None:
        return "not_ours"
    reply = Reply.objects.select_related("question", "account", "author").get(pk=reply_id)
    if reply.submitted_at is None or (reply.needs_review and reply.reviewed_by_id is None):
        # Invariant 4, checked again at the door: never post what the gate did not pass.
        _fail(claim, reply, "The reply was never passed by the gate or approved.")
        return "failed"
    try:
        client = sender_client(reply)
    except LinkError as error:
        _fail(claim, reply, str(error))
        return "failed"
    try:
        tweet_id, rate = gateway.create_reply(client, reply.text, reply.question.tweet_id)
    except gateway.TooManyRequests as error:
        reset = _reset_time(error, now)
        if not reply.from_linked_account:
            _block_account(reply.account, reset)
        _requeue(claim, reply, at=reset, error=error)
        return "requeued"
    except gateway.Forbidden as error:
        detail = gateway.api_error_detail(error)
        if DUPLICATE_MARK in detail.lower():
            # Perhaps our own earlier attempt, which X accepted but we never heard about.
            return look_then(claim, reply, client, error, permanent=True)
        _fail(claim, reply, detail)
        return "failed"
    except (gateway.Unauthorized, gateway.BadRequest, gateway.NotFound) as error:
        _fail(claim, reply, gateway.api_error_detail(error))
        return "failed"
    except (gateway.HTTPException, gateway.TransportError) as error:
        # A timeout, a dropped connection or a 5xx: X may have posted it.
        return look_then(claim, reply, client, error, permanent=False)
    if rate.remaining == 0 and rate.reset_at is not None and not reply.from_linked_account:
        _block_account(reply.account, rate.reset_at)
    mark_sent(claim, reply, tweet_id, found=False)
    return "sent"


def _reset_time(error: gateway.TooManyRequests, now: datetime) -> datetime:
    if error.reset_time:
        reset = datetime.fromtimestamp(error.reset_time, tz=UTC)
        if reset > now:
            return reset
    return now + timedelta(seconds=60)


def _block_account(account: XAccount, until: datetime) -> None:
    XAccount.objects.filter(pk=account.pk).filter(
        Q(posts_blocked_until__isnull=True) | Q(posts_blocked_until__lt=until)
    ).update(posts_blocked_until=until)


def look_then(
    claim: SendClaim, reply: Reply, client: Any, error: Exception, *, permanent: bool
) -> str:
    """After an answer that does not say whether X posted: look, then settle."""
    detail = gateway.api_error_detail(error)
    try:
        found = look_on_x(reply, client, any_attempt=permanent)
    except (gateway.HTTPException, gateway.TransportError) as look_error:
        mark_in_doubt(
            claim, reply, f"{detail}; look failed: {gateway.api_error_detail(look_error)}"
        )
        return "in_doubt"
    if found is not None:
        mark_sent(claim, reply, found, found=True)
        return "sent"
    if permanent:
        _fail(claim, reply, detail)
        return "failed"
    _requeue(claim, reply, at=None, error=error)
    return "requeued"


def look_on_x(reply: Reply, client: Any, *, any_attempt: bool = False) -> str | None:
    """Our reply to the question on X, if there is one. By default only the window in which
    the last attempt's request could have created it (timeouts, crashes); with
    ``any_attempt``, anything since the reply was queued (a duplicate-content refusal)."""
    assert reply.queued_at is not None and reply.last_attempt_at is not None
    if any_attempt:
        since, until = reply.queued_at - LOOK_MARGIN, None
    else:
        since = reply.last_attempt_at - LOOK_MARGIN
        until = (
            reply.last_attempt_at
            + 2 * timedelta(seconds=settings.X_HTTP_TIMEOUT_SECONDS)
            + LOOK_MARGIN
        )
    return gateway.find_posted_reply(
        client,
        reply.from_x_user_id if reply.from_linked_account else reply.account.x_user_id,
        reply.question.tweet_id,
        reply.text,
        since,
        until,
    )


def mark_sent(claim: SendClaim, reply: Reply, tweet_id: str, *, found: bool) -> None:
    now = timezone.now()
    with transaction.atomic(durable=True):
        moved = move_reply(
            reply,
            ReplyState.SENT,
            kind="reply.sent",
            from_state=ReplyState.QUEUED,
            actor_label=SYSTEM,
            data={
                "tweet_id": tweet_id,
                "account": reply.account.username,
                "attempts": reply.send_attempts,
                "found_on_x": found,
            },
            fields={
                "tweet_id": tweet_id,
                "sent_at": now,
                "sending_since": None,
                "dispatched_at": None,
                "last_send_error": "",
            },
            where=claim.rows(),
            now=now,
            announce={"tweet_id": tweet_id},
        )
        if not moved:
            log.error("reply %s: posted as %s but the claim was lost", reply.pk, tweet_id)
            return
        # The customer's first response: written once, whatever happens to the reply later.
        Question.objects.filter(pk=reply.question_id, first_response_at__isnull=True).update(
            first_reply=reply, first_response_at=now
        )
        move_question_on(reply.question, QuestionState.SENDING, QuestionState.ANSWERED, reply)
        if found:  # X created it and billed it, though its answer never reached us
            assert reply.queued_at is not None
            bill_found_post(reply.account, reply.text, reply.queued_at - LOOK_MARGIN)


def _requeue(claim: SendClaim, reply: Reply, *, at: datetime | None, error: Exception) -> None:
    now = timezone.now()
    if at is None:
        delay = min(
            BACKOFF_BASE_SECONDS * 2 ** max(reply.send_attempts - 1, 0),
            settings.X_BACKOFF_MAX_SECONDS,
        )
        at = now + timedelta(seconds=delay)
    detail = gateway.api_error_detail(error)
    with transaction.atomic(durable=True):
        moved = Reply.objects.filter(claim.rows()).update(
            sending_since=None, dispatched_at=None, scheduled_for=at, last_send_error=detail
        )
        if not moved:
            return
        move_question_on(
            reply.question,
            QuestionState.SENDING,
            QuestionState.APPROVED,
            reply,
            data={"retry_at": at.isoformat(), "error": detail},
        )


def mark_in_doubt(claim: SendClaim, reply: Reply, detail: str) -> None:
    """We could not tell whether X posted it: keep it held; the sweep looks again later.
    The audit log says so, since no state changes until the sweep settles it."""
    with transaction.atomic():
        held = Reply.objects.filter(claim.rows()).update(
            sending_since=timezone.now(), last_send_error=detail
        )
        if held:
            record(
                "reply.send_in_doubt",
                actor_label=SYSTEM,
                question=reply.question,
                data={"reply_id": reply.pk, "attempts": reply.send_attempts, "error": detail},
            )
    log.warning("reply %s: in doubt (%s); the sweep will look again", reply.pk, detail)


def _fail(claim: SendClaim, reply: Reply, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic(durable=True):
        moved = move_reply(
            reply,
            ReplyState.FAILED,
            kind="reply.failed",
            from_state=ReplyState.QUEUED,
            actor_label=SYSTEM,
            data={"reason": reason, "account": reply.account.username},
            fields={
                "sending_since": None,
                "dispatched_at": None,
                "failure_reason": reason,
                "last_send_error": reason,
            },
            where=claim.rows(),
            now=now,
            announce={"reason": reason},
        )
        if not moved:
            return
        move_question_on(
            reply.question,
            QuestionState.SENDING,
            QuestionState.FAILED,
            reply,
            data={"reason": reason},
        )


def delete_from_x(reply: Reply) -> None:
    """Delete the reply's post from the account that made it."""
    gateway.delete_tweet(sender_client(reply), reply.tweet_id)
