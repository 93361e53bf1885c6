"""The reports' one query layer: every figure a page, an export, the command, the e-mail
or the API shows is computed here, from the desk's rows, and nowhere else.

The definitions are in ``docs/metrics.md``; the names below follow it. In short:

* A report's **questions** are the brand's questions *received* (arrived at the desk) in the
  period. Each is in exactly one of: **answered** (a reply of ours was accepted by X),
  **dismissed**, **escalated** (with the official care team) or **open**.
* **First-response time** runs from the customer's tweet (``tweeted_at``; the arrival when
  X did not say) to our first reply accepted by X (``first_response_at``); the **desk's
  share** from the arrival to that reply. Never from a reopen, never a bot's reply: the
  desk has no bot, and a restored question keeps its tweet.
* A question's **store** is the store its first response came from (the author's store when
  they submitted it); before that, the store it was routed to, if any. Its **volunteer** is
  the author of its first response.
* Percentiles are exact (``helpdesk.reports.percentiles``); a total is computed over its
  rows, never from the groups' figures.
"""

from __future__ import annotations

import hashlib
import hmac
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
    TruncWeek,
)
from django.utils import timezone

from helpdesk.models import Brand, Question, Reply, Store, Volunteer
from helpdesk.reports.business_time import BusinessCalendar, calendar_from
from helpdesk.reports.models import Holiday, OpeningHours
from helpdesk.reports.percentiles import (
    FRACTIONS,
    EpochSeconds,
    Percentiles,
    SecondsBetween,
    percentiles,
)
from helpdesk.reports.period import Period
from helpdesk.states import QuestionState, ReplyState
from routing.models import Topic
from routing.queries import language_key

GROUPINGS = ("store", "region", "volunteer", "topic", "language")
# Where a question stands, for the four-way split of the questions received.
ANSWERED, DISMISSED, ESCALATED, OPEN = "answered", "dismissed", "escalated", "open"
# Replies X accepted: sent, and sent then deleted by a supervisor (the customer saw it).
ACCEPTED_REPLY_STATES = (ReplyState.SENT, ReplyState.DELETED)
PRIORITIES = (0, 1, 2, 3)


