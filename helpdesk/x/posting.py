"""Posting approved replies to X, each at most once, under each account's rate limits.

The outbox is the reply row itself in state ``queued``. Three functions move it:

* :func:`dispatch_due` (beat, every few seconds) plans each account's queue in priority
  order under its budget (its own count of posts in the last window, X's
  ``x-rate-limit-*`` headers and 429s), writes when each waiting reply is expected to go
  (``scheduled_for``) and enqueues a send task for each reply that may go now.
* :func:`send_reply` (the task) claims the reply by one conditional update that sets
  ``sending_since`` *before* calling X. A reply with ``sending_since`` set is never posted
  again until someone has looked on X: after a timeout, a connection error, a 5xx or a
  "duplicate content" 403, the task reads the account's recent posts for a reply to that
  tweet first, and only when there is none does the reply go back to the queue.
* :func:`sweep_replies` (beat) settles replies whose sender died (a killed worker, a lost
  task): past ``stuck_after()`` it looks on X the same way, and redispatches queued replies
  whose task never ran.

Why this gives "at most once": a POST is only ever made by the holder of the claim, the
claim is only given back after a look on X found nothing, and the look happens only after
the POST's own request has ended (the sender's) or cannot still be running (the sweep waits
longer than two HTTP timeouts). Should X make a post visible only after our look, the
retry posts the same text to the same account and X's duplicate-content rule refuses it;
that 403 makes us look again.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from charter.models import LinkedXAccount
from helpdesk.linking import LinkError, valid_access_token
from helpdesk.models import Question, Reply, XAccount
from helpdesk.moves import move_question, move_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import gateway

log = logging.getLogger(__name__)

SYSTEM = "system:outbox"
# A dispatched task that has not claimed its reply after this long is presumed lost.
DISPATCH_LEASE = timedelta(seconds=30)
# Retry delays after an ambiguous answer or a 5xx that X did not post: 1, 2, 4... seconds.
BACKOFF_BASE_SECONDS = 1.0

# Clock difference between us and X that a look on X allows for.
LOOK_MARGIN = timedelta(seconds=5)

# X's documented limit on posts per user, for replies from volunteers' linked accounts.
LINKED_POSTS_PER_WINDOW = 100
LINKED_WINDOW_SECONDS = 900

DUPLICATE_MARK = "duplicate content"
SUSPENDED_MARK = "suspended"


def stuck_after() -> timedelta:
    """How long a reply may stay ``sending`` before the sweep looks on X. Longer than two
    HTTP timeouts, so the sender's own request (and its look) cannot still be running."""
    return timedelta(seconds=2 * settings.X_HTTP_TIMEOUT_SECONDS + 30)


@dataclass(frozen=True)
class _Claim:
    """The sender's hold on a reply: valid while the row still has this ``sending_since``."""

    reply_id: int
    since: datetime

    def rows(self) -> Q:
        return Q(pk=self.reply_id, state=ReplyState.QUEUED, sending_since=self.since)


# --- planning under the rate limits ---------------------------------------------------------


def plan_account(account: XAccount, now: datetime) -> list[tuple[int, datetime]]:
    """When each of the care account's waiting replies may go, in send order.

    A sliding window: no more than ``post_limit_per_window`` posts in any
    ``post_window_seconds``, counting posts already made, posts in flight (as now), and
    nothing before ``posts_blocked_until``. Order: priority (0 is urgent), then queue age.
    Replies posted from volunteers' linked accounts count against their own X users.
    """
    blocked = account.posts_blocked_until
    return _plan(
        Reply.objects.filter(account=account, from_linked_account=False),
        window=timedelta(seconds=account.post_window_seconds),
        limit=account.post_limit_per_window,
        not_before=blocked if blocked is not None and blocked > now else now,
        now=now,
    )


def plan_linked(author_id: int, now: datetime) -> list[tuple[int, datetime]]:
    """The same plan for the replies a volunteer posts from their linked account, under X's
    documented 100 posts per 15 minutes per user."""
    return _plan(
        Reply.objects.filter(author_id=author_id, from_linked_account=True),
        window=timedelta(seconds=LINKED_WINDOW_SECONDS),
        limit=LINKED_POSTS_PER_WINDOW,
        not_before=now,
        now=now,
    )


def plan_for(reply: Reply, now: datetime) -> list[tuple[int, datetime]]:
    """The plan of the sender ``reply`` goes out with."""
    if reply.from_linked_account:
        return plan_linked(reply.author_id, now)
    return plan_account(reply.account, now)


