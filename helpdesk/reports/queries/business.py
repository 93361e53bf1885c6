"""Business time in reports: the brand's (and stores') calendars, and the durations of
answered questions counted in opening hours."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import QuerySet

from helpdesk.models import Question, Store
from helpdesk.reports.business_time import BusinessCalendar, calendar_from
from helpdesk.reports.models import Holiday, OpeningHours
from helpdesk.reports.percentiles import (
    EpochSeconds,
)
from helpdesk.reports.queries.scope import (
    Scope,
    arrived,
    key_expressions,
)
from helpdesk.reports.queries.values import EMPTY, Durations

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


def business_rows(
    scope: Scope, queryset: QuerySet[Question], key: Any
) -> Iterator[tuple[Any, float, float]]:
    """``(group, first-response seconds, desk's-share seconds)`` in business time for each
    answered question (group ``None`` when ``key`` is None): the question's store's
    calendar if it has one, else the brand's."""
    calendars = scope_calendars(scope)
    answered = queryset.filter(first_response_at__isnull=False).annotate(
        store_key=key_expressions()["store"],
        began_at=arrived(),
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


def business_durations(
    scope: Scope, queryset: QuerySet[Question], key: Any
) -> dict[Any, tuple[Durations, Durations]]:
    """First-response and desk-share durations in business time, per group (a single
    group, ``None``, when ``key`` is None)."""
    first: dict[Any, list[float]] = defaultdict(list)
    desk: dict[Any, list[float]] = defaultdict(list)
    for group, first_seconds, desk_seconds in business_rows(scope, queryset, key):
        first[group].append(first_seconds)
        desk[group].append(desk_seconds)
    result = {
        group: (Durations.from_values(first[group]), Durations.from_values(desk[group]))
        for group in first
    }
    if key is None:
        result.setdefault(None, (EMPTY, EMPTY))
    return result