# --- what a report covers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A brand, a period and the filters of one report. ``stores`` limits the report to
    questions of those stores (a supervisor's, or a filter); ``None`` is every store."""

    brand_id: int
    period: Period
    stores: frozenset[int] | None = None
    region: str = ""
    volunteer_id: int | None = None
    topic_id: int | None = None
    language: str = ""
    business_time: bool = False
    now: datetime = field(default_factory=timezone.now)
    # What one report works out once for all its parts (the brand's calendars); shared with
    # the scopes made from this one (the previous period, other filters).
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def previous(self) -> Scope:
        return replace(self, period=self.period.previous())

    @property
    def zone(self) -> ZoneInfo:
        return self.period.zone


def brand_zone(brand: Brand) -> ZoneInfo:
    return ZoneInfo(brand.time_zone or "UTC")


# --- the keys questions are grouped and filtered by ---------------------------------------------


def _key_expressions() -> dict[str, Any]:
    return {
        "store": Coalesce(F("first_reply__store_id"), F("store_id")),
        "region": Coalesce(F("first_reply__store__region"), F("store__region"), Value("")),
        "volunteer": F("first_reply__author_id"),
        "topic": F("topic_id"),
        "language": language_key(),
    }


def _arrived(scope: Scope) -> Coalesce:
    """When the customer wrote: X's timestamp, else our arrival."""
    return Coalesce(F("tweeted_at"), F("received_at"))


def questions_in(scope: Scope, period: Period | None = None) -> QuerySet[Question]:
    """The scope's questions: the brand's, received in the period, through the filters."""
    period = period or scope.period
    keys = _key_expressions()
    queryset = Question.objects.filter(
        brand_id=scope.brand_id, received_at__gte=period.start, received_at__lt=period.end
    )
    if scope.stores is not None:
        queryset = queryset.alias(store_key=keys["store"]).filter(store_key__in=scope.stores)
    if scope.region:
        queryset = queryset.alias(region_key=keys["region"]).filter(region_key=scope.region)
    if scope.volunteer_id is not None:
        queryset = queryset.filter(first_reply__author_id=scope.volunteer_id)
    if scope.topic_id is not None:
        queryset = queryset.filter(topic_id=scope.topic_id)
    if scope.language:
        queryset = queryset.alias(language_key=keys["language"]).filter(language_key=scope.language)
    return queryset


def replies_in(scope: Scope, *, by: str = "submitted_at") -> QuerySet[Reply]:
    """The scope's replies: to the brand's questions, with ``by`` (``submitted_at``, or
    ``sent_at``) in the period, filtered by the reply's own store and author (a reply
    belongs to the store it was written from) and by its question's topic and language."""
    period = scope.period
    queryset = Reply.objects.filter(
        question__brand_id=scope.brand_id,
        **{f"{by}__gte": period.start, f"{by}__lt": period.end},
    )
    if scope.stores is not None:
        queryset = queryset.filter(store_id__in=scope.stores)
    if scope.region:
        queryset = queryset.filter(store__region=scope.region)
    if scope.volunteer_id is not None:
        queryset = queryset.filter(author_id=scope.volunteer_id)
    if scope.topic_id is not None:
        queryset = queryset.filter(question__topic_id=scope.topic_id)
    if scope.language:
        queryset = queryset.alias(language_key=language_key("question__lang")).filter(
            language_key=scope.language
        )
    return queryset


# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Exact percentiles (seconds) of ``count`` durations; ``None`` when there are none."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None

    @classmethod
    def of(cls, count: int, values: list[float] | None) -> Durations:
        if not values or count == 0:
            return cls(count, None, None, None)
        p50, p90, p95 = values
        return cls(count, p50, p90, p95)

    @classmethod
    def from_values(cls, values: list[float]) -> Durations:
        return cls.of(len(values), percentiles(values, FRACTIONS))

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "p50": self.p50, "p90": self.p90, "p95": self.p95}


@dataclass(frozen=True)
class Volumes:
    received: int
    answered: int
    dismissed: int
    escalated: int

    @property
    def open(self) -> int:
        return self.received - self.answered - self.dismissed - self.escalated

    @property
    def answer_rate(self) -> float | None:
        """Answered over received less dismissed (noise is not a question to answer)."""
        to_answer = self.received - self.dismissed
        return self.answered / to_answer if to_answer else None

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "answered": self.answered,
            "dismissed": self.dismissed,
            "escalated": self.escalated,
            "open": self.open,
            "answer_rate": self.answer_rate,
        }


@dataclass(frozen=True)
class Sla:
    """First responses within the deadline (``met``), after it or still missing past it
    (``breached``), and still within it (``pending``, not counted in the compliance)."""

    met: int
    breached: int
    pending: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "compliance": self.compliance,
        }


@dataclass(frozen=True)
class Figures:
    """The figures of one group of questions (or of all of them)."""

    volumes: Volumes
    first_response: Durations
    desk_response: Durations
    sla: Sla

    def as_json(self) -> dict[str, Any]:
        return {
            **self.volumes.as_json(),
            "first_response": self.first_response.as_json(),
            "desk_response": self.desk_response.as_json(),
            "sla": self.sla.as_json(),
        }


def _sla_filters(now: datetime) -> dict[str, Q]:
    considered = Q(sla_due_at__isnull=False) & ~(
        Q(first_response_at__isnull=True)
        & Q(state__in=(QuestionState.DISMISSED, QuestionState.ESCALATED))
    )
    met = considered & Q(first_response_at__lte=F("sla_due_at"))
    breached = considered & (
        Q(first_response_at__gt=F("sla_due_at"))
        | Q(first_response_at__isnull=True, sla_due_at__lt=now)
    )
    pending = considered & Q(first_response_at__isnull=True, sla_due_at__gte=now)
    return {"met": met, "breached": breached, "pending": pending}


