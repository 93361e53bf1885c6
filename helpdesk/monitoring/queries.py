"""The desk as it is now, for the live monitoring page and ``/metrics``: read-only.

Every figure is defined in ``docs/metrics.md`` (section "Live monitoring"). A supervisor
with a store sees their store's part of the desk: the questions routed to their store and
those in the brand's shared pool (which their volunteers answer too), their store's
volunteers, and their store's replies; the care accounts, their sending and the X bill are
the brand's and shown whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.audit import events
from helpdesk.models import Brand, Question, Reply, Volunteer, XAccount
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.reports.percentiles import Percentiles, SecondsBetween
from helpdesk.reports.queries.spend import BudgetState, month_of, spend_summary
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x.posting.plan import plan_account
from routing.models import Shift, Topic
from routing.queries import language_key
from routing.unclaimable import UNCLAIMABLE

# Waiting for a volunteer: not yet claimed (offered to one volunteer counts as waiting).
WAITING_STATES = (QuestionState.NEW, QuestionState.QUEUED)
# Not answered yet and still the desk's to answer: what a deadline is watched for.
DEADLINE_STATES = (
    QuestionState.NEW,
    QuestionState.QUEUED,
    QuestionState.CLAIMED,
    QuestionState.DRAFTING,
    QuestionState.IN_REVIEW,
    QuestionState.APPROVED,
    QuestionState.SENDING,
)
NEAR_DEADLINE = timedelta(minutes=15)
RESPONSE_WINDOW = timedelta(hours=1)
LAG_WINDOW = timedelta(hours=1)
DEADLINES_SHOWN = 20


@dataclass(frozen=True)
class Tally:
    key: Any
    label: str
    count: int


@dataclass(frozen=True)
class Deadline:
    question_id: int
    due_at: datetime
    state: str
    priority: int
    past: bool

    @property
    def state_label(self) -> str:
        return str(QuestionState(self.state).label)


@dataclass(frozen=True)
class StoreShift:
    store_id: int | None
    store: str
    on_shift: int


@dataclass(frozen=True)
class AccountHealth:
    account_id: int
    username: str
    active: bool
    last_polled_at: datetime | None
    poll_age_seconds: float | None
    lag_p50_seconds: float | None
    consecutive_failures: int
    last_error: str
    last_error_at: datetime | None
    waiting_to_send: int
    waiting_for_limit: int
    next_send_at: datetime | None
    allowance_left: int
    allowance: int
    window_seconds: int
    blocked_until: datetime | None


@dataclass(frozen=True)
class Snapshot:
    """One brand's desk (or a supervisor's part of it) at ``now``."""

    now: datetime
    waiting: int
    by_topic: list[Tally]
    by_language: list[Tally]
    by_priority: list[Tally]
    oldest_waiting_id: int | None
    oldest_waiting_since: datetime | None
    response_count: int
    response_p50: float | None
    response_p90: float | None
    past_deadline: int
    near_deadline: int
    deadlines: list[Deadline]
    on_shift: int
    shifts_by_store: list[StoreShift]
    in_review: int
    oldest_review_since: datetime | None
    accounts: list[AccountHealth]
    last_hour: int = 0
    last_hour_negative: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def negative_share(self) -> float | None:
        return self.last_hour_negative / self.last_hour if self.last_hour else None

    @property
    def oldest_waiting_seconds(self) -> float | None:
        if self.oldest_waiting_since is None:
            return None
        return max((self.now - self.oldest_waiting_since).total_seconds(), 0.0)

    @property
    def waiting_for_limit(self) -> int:
        return sum(account.waiting_for_limit for account in self.accounts)


def questions_of(brand_id: int, stores: frozenset[int] | None) -> QuerySet[Question]:
    """The brand's questions a reader of ``stores`` watches (``None``: all of them)."""
    queryset = Question.objects.filter(brand_id=brand_id)
    if stores is not None:
        queryset = queryset.filter(Q(store_id__in=stores) | Q(store__isnull=True))
    return queryset


def _counts(queryset: QuerySet[Question], key: Any, labels: dict[Any, str]) -> list[Tally]:
    rows = queryset.annotate(k=key).values("k").annotate(n=Count("pk")).order_by("-n", "k")
    return [Tally(row["k"], labels.get(row["k"], str(row["k"] or "")), row["n"]) for row in rows]


