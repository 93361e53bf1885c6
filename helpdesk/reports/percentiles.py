"""Exact percentiles, the same on PostgreSQL, on SQLite and in Python.

The interpolation is the linear one between closest ranks ("type 7" of Hyndman and Fan):
for ``n`` sorted values and a fraction ``p``, the rank is ``h = (n - 1) * p`` and the
percentile ``v[floor(h)] + (h - floor(h)) * (v[floor(h) + 1] - v[floor(h)])``. It is what
PostgreSQL's ``percentile_cont`` computes and NumPy's default ``method="linear"``. Every
value counts once: never an average of averages.

On PostgreSQL the database sorts (``percentile_cont(ARRAY[...]) WITHIN GROUP``); on SQLite
an aggregate function registered on each connection collects the values and calls
:func:`percentiles` below.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

from django.db.backends.signals import connection_created
from django.db.models import Aggregate, Field, FloatField, Func

# The percentiles every report shows.
FRACTIONS: tuple[float, ...] = (0.5, 0.9, 0.95)
SQLITE_FUNCTION = "hf_percentiles"


def percentiles(values: Sequence[float], fractions: Sequence[float] = FRACTIONS) -> list[float]:
    """The ``fractions`` percentiles of ``values`` (any order), linear between closest
    ranks. Empty values have no percentiles: a list of NaN is never returned, an empty
    list is."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return []
    out: list[float] = []
    for fraction in fractions:
        h = (n - 1) * fraction
        low = math.floor(h)
        high = min(low + 1, n - 1)
        out.append(ordered[low] + (h - low) * (ordered[high] - ordered[low]))
    return out


class _SqlitePercentiles:
    """``hf_percentiles(value)``: the report's percentiles of the non-null values as a JSON
    list, NULL when there are none (as ``percentile_cont`` gives)."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> str | None:
        if not self.values:
            return None
        return json.dumps(percentiles(self.values))


def _on_connection(sender: Any, connection: Any, **_: Any) -> None:
    if connection.vendor == "sqlite":
        raw: sqlite3.Connection = connection.connection
        raw.create_aggregate(SQLITE_FUNCTION, 1, _SqlitePercentiles)  # type: ignore[arg-type]


def register_sqlite_aggregate() -> None:
    """Give every new SQLite connection the percentile aggregate (and the ones already
    open, for a process that connected before the app was ready)."""
    connection_created.connect(_on_connection, dispatch_uid="reports-percentiles")
    from django.db import connections

    for alias in connections:
        wrapper = connections[alias]
        if wrapper.vendor == "sqlite" and wrapper.connection is not None:
            _on_connection(None, wrapper)


class PercentileListField(Field[Any, list[float] | None]):
    """The value of :class:`Percentiles`: a list of floats (PostgreSQL's ``float8[]``, or
    SQLite's JSON text), or None for no values."""

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> list[float] | None:
        if value is None:
            return None
        if isinstance(value, str):
            return [float(item) for item in json.loads(value)]
        return [float(item) for item in value]


class Percentiles(Aggregate):
    """The p50, p90 and p95 of a numeric expression over a group, exactly; NULLs ignored."""

    function = "percentile_cont"
    name = "Percentiles"
    template = (
        "%(function)s(ARRAY["
        + ", ".join(str(fraction) for fraction in FRACTIONS)
        + "]::float8[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    )
    output_field = PercentileListField()
    allow_distinct = False

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function=SQLITE_FUNCTION,
            template="%(function)s(%(expressions)s)",
            **extra,
        )


class SecondsBetween(Func):
    """Seconds from ``start`` to ``end`` (two datetime expressions) as a float, never below
    zero (X's clock and ours may disagree by a moment); NULL if either is NULL."""

    output_field = FloatField()
    arity = 2

    def __init__(self, end: Any, start: Any) -> None:
        super().__init__(end, start)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        (end_sql, end_params), (start_sql, start_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        params = (*end_params, *start_params)
        if connection.vendor == "postgresql":
            # GREATEST would turn a NULL into 0; a CASE keeps it NULL.
            return (
                f"(CASE WHEN {end_sql} > {start_sql} "
                f"THEN EXTRACT(EPOCH FROM ({end_sql} - {start_sql}))::float8 "
                f"WHEN {end_sql} <= {start_sql} THEN 0.0 END)",
                params * 3,
            )
        if connection.vendor == "sqlite":
            # SQLite's two-argument MAX is NULL when an argument is.
            return f"MAX(0, django_timestamp_diff({end_sql}, {start_sql}) / 1e6)", params
        raise NotImplementedError(f"reports do not run on {connection.vendor}")


class EpochSeconds(Func):
    """A datetime as seconds since 1970 (PostgreSQL only: reading floats is several times
    faster than reading datetimes, where a report reads a month of rows)."""

    output_field = FloatField()
    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