def _figure_aggregates(scope: Scope, *, durations: bool) -> dict[str, Any]:
    no_response = Q(first_response_at__isnull=True)
    sla = _sla_filters(scope.now)
    aggregates: dict[str, Any] = {
        "received": Count("pk"),
        "answered": Count("pk", filter=~no_response),
        "dismissed": Count("pk", filter=no_response & Q(state=QuestionState.DISMISSED)),
        "escalated": Count("pk", filter=no_response & Q(state=QuestionState.ESCALATED)),
        "sla_met": Count("pk", filter=sla["met"]),
        "sla_breached": Count("pk", filter=sla["breached"]),
        "sla_pending": Count("pk", filter=sla["pending"]),
    }
    if durations:
        aggregates["first_response"] = Percentiles(
            SecondsBetween(F("first_response_at"), _arrived(scope))
        )
        aggregates["desk_response"] = Percentiles(
            SecondsBetween(F("first_response_at"), F("received_at"))
        )
    return aggregates


def _figures_from(row: Mapping[str, Any]) -> Figures:
    volumes = Volumes(row["received"], row["answered"], row["dismissed"], row["escalated"])
    return Figures(
        volumes=volumes,
        first_response=Durations.of(volumes.answered, row.get("first_response")),
        desk_response=Durations.of(volumes.answered, row.get("desk_response")),
        sla=Sla(row["sla_met"], row["sla_breached"], row["sla_pending"]),
    )


def figures(scope: Scope, period: Period | None = None) -> Figures:
    """The figures of every question in the scope (the summary, the table's total)."""
    queryset = questions_in(scope, period)
    business = scope.business_time
    row = queryset.aggregate(**_figure_aggregates(scope, durations=not business))
    result = _figures_from(row)
    if business:
        first, desk = _business_durations(scope, queryset, None)[None]
        result = replace(result, first_response=first, desk_response=desk)
    return result


def figures_by(scope: Scope, grouping: str) -> dict[Any, Figures]:
    """The figures per group (a store's id, a region, a volunteer's user id, a topic's id,
    a language subtag; ``None`` or ``""`` for questions without one)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    key = _key_expressions()[grouping]
    business = scope.business_time
    rows = (
        questions_in(scope)
        .annotate(group_key=key)
        .values("group_key")
        .order_by()
        .annotate(**_figure_aggregates(scope, durations=not business))
    )
    result = {row["group_key"]: _figures_from(row) for row in rows}
    if business:
        per_group = _business_durations(scope, questions_in(scope), key)
        result = {
            group: replace(
                value,
                first_response=per_group.get(group, (EMPTY, EMPTY))[0],
                desk_response=per_group.get(group, (EMPTY, EMPTY))[1],
            )
            for group, value in result.items()
        }
    return result


EMPTY = Durations(0, None, None, None)


def response_percentiles_by(scope: Scope, grouping: str) -> dict[Any, Durations]:
    """First-response percentiles per group, alone (what ``bench/report.py`` times)."""
    key = _key_expressions()[grouping]
    if scope.business_time:
        return {
            group: pair[0]
            for group, pair in _business_durations(scope, questions_in(scope), key).items()
        }
    rows = (
        questions_in(scope)
        .filter(first_response_at__isnull=False)
        .annotate(group_key=key)
        .values("group_key")
        .order_by()
        .annotate(
            answered=Count("pk"),
            first_response=Percentiles(SecondsBetween(F("first_response_at"), _arrived(scope))),
        )
    )
    return {row["group_key"]: Durations.of(row["answered"], row["first_response"]) for row in rows}


# --- business time ---------------------------------------------------------------------------


def calendars_for(brand_id: int, zone: ZoneInfo) -> dict[int | None, BusinessCalendar]:
    """The brand's calendar under ``None`` and each store with opening hours of its own
    under its id. A store's holidays add to the brand's."""
    hours: dict[int | None, list[tuple[int, Any, Any]]] = defaultdict(list)
    for store_id, weekday, opens, closes in OpeningHours.objects.filter(
        brand_id=brand_id
    ).values_list("store_id", "weekday", "opens_at", "closes_at"):
        hours[store_id].append((weekday, opens, closes))
    holidays: dict[int | None, list[date]] = defaultdict(list)
    for store_id, day in Holiday.objects.filter(brand_id=brand_id).values_list("store_id", "date"):
        holidays[store_id].append(day)
    zones = {
        pk: ZoneInfo(name)
        for pk, name in Store.objects.filter(brand_id=brand_id)
        .exclude(time_zone="")
        .values_list("pk", "time_zone")
    }
    calendars: dict[int | None, BusinessCalendar] = {
        None: calendar_from(zone, hours.get(None, []), holidays.get(None, []))
    }
    for own, rows in hours.items():
        if own is not None:
            calendars[own] = calendar_from(
                zones.get(own, zone), rows, [*holidays.get(None, []), *holidays.get(own, [])]
            )
    for own, days in holidays.items():
        if own is not None and own not in calendars:
            calendars[own] = calendar_from(
                zone, hours.get(None, []), [*holidays.get(None, []), *days]
            )
    return calendars


def scope_calendars(scope: Scope) -> dict[int | None, BusinessCalendar]:
    """The brand's calendars for this report, built once: each keeps the days it has
    worked out, so the report's parts do not count the same days again."""
    calendars: dict[int | None, BusinessCalendar] | None = scope.cache.get("calendars")
    if calendars is None:
        calendars = calendars_for(scope.brand_id, scope.zone)
        scope.cache["calendars"] = calendars
    return calendars