def _plan(
    replies: QuerySet[Reply],
    *,
    window: timedelta,
    limit: int,
    not_before: datetime,
    now: datetime,
) -> list[tuple[int, datetime]]:
    limit = max(limit, 1)
    sent = replies.filter(sent_at__gt=now - window).values_list("sent_at", flat=True)
    in_flight = replies.filter(state=ReplyState.QUEUED, sending_since__isnull=False).count()
    slots: list[datetime] = sorted([s for s in sent if s is not None] + [now] * in_flight)
    waiting = (
        replies.filter(state=ReplyState.QUEUED, sending_since__isnull=True)
        .order_by("priority", "queued_at", "pk")
        .values_list("pk", "scheduled_for")
    )
    plan: list[tuple[int, datetime]] = []
    for pk, scheduled_for in waiting:
        at = max(not_before, scheduled_for or now)
        if len(slots) >= limit:
            at = max(at, slots[len(slots) - limit] + window)
        bisect.insort(slots, at)
        plan.append((pk, at))
    return plan


@dataclass
class DispatchResult:
    dispatched: list[int] = field(default_factory=list)
    scheduled: dict[int, datetime] = field(default_factory=dict)


def dispatch_due(now: datetime | None = None) -> DispatchResult:
    """Enqueue a send task for every reply that may go now; write when the others will go.

    A reply is dispatched again only if its earlier task has not claimed it within
    ``DISPATCH_LEASE`` (a worker died holding the message).
    """
    now = now or timezone.now()
    result = DispatchResult()
    waiting = Reply.objects.filter(state=ReplyState.QUEUED, sending_since__isnull=True)
    account_ids = (
        waiting.filter(from_linked_account=False).values_list("account_id", flat=True).distinct()
    )
    plans = [plan_account(account, now) for account in XAccount.objects.filter(pk__in=account_ids)]
    authors = waiting.filter(from_linked_account=True).values_list("author_id", flat=True)
    plans += [plan_linked(author_id, now) for author_id in set(authors)]
    for plan in plans:
        due = [pk for pk, at in plan if at <= now]
        later = {pk: at for pk, at in plan if at > now}
        if later:
            rows = list(Reply.objects.filter(pk__in=later).only("pk", "scheduled_for"))
            changed = [r for r in rows if r.scheduled_for != later[r.pk]]
            for row in changed:
                row.scheduled_for = later[row.pk]
            Reply.objects.bulk_update(changed, ["scheduled_for"], batch_size=500)
            result.scheduled.update(later)
        if not due:
            continue
        with transaction.atomic():
            won = list(
                Reply.objects.select_for_update(skip_locked=True)
                .filter(pk__in=due, state=ReplyState.QUEUED, sending_since__isnull=True)
                .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - DISPATCH_LEASE))
                .values_list("pk", flat=True)
            )
            Reply.objects.filter(pk__in=won).update(dispatched_at=now)
        order = {pk: i for i, pk in enumerate(due)}
        won.sort(key=order.__getitem__)
        for pk in won:
            send_reply_task.delay(pk)
        result.dispatched.extend(won)
    return result


# --- sending ---------------------------------------------------------------------------------


def _claim(reply_id: int, now: datetime) -> _Claim | None:
    """Take the reply for one attempt, or None if it is not ours to send now."""
    with transaction.atomic():
        won = (
            Reply.objects.filter(pk=reply_id, state=ReplyState.QUEUED, sending_since__isnull=True)
            .filter(Q(scheduled_for__isnull=True) | Q(scheduled_for__lte=now))
            .update(sending_since=now, last_attempt_at=now, send_attempts=F("send_attempts") + 1)
        )
        if not won:
            return None
        reply = Reply.objects.select_related("question").get(pk=reply_id)
        _move_question(reply.question, QuestionState.APPROVED, QuestionState.SENDING, reply)
    return _Claim(reply_id, now)


def _move_question(
    question: Question,
    from_state: str,
    to_state: str,
    reply: Reply,
    *,
    data: dict[str, object] | None = None,
) -> None:
    """Move the reply's question on, if it is still where the sender left it."""
    move_question(
        question,
        to_state,
        from_state=from_state,
        actor_label=SYSTEM,
        data={"reply_id": reply.pk, **(data or {})},
        announce=False,
    )


def sender_client(reply: Reply) -> Any:
    """The tweepy client that posts (and looks for, and deletes) ``reply``: the care
    account's, or the author's linked account's when the reply goes from there. Raises
    ``LinkError`` when that link is gone, points at another X user now, or cannot be
    renewed."""
    if not reply.from_linked_account:
        return gateway.client_for(reply.account)
    linked = LinkedXAccount.objects.filter(user_id=reply.author_id).first()
    if linked is None or linked.x_user_id != reply.from_x_user_id:
        raise LinkError(
            f"The author's X account @{reply.from_username} is no longer linked to the desk."
        )
    return gateway.client_for_user_token(valid_access_token(reply.author))


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
    claim = _claim(reply_id, now)
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
            return _look_then(claim, reply, client, error, permanent=True)
        _fail(claim, reply, detail)
        return "failed"
    except (gateway.Unauthorized, gateway.BadRequest, gateway.NotFound) as error:
        _fail(claim, reply, gateway.api_error_detail(error))
        return "failed"
    except (gateway.HTTPException, gateway.TransportError) as error:
        # A timeout, a dropped connection or a 5xx: X may have posted it.
        return _look_then(claim, reply, client, error, permanent=False)
    if rate.remaining == 0 and rate.reset_at is not None and not reply.from_linked_account:
        _block_account(reply.account, rate.reset_at)
    _mark_sent(claim, reply, tweet_id, found=False)
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


