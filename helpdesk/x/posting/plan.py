"""Planning each account's queue under its rate limits, and dispatching what may go now."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from helpdesk.models import Reply, XAccount
from helpdesk.states import ReplyState
from helpdesk.x.posting.send import send_reply_task

# A dispatched task that has not claimed its reply after this long is presumed lost.
DISPATCH_LEASE = timedelta(seconds=30)


# X's documented limit on posts per user, for replies from volunteers' linked accounts.
LINKED_POSTS_PER_WINDOW = 100


LINKED_POSTS_PER_WINDOW = 100
LINKED_WINDOW_SECONDS = 900


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
        with transaction.atomic(durable=True):
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