def _business_rows(
    scope: Scope, queryset: QuerySet[Question], key: Any
) -> Iterator[tuple[Any, float, float]]:
    """``(group, first-response seconds, desk's-share seconds)`` in business time for each
    answered question (group ``None`` when ``key`` is None): the question's store's
    calendar if it has one, else the brand's."""
    calendars = scope_calendars(scope)
    answered = queryset.filter(first_response_at__isnull=False).annotate(
        store_key=_key_expressions()["store"],
        began_at=_arrived(scope),
    )
    columns: tuple[Any, ...] = ("store_key", "began_at", "received_at", "first_response_at")
    if connection.vendor == "postgresql":
        # Seconds since the epoch come back as floats, several times faster to read than
        # datetimes; SQLite's own datetimes are read in Python either way.
        answered = answered.annotate(
            began_s=EpochSeconds("began_at"),
            received_s=EpochSeconds("received_at"),
            responded_s=EpochSeconds("first_response_at"),
        )
        columns = ("store_key", "began_s", "received_s", "responded_s")
    if key is not None:
        rows: Iterable[tuple[Any, ...]] = (
            answered.annotate(group_key=key)
            .values_list("group_key", *columns)
            .order_by()
            .iterator(chunk_size=5000)
        )
    else:
        rows = ((None, *row) for row in answered.values_list(*columns).order_by().iterator(5000))
    for group, store_id, began, received, responded in rows:
        calendar = calendars.get(store_id, calendars[None])
        if isinstance(began, datetime):
            began, received, responded = (
                began.timestamp(),
                received.timestamp(),
                responded.timestamp(),
            )
        yield (
            group,
            calendar.seconds_between(began, responded),
            calendar.seconds_between(received, responded),
        )


def _business_durations(
    scope: Scope, queryset: QuerySet[Question], key: Any
) -> dict[Any, tuple[Durations, Durations]]:
    """First-response and desk-share durations in business time, per group (a single
    group, ``None``, when ``key`` is None)."""
    first: dict[Any, list[float]] = defaultdict(list)
    desk: dict[Any, list[float]] = defaultdict(list)
    for group, first_seconds, desk_seconds in _business_rows(scope, queryset, key):
        first[group].append(first_seconds)
        desk[group].append(desk_seconds)
    result = {
        group: (Durations.from_values(first[group]), Durations.from_values(desk[group]))
        for group in first
    }
    if key is None:
        result.setdefault(None, (EMPTY, EMPTY))
    return result


# --- SLA per priority ----------------------------------------------------------------------------