def _queue(brand_id: int, stores: frozenset[int] | None) -> dict[str, Any]:
    waiting = questions_of(brand_id, stores).filter(state__in=WAITING_STATES)
    topics = dict(Topic.objects.filter(brand_id=brand_id).values_list("pk", "name"))
    oldest = waiting.order_by("received_at", "pk").values("pk", "received_at").first()
    by_topic = _counts(waiting, F("topic_id"), topics)
    return {
        "waiting": sum(c.count for c in by_topic),
        "by_topic": by_topic,
        "by_language": _counts(waiting, language_key(), {}),
        "by_priority": _counts(waiting, F("priority"), {}),
        "oldest_waiting_id": oldest["pk"] if oldest else None,
        "oldest_waiting_since": oldest["received_at"] if oldest else None,
    }


def _responses(brand_id: int, stores: frozenset[int] | None, now: datetime) -> dict[str, Any]:
    """First responses made in the last hour: from the customer's tweet (X's time, else our
    arrival) to the first reply X accepted."""
    answered = questions_of(brand_id, stores).filter(
        first_response_at__gte=now - RESPONSE_WINDOW, first_response_at__lte=now
    )
    row = answered.aggregate(
        n=Count("pk"),
        durations=Percentiles(SecondsBetween(F("first_response_at"), ARRIVED)),
    )
    p50, p90, _p95 = row["durations"] or (None, None, None)
    return {"response_count": row["n"], "response_p50": p50, "response_p90": p90}


# When the customer wrote: X's timestamp, else our arrival (as the reports count it).
ARRIVED = Coalesce(F("tweeted_at"), F("received_at"))


def _last_hour(brand_id: int, stores: frozenset[int] | None, now: datetime) -> dict[str, Any]:
    """Questions received in the last 60 minutes, and those of them that read unhappy,
    counted as spike alerts count them (dismissed noise left out)."""
    row = (
        questions_of(brand_id, stores)
        .exclude(state=QuestionState.DISMISSED)
        .filter(received_at__gt=now - RESPONSE_WINDOW, received_at__lte=now)
        .aggregate(n=Count("pk"), negative=Count("pk", filter=Q(is_negative=True)))
    )
    return {"last_hour": row["n"], "last_hour_negative": row["negative"]}


def _deadlines(brand_id: int, stores: frozenset[int] | None, now: datetime) -> dict[str, Any]:
    watched = questions_of(brand_id, stores).filter(
        state__in=DEADLINE_STATES, first_response_at__isnull=True, sla_due_at__isnull=False
    )
    row = watched.aggregate(
        past=Count("pk", filter=Q(sla_due_at__lt=now)),
        near=Count("pk", filter=Q(sla_due_at__gte=now, sla_due_at__lt=now + NEAR_DEADLINE)),
    )
    soonest = watched.filter(sla_due_at__lt=now + NEAR_DEADLINE).order_by("sla_due_at", "pk")
    return {
        "past_deadline": row["past"],
        "near_deadline": row["near"],
        "deadlines": [
            Deadline(q.pk, q.sla_due_at, q.state, q.priority, q.sla_due_at < now)
            for q in soonest.only("pk", "sla_due_at", "state", "priority")[:DEADLINES_SHOWN]
            if q.sla_due_at is not None
        ],
    }


def _shifts(brand_id: int, stores: frozenset[int] | None) -> dict[str, Any]:
    on_shift_users = Shift.objects.filter(brand_id=brand_id, ended_at__isnull=True).values(
        "user_id"
    )
    people = Volunteer.objects.filter(brand_id=brand_id, user_id__in=on_shift_users)
    if stores is not None:
        people = people.filter(store_id__in=stores)
    rows = (
        people.values("store_id", "store__name")
        .annotate(n=Count("pk"))
        .order_by("store__name", "store_id")
    )
    by_store = [StoreShift(r["store_id"], r["store__name"] or "", r["n"]) for r in rows]
    return {"on_shift": sum(s.on_shift for s in by_store), "shifts_by_store": by_store}


def _review(brand_id: int, stores: frozenset[int] | None) -> dict[str, Any]:
    pending = Reply.objects.filter(question__brand_id=brand_id, state=ReplyState.PENDING_REVIEW)
    if stores is not None:
        pending = pending.filter(store_id__in=stores)
    row = pending.aggregate(n=Count("pk"), oldest=Min("submitted_at"))
    return {"in_review": row["n"], "oldest_review_since": row["oldest"]}


