"""The time series (by local day or week) and the week's busiest hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import (
    ExtractHour,
    ExtractIsoWeekDay,
    TruncDate,
    TruncWeek,
)
from django.utils import timezone

from helpdesk.reports.percentiles import (
    Percentiles,
    SecondsBetween,
)
from helpdesk.reports.queries.business import (
    business_durations,
)
from helpdesk.reports.queries.scope import (
    Scope,
    arrived,
    questions_in,
)
from helpdesk.reports.queries.values import EMPTY, Durations

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
            SecondsBetween(F("first_response_at"), arrived())
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
        business = business_durations(scope, questions_in(scope), bucket)
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