def sla_by_priority(scope: Scope) -> dict[int, Sla]:
    """SLA compliance per priority the deadline was set for (0 urgent … 3 low)."""
    sla = _sla_filters(scope.now)
    rows = (
        questions_in(scope)
        .filter(sla_due_at__isnull=False)
        .annotate(sla_key=Coalesce(F("sla_priority"), F("priority")))
        .values("sla_key")
        .order_by()
        .annotate(
            met=Count("pk", filter=sla["met"]),
            breached=Count("pk", filter=sla["breached"]),
            pending=Count("pk", filter=sla["pending"]),
        )
    )
    found = {row["sla_key"]: Sla(row["met"], row["breached"], row["pending"]) for row in rows}
    return {priority: found.get(priority, Sla(0, 0, 0)) for priority in PRIORITIES} | {
        key: value for key, value in found.items() if key not in PRIORITIES
    }


# --- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Conversations that began in the period: ``resolved`` ones (no question left open)
    and the time from the customer's first tweet to the close of the last question."""

    conversations: int
    resolved: int
    durations: Durations

    def as_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "resolved": self.resolved,
            "unresolved": self.conversations - self.resolved,
            "time": self.durations.as_json(),
        }


CLOSED_STATES = (QuestionState.DISMISSED, QuestionState.ESCALATED)


def resolution(scope: Scope) -> Resolution:
    """Per conversation whose first question (the earliest received; ties by id) is one of
    the scope's: resolved when none of its questions is open; resolution time from its
    earliest tweet to the last close of its questions (an answer's first response, else the
    moment it was dismissed or escalated). Conversations with no answer and nothing open
    (noise, or handed to the care team) have nothing the desk resolved and are left out.

    One query: the scope's first questions (none earlier in their conversation), their
    conversations' questions grouped per conversation, and the percentiles over that."""
    earlier = Question.objects.filter(conversation_id=OuterRef("conversation_id")).filter(
        Q(received_at__lt=OuterRef("received_at"))
        | Q(received_at=OuterRef("received_at"), pk__lt=OuterRef("pk"))
    )
    firsts = questions_in(scope).filter(~Exists(earlier))
    closing = Case(
        When(first_response_at__isnull=False, then=F("first_response_at")),
        When(state__in=CLOSED_STATES, then=F("state_changed_at")),
    )
    conversations = (
        Question.objects.filter(
            brand_id=scope.brand_id, conversation_id__in=firsts.values("conversation_id")
        )
        .values("conversation_id")
        .order_by()
        .annotate(
            began=Min(_arrived(scope)),
            closed=Max(closing),
            still_open=Count(
                "pk", filter=Q(first_response_at__isnull=True) & ~Q(state__in=CLOSED_STATES)
            ),
            answered=Count("pk", filter=Q(first_response_at__isnull=False)),
        )
        .filter(Q(still_open__gt=0) | Q(answered__gt=0))
    )
    if not scope.business_time:
        row = conversations.aggregate(
            counted=Count("conversation_id"),
            resolved=Count("conversation_id", filter=Q(still_open=0)),
            time=Percentiles(
                Case(When(still_open=0, then=SecondsBetween(F("closed"), F("began"))))
            ),
        )
        return Resolution(
            row["counted"], row["resolved"], Durations.of(row["resolved"], row["time"])
        )
    calendars = scope_calendars(scope)
    stores = dict(
        firsts.annotate(store_key=_key_expressions()["store"])
        .values_list("conversation_id", "store_key")
        .order_by()
    )
    counted = 0
    values: list[float] = []
    for conversation, began, closed, still_open in conversations.values_list(
        "conversation_id", "began", "closed", "still_open"
    ).iterator(chunk_size=5000):
        counted += 1
        if still_open == 0:
            calendar = calendars.get(stores.get(conversation), calendars[None])
            values.append(calendar.seconds(began, closed))
    return Resolution(counted, len(values), Durations.from_values(values))


# --- time series and the week's busiest hours ----------------------------------------------------


@dataclass(frozen=True)
class SeriesPoint:
    """One day (or week, starting Monday) of questions received in it."""

    start: date
    received: int
    answered: int
    first_response: Durations

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "received": self.received,
            "answered": self.answered,
            "first_response": self.first_response.as_json(),
        }