def account_health(brand_id: int | None, now: datetime) -> list[AccountHealth]:
    """Each care account's polling and sending as of ``now`` (every brand's with
    ``brand_id`` None)."""
    accounts = XAccount.objects.order_by("username").defer(
        "bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret"
    )
    if brand_id is not None:
        accounts = accounts.filter(brand_id=brand_id)
    lags = dict(
        Question.objects.filter(
            account__in=accounts, received_at__gte=now - LAG_WINDOW, tweeted_at__isnull=False
        )
        .values("account_id")
        .annotate(lag=Percentiles(SecondsBetween(F("received_at"), F("tweeted_at"))))
        .values_list("account_id", "lag")
    )
    result = []
    for account in accounts:
        plan = plan_account(account, now)
        later = [at for _, at in plan if at > now]
        window = timedelta(seconds=account.post_window_seconds)
        used = (
            Reply.objects.filter(account=account, from_linked_account=False)
            .filter(
                Q(sent_at__gt=now - window)
                | Q(state=ReplyState.QUEUED, sending_since__isnull=False)
            )
            .count()
        )
        blocked = account.posts_blocked_until
        blocked = blocked if blocked is not None and blocked > now else None
        left = 0 if blocked else max(account.post_limit_per_window - used, 0)
        lag = lags.get(account.pk)
        result.append(
            AccountHealth(
                account_id=account.pk,
                username=account.username,
                active=account.is_active,
                last_polled_at=account.last_polled_at,
                poll_age_seconds=(
                    max((now - account.last_polled_at).total_seconds(), 0.0)
                    if account.last_polled_at
                    else None
                ),
                lag_p50_seconds=lag[0] if lag else None,
                consecutive_failures=account.consecutive_failures,
                last_error=account.last_error,
                last_error_at=account.last_error_at,
                waiting_to_send=len(plan),
                waiting_for_limit=len(later),
                next_send_at=min(later) if later else None,
                allowance_left=left,
                allowance=account.post_limit_per_window,
                window_seconds=account.post_window_seconds,
                blocked_until=blocked,
            )
        )
    return result


@dataclass(frozen=True)
class Bill:
    """The brand's X bill as the monitoring page shows it: today, this month against the
    budget, per care account, and per question answered this month."""

    budget: BudgetState
    answered_this_month: int

    @property
    def per_answered_micros(self) -> int | None:
        if not self.answered_this_month:
            return None
        return round(self.budget.month_micros / self.answered_this_month)


def bill(brand_id: int, now: datetime) -> Bill | None:
    """The brand's X bill as of ``now`` (None for a brand that does not exist)."""
    found = spend_summary([brand_id], now)
    if not found:
        return None
    budget = found[0]
    start = month_of(Brand.objects.get(pk=brand_id), now).start
    answered = Question.objects.filter(
        brand_id=brand_id, first_response_at__gte=start, first_response_at__lte=now
    ).count()
    return Bill(budget=budget, answered_this_month=answered)


ALERTS_SHOWN_FOR = timedelta(hours=24)


def recent_alerts(brand_id: int, now: datetime) -> list[SpikeAlert]:
    """The brand's spike alerts still open, and those ended in the last day, newest first."""
    return list(
        SpikeAlert.objects.filter(brand_id=brand_id, detected_at__lte=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now - ALERTS_SHOWN_FOR))
        .select_related("topic")
        .order_by("-detected_at", "-pk")[:5]
    )


def unclaimable_waiting(brand_id: int, limit: int = 20) -> list[tuple[int, str]]:
    """Queued questions that routing found nobody on the desk may claim (their language),
    oldest first, as (question id, language): supervisors must find them someone."""
    flagged = events().filter(kind=UNCLAIMABLE, brand_id=brand_id).values("question_id")
    return list(
        Question.objects.filter(brand_id=brand_id, state=QuestionState.QUEUED, pk__in=flagged)
        .order_by("received_at", "pk")
        .values_list("pk", "lang")[:limit]
    )


def snapshot(
    brand_id: int, stores: frozenset[int] | None = None, now: datetime | None = None
) -> Snapshot:
    """The brand's desk as of ``now``, as a reader of ``stores`` sees it."""
    now = now or timezone.now()
    return Snapshot(
        now=now,
        **_queue(brand_id, stores),
        **_responses(brand_id, stores, now),
        **_deadlines(brand_id, stores, now),
        **_shifts(brand_id, stores),
        **_review(brand_id, stores),
        **_last_hour(brand_id, stores, now),
        accounts=account_health(brand_id, now),
    )