def _look_then(
    claim: _Claim, reply: Reply, client: Any, error: Exception, *, permanent: bool
) -> str:
    """After an answer that does not say whether X posted: look, then settle."""
    detail = gateway.api_error_detail(error)
    try:
        found = _look(reply, client, any_attempt=permanent)
    except (gateway.HTTPException, gateway.TransportError) as look_error:
        _in_doubt(claim, reply, f"{detail}; look failed: {gateway.api_error_detail(look_error)}")
        return "in_doubt"
    if found is not None:
        _mark_sent(claim, reply, found, found=True)
        return "sent"
    if permanent:
        _fail(claim, reply, detail)
        return "failed"
    _requeue(claim, reply, at=None, error=error)
    return "requeued"


def _look(reply: Reply, client: Any, *, any_attempt: bool = False) -> str | None:
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


def _mark_sent(claim: _Claim, reply: Reply, tweet_id: str, *, found: bool) -> None:
    now = timezone.now()
    with transaction.atomic():
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
        _move_question(reply.question, QuestionState.SENDING, QuestionState.ANSWERED, reply)


def _requeue(claim: _Claim, reply: Reply, *, at: datetime | None, error: Exception) -> None:
    now = timezone.now()
    if at is None:
        delay = min(
            BACKOFF_BASE_SECONDS * 2 ** max(reply.send_attempts - 1, 0),
            settings.X_BACKOFF_MAX_SECONDS,
        )
        at = now + timedelta(seconds=delay)
    detail = gateway.api_error_detail(error)
    with transaction.atomic():
        moved = Reply.objects.filter(claim.rows()).update(
            sending_since=None, dispatched_at=None, scheduled_for=at, last_send_error=detail
        )
        if not moved:
            return
        _move_question(
            reply.question,
            QuestionState.SENDING,
            QuestionState.APPROVED,
            reply,
            data={"retry_at": at.isoformat(), "error": detail},
        )


def _in_doubt(claim: _Claim, reply: Reply, detail: str) -> None:
    """We could not tell whether X posted it: keep it held; the sweep looks again later."""
    Reply.objects.filter(claim.rows()).update(sending_since=timezone.now(), last_send_error=detail)
    log.warning("reply %s: in doubt (%s); the sweep will look again", reply.pk, detail)


def _fail(claim: _Claim, reply: Reply, reason: str) -> None:
    now = timezone.now()
    with transaction.atomic():
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
        _move_question(
            reply.question,
            QuestionState.SENDING,
            QuestionState.FAILED,
            reply,
            data={"reason": reason},
        )


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    settled_sent: int = 0
    requeued: int = 0
    in_doubt: int = 0
    redispatched: int = 0


def sweep_replies(now: datetime | None = None) -> SweepResult:
    """Settle replies stuck in ``sending`` (look on X: sent, or back to the queue) and
    redispatch queued replies whose task was lost."""
    now = now or timezone.now()
    result = SweepResult()
    stuck = Reply.objects.filter(
        state=ReplyState.QUEUED, sending_since__lt=now - stuck_after()
    ).values_list("pk", "sending_since")
    for pk, since in stuck:
        # Take the look over by moving the claim's mark: a second sweep skips it.
        assert since is not None
        if not Reply.objects.filter(pk=pk, state=ReplyState.QUEUED, sending_since=since).update(
            sending_since=now
        ):
            continue
        claim = _Claim(pk, now)
        reply = Reply.objects.select_related("question", "account", "author").get(pk=pk)
        try:
            found = _look(reply, sender_client(reply))
        except LinkError as error:
            _in_doubt(claim, reply, f"sweep: cannot look as the linked account: {error}")
            result.in_doubt += 1
            continue
        except (gateway.HTTPException, gateway.TransportError) as error:
            _in_doubt(claim, reply, f"sweep: look failed: {gateway.api_error_detail(error)}")
            result.in_doubt += 1
            continue
        if found is not None:
            _mark_sent(claim, reply, found, found=True)
            result.settled_sent += 1
        else:
            _requeue_now(claim, reply, at=now)
            result.requeued += 1
    result.redispatched = len(dispatch_due(now).dispatched)
    return result


def _requeue_now(claim: _Claim, reply: Reply, *, at: datetime) -> None:
    with transaction.atomic():
        moved = Reply.objects.filter(claim.rows()).update(
            sending_since=None,
            dispatched_at=None,
            scheduled_for=at,
            last_send_error="sweep: the sender stopped and X has no such post",
        )
        if moved:
            _move_question(
                reply.question,
                QuestionState.SENDING,
                QuestionState.APPROVED,
                reply,
                data={"swept": True},
            )


# --- moderation ------------------------------------------------------------------------------


def delete_from_x(reply: Reply) -> None:
    """Delete the reply's post from the account that made it."""
    gateway.delete_tweet(sender_client(reply), reply.tweet_id)