def series(scope: Scope) -> list[SeriesPoint]:
    """Questions received per local day (per week beyond three months), every bucket of
    the period listed, empty ones included."""
    period = scope.period
    weekly = period.granularity == "week"
    bucket = (
        TruncWeek("received_at", tzinfo=scope.zone)
        if weekly
        else TruncDate("received_at", tzinfo=scope.zone)
    )
    aggregates: dict[str, Any] = {
        "received": Count("pk"),
        "answered": Count("pk", filter=Q(first_response_at__isnull=False)),
    }
    if not scope.business_time:
        aggregates["first_response"] = Percentiles(
            SecondsBetween(F("first_response_at"), _arrived(scope))
        )
    rows = (
        questions_in(scope)
        .annotate(bucket=bucket)
        .values("bucket")
        .order_by()
        .annotate(**aggregates)
    )
    found: dict[date, dict[str, Any]] = {}
    for row in rows:
        day = row["bucket"]
        if isinstance(day, datetime):
            day = day.astimezone(scope.zone).date() if timezone.is_aware(day) else day.date()
        found[day] = row
    business: dict[Any, tuple[Durations, Durations]] = {}
    if scope.business_time:
        business = _business_durations(scope, questions_in(scope), bucket)
        business = {
            (k.astimezone(scope.zone).date() if isinstance(k, datetime) else k): v
            for k, v in business.items()
        }
    points = []
    for start in period.weeks() if weekly else period.dates():
        row = found.get(start, {})
        answered = row.get("answered", 0)
        if scope.business_time:
            first = business.get(start, (EMPTY, EMPTY))[0]
        else:
            first = Durations.of(answered, row.get("first_response"))
        points.append(SeriesPoint(start, row.get("received", 0), answered, first))
    return points


