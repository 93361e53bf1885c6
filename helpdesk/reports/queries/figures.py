"""Volumes, response-time percentiles and SLA of a scope's questions, in all or per
group; SLA per priority, dismissals by reason, and the distribution of first responses."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import (
    Coalesce,
)

from helpdesk.reports.percentiles import (
    Percentiles,
    SecondsBetween,
)
from helpdesk.reports.period import Period
from helpdesk.reports.queries.business import (
    business_durations,
    business_rows,
)
from helpdesk.reports.queries.scope import (
    GROUPINGS,
    PRIORITIES,
    Scope,
    arrived,
    key_expressions,
    questions_in,
)
from helpdesk.reports.queries.values import EMPTY, Durations, Figures, Sla, Volumes
from helpdesk.states import QuestionState


def sla_filters(now: datetime) -> dict[str, Q]:
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


def figure_aggregates(scope: Scope, *, durations: bool) -> dict[str, Any]:
    no_response = Q(first_response_at__isnull=True)
    sla = sla_filters(scope.now)
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
            SecondsBetween(F("first_response_at"), arrived())
        )
        aggregates["desk_response"] = Percentiles(
            SecondsBetween(F("first_response_at"), F("received_at"))
        )
    return aggregates


def figures_from(row: Mapping[str, Any]) -> Figures:
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
    row = queryset.aggregate(**figure_aggregates(scope, durations=not business))
    result = figures_from(row)
    if business:
        first, desk = business_durations(scope, queryset, None)[None]
        result = replace(result, first_response=first, desk_response=desk)
    return result


def figures_by(scope: Scope, grouping: str) -> dict[Any, Figures]:
    """The figures per group (a store's id, a region, a volunteer's user id, a topic's id,
    a language subtag; ``None`` or ``""`` for questions without one)."""
    if grouping not in GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    key = key_expressions()[grouping]
    business = scope.business_time
    rows = (
        questions_in(scope)
        .annotate(group_key=key)
        .values("group_key")
        .order_by()
        .annotate(**figure_aggregates(scope, durations=not business))
    )
    result = {row["group_key"]: figures_from(row) for row in rows}
    if business:
        per_group = business_durations(scope, questions_in(scope), key)
        result = {
            group: replace(
                value,
                first_response=per_group.get(group, (EMPTY, EMPTY))[0],
                desk_response=per_group.get(group, (EMPTY, EMPTY))[1],
            )
            for group, value in result.items()
        }
    return result


def response_percentiles_by(scope: Scope, grouping: str) -> dict[Any, Durations]:
    """First-response percentiles per group, alone (what ``bench/report.py`` times)."""
    key = key_expressions()[grouping]
    if scope.business_time:
        return {
            group: pair[0]
            for group, pair in business_durations(scope, questions_in(scope), key).items()
        }
    rows = (
        questions_in(scope)
        .filter(first_response_at__isnull=False)
        .annotate(group_key=key)
        .values("group_key")
        .order_by()
        .annotate(
            answered=Count("pk"),
            first_response=Percentiles(SecondsBetween(F("first_response_at"), arrived())),
        )
    )
    return {row["group_key"]: Durations.of(row["answered"], row["first_response"]) for row in rows}


# --- SLA per priority ----------------------------------------------------------------------------


def sla_by_priority(scope: Scope) -> dict[int, Sla]:
    """SLA compliance per priority the deadline was set for (0 urgent … 3 low)."""
    sla = sla_filters(scope.now)
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


# --- the distribution of first-response times ------------------------------------------------

# Upper bounds (seconds, excluded) of the histogram's buckets; the last bucket is open.
RESPONSE_BUCKETS: tuple[int, ...] = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def response_distribution(scope: Scope) -> list[int]:
    """Answered questions per first-response time bucket: under 5 min, 5-15 min, … 8-24 h,
    24 h and more (``len(RESPONSE_BUCKETS) + 1`` counts; a time on a bound goes to the
    bucket above it). In business time when the scope asks for it."""
    if scope.business_time:
        counts = [0] * (len(RESPONSE_BUCKETS) + 1)
        for _group, seconds, _desk in business_rows(scope, questions_in(scope), None):
            counts[bisect_right(RESPONSE_BUCKETS, seconds)] += 1
        return counts
    annotated = (
        questions_in(scope)
        .filter(first_response_at__isnull=False)
        .annotate(seconds=SecondsBetween(F("first_response_at"), arrived()))
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