def heatmap(scope: Scope) -> list[list[int]]:
    """Questions received per local weekday (Monday first) and hour: 7 rows of 24."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        questions_in(scope)
        .annotate(
            weekday=ExtractIsoWeekDay("received_at", tzinfo=scope.zone),
            hour=ExtractHour("received_at", tzinfo=scope.zone),
        )
        .values("weekday", "hour")
        .order_by()
        .annotate(count=Count("pk"))
    )
    for row in rows:
        grid[row["weekday"] - 1][row["hour"]] = row["count"]
    return grid


# --- dismissals -------------------------------------------------------------------------------


def dismissed_by_reason(scope: Scope) -> list[tuple[str, int]]:
    """Dismissed questions (without a response) per reason, most frequent first."""
    rows = (
        questions_in(scope)
        .filter(state=QuestionState.DISMISSED, first_response_at__isnull=True)
        .values("dismissed_reason")
        .order_by()
        .annotate(count=Count("pk"))
    )
    return sorted(
        ((row["dismissed_reason"], row["count"]) for row in rows), key=lambda r: (-r[1], r[0])
    )


# --- reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviews:
    """Replies submitted in the period: how many went to review, what became of them, how
    long the review took, and the linter findings that most often sent them there."""

    submitted: int
    to_review: int
    approved: int
    rejected: int
    pending: int
    edited: int
    time_to_review: Durations
    findings: list[tuple[str, int]]

    @property
    def approval_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return self.approved / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "to_review": self.to_review,
            "approved": self.approved,
            "rejected": self.rejected,
            "pending": self.pending,
            "edited": self.edited,
            "approval_rate": self.approval_rate,
            "time_to_review": self.time_to_review.as_json(),
            "findings": [{"rule": rule, "count": count} for rule, count in self.findings],
        }


def reviews(scope: Scope) -> Reviews:
    queryset = replies_in(scope)
    reviewed = Q(needs_review=True, reviewed_at__isnull=False)
    row = queryset.aggregate(
        submitted=Count("pk"),
        to_review=Count("pk", filter=Q(needs_review=True)),
        rejected=Count("pk", filter=reviewed & Q(state=ReplyState.REJECTED)),
        decided=Count("pk", filter=reviewed),
        pending=Count("pk", filter=Q(state=ReplyState.PENDING_REVIEW)),
        edited=Count("pk", filter=reviewed & Q(edited_by_reviewer=True)),
        **(
            {}
            if scope.business_time
            else {"time": Percentiles(SecondsBetween(F("reviewed_at"), F("submitted_at")))}
        ),
    )
    if scope.business_time:
        calendars = scope_calendars(scope)
        values = [
            calendars.get(store_id, calendars[None]).seconds(submitted, reviewed_at)
            for store_id, submitted, reviewed_at in queryset.filter(reviewed)
            .values_list("store_id", "submitted_at", "reviewed_at")
            .iterator(chunk_size=5000)
            if submitted is not None and reviewed_at is not None
        ]
        time_to_review = Durations.from_values(values)
    else:
        time_to_review = Durations.of(row["decided"], row["time"])
    findings: Counter[str] = Counter()
    for lint in queryset.filter(needs_review=True).values_list("lint", flat=True):
        rules = {
            finding.get("rule", "")
            for finding in (lint or {}).get("findings", [])
            if isinstance(finding, dict) and finding.get("severity") == "review"
        }
        findings.update(rule for rule in rules if rule)
    return Reviews(
        submitted=row["submitted"],
        to_review=row["to_review"],
        approved=row["decided"] - row["rejected"],
        rejected=row["rejected"],
        pending=row["pending"],
        edited=row["edited"],
        time_to_review=time_to_review,
        findings=sorted(findings.items(), key=lambda item: (-item[1], item[0]))[:10],
    )


# --- volunteers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerActivity:
    user_id: int
    name: str
    store_id: int | None
    level: str
    training: str  # "ok", or the gate's first missing reason code
    replies_sent: int
    approved: int
    rejected: int
    shift_seconds: int
    first_responses: int

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "store_id": self.store_id,
            "level": self.level,
            "training": self.training,
            "replies_sent": self.replies_sent,
            "approved": self.approved,
            "rejected": self.rejected,
            "shift_hours": round(self.shift_seconds / 3600, 2),
            "shift_seconds": self.shift_seconds,
            "first_responses": self.first_responses,
        }


def volunteer_activity(scope: Scope, *, anonymise: bool = False) -> list[VolunteerActivity]:
    """Every desk member of the brand in the scope's stores, with what they did in the
    period: replies X accepted (by when it accepted them), review outcomes of the replies
    they submitted, hours on shift, questions they gave the first response to; and their
    level and training status today. People with nothing in the period are listed too:
    a report on who did not answer is part of running a programme."""
    from helpdesk.roster import roster
    from routing.presence import shift_hours

    brand = Brand.objects.get(pk=scope.brand_id)
    period = scope.period
    rows = roster(brand, now=scope.now)
    if scope.stores is not None:
        rows = [row for row in rows if row.volunteer.store_id in scope.stores]
    if scope.region:
        rows = [
            row
            for row in rows
            if row.volunteer.store is not None and row.volunteer.store.region == scope.region
        ]
    if scope.volunteer_id is not None:
        rows = [row for row in rows if row.volunteer.user_id == scope.volunteer_id]
    user_ids = [row.volunteer.user_id for row in rows]
    # The people are chosen by their own store; their figures follow them wherever they
    # answered from, within the topic and language filters.
    theirs = replace(scope, volunteer_id=None, stores=None, region="")
    sent = dict(
        replies_in(theirs, by="sent_at")
        .filter(author_id__in=user_ids, state__in=ACCEPTED_REPLY_STATES)
        .values("author_id")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("author_id", "count")
    )
    outcomes = {
        row["author_id"]: row
        for row in replies_in(theirs)
        .filter(author_id__in=user_ids, needs_review=True, reviewed_at__isnull=False)
        .values("author_id")
        .order_by()
        .annotate(
            rejected=Count("pk", filter=Q(state=ReplyState.REJECTED)),
            decided=Count("pk"),
        )
    }
    firsts = dict(
        questions_in(theirs)
        .filter(first_reply__author_id__in=user_ids)
        .values("first_reply__author_id")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("first_reply__author_id", "count")
    )
    hours = shift_hours(scope.brand_id, period.start, period.end, now=scope.now)
    names = person_labels(scope.brand_id, user_ids, anonymise=anonymise)
    activity = []
    for row in rows:
        user_id = row.volunteer.user_id
        outcome = outcomes.get(user_id, {"rejected": 0, "decided": 0})
        activity.append(
            VolunteerActivity(
                user_id=user_id,
                name=names[user_id],
                store_id=row.volunteer.store_id,
                level=row.standing.level if row.standing is not None else "",
                training=row.missing[0] if row.missing else "ok",
                replies_sent=sent.get(user_id, 0),
                approved=outcome["decided"] - outcome["rejected"],
                rejected=outcome["rejected"],
                shift_seconds=hours.get(user_id, 0),
                first_responses=firsts.get(user_id, 0),
            )
        )
    return activity


def person_labels(brand_id: int, user_ids: Iterable[int], *, anonymise: bool) -> dict[int, str]:
    """How a report names people: their display name (else username), or with
    ``anonymise`` a stable code per person and brand that reveals nothing of who it is."""
    ids = list(dict.fromkeys(user_ids))
    if anonymise:
        return {user_id: anonymous_label(brand_id, user_id) for user_id in ids}
    found = {
        volunteer.user_id: str(volunteer)
        for volunteer in Volunteer.objects.filter(user_id__in=ids).select_related("user")
    }
    missing = [user_id for user_id in ids if user_id not in found]
    if missing:
        found.update(User.objects.filter(pk__in=missing).values_list("pk", "username"))
    return {user_id: found.get(user_id, f"#{user_id}") for user_id in ids}


def anonymous_label(brand_id: int, user_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"report:{brand_id}:{user_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"Volunteer {digest[:6].upper()}"


# --- labels for groups ------------------------------------------------------------------------


def group_labels(
    brand_id: int, grouping: str, keys: Iterable[Any], *, anonymise: bool = False
) -> dict[Any, str]:
    """A readable label for each group key ("" for the group of questions without one is
    left to the caller to name)."""
    keys = [key for key in keys if key not in (None, "")]
    if grouping == "store":
        return {
            pk: f"{code} {name}"
            for pk, code, name in Store.objects.filter(pk__in=keys).values_list(
                "pk", "code", "name"
            )
        }
    if grouping == "topic":
        return dict(Topic.objects.filter(pk__in=keys).values_list("pk", "name"))
    if grouping == "volunteer":
        return person_labels(brand_id, keys, anonymise=anonymise)
    return {key: str(key) for key in keys}


# --- the distribution of first-response times ------------------------------------------------

# Upper bounds (seconds, excluded) of the histogram's buckets; the last bucket is open.
RESPONSE_BUCKETS: tuple[int, ...] = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def response_distribution(scope: Scope) -> list[int]:
    """Answered questions per first-response time bucket: under 5 min, 5-15 min, … 8-24 h,
    24 h and more (``len(RESPONSE_BUCKETS) + 1`` counts; a time on a bound goes to the
    bucket above it). In business time when the scope asks for it."""
    if scope.business_time:
        counts = [0] * (len(RESPONSE_BUCKETS) + 1)
        for _group, seconds, _desk in _business_rows(scope, questions_in(scope), None):
            counts[bisect_right(RESPONSE_BUCKETS, seconds)] += 1
        return counts
    annotated = (
        questions_in(scope)
        .filter(first_response_at__isnull=False)
        .annotate(seconds=SecondsBetween(F("first_response_at"), _arrived(scope)))
    )
    bounds = (0, *RESPONSE_BUCKETS)
    aggregates = {
        f"b{i}": Count(
            "pk",
            filter=Q(seconds__gte=low)
            & (Q(seconds__lt=bounds[i + 1]) if i + 1 < len(bounds) else Q()),
        )
        for i, low in enumerate(bounds)
    }
    row = annotated.aggregate(**aggregates)
    return [row[f"b{i}"] for i in range(len(bounds))]
