"""Business time: how much of a stretch of time fell inside opening hours.

A calendar is a time zone, opening intervals per weekday in that zone's local time, and
holidays (local dates closed all day). A brand with no opening hours at all is open around
the clock, so its business time equals calendar time. Intervals are placed on each local
date with the zone's offset of that date, so a day on which the clocks change has its
opening hours at the right instants (a 09:00-17:00 day is 8 hours on either side of a
change; an interval that spans the change is an hour shorter or longer, as the clock is).

``seconds(start, end)`` is ``B(end) - B(start)`` where ``B(t)`` counts open seconds from
a fixed day up to ``t``; ``B`` is built per local day as needed and kept, so a long report
pays each day once, not each question.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIDNIGHT = time(0, 0)


# Days added at a time when an instant falls before the days built so far.
GROW_BACK = 64


@dataclass
class BusinessCalendar:
    """``weekly[weekday]`` (Monday 0) lists ``(opens, closes)`` local times; a ``closes`` of
    00:00 means the end of the day. ``always_open``: no opening hours were set.

    The days built so far are one run of local days from ``_first``: their midnights (one
    more than the days: the last is where the run ends), the open seconds from the run's
    start to each midnight, and each day's opening intervals, all as POSIX timestamps. An
    instant finds its day by bisection, with no time-zone arithmetic per instant."""

    zone: ZoneInfo
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    _first: date | None = field(default=None, init=False, repr=False)
    _midnights: list[float] = field(default_factory=list, init=False, repr=False)
    _cumulative: list[float] = field(default_factory=list, init=False, repr=False)
    _spans: list[tuple[tuple[float, float], ...]] = field(
        default_factory=list, init=False, repr=False
    )

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())

    @classmethod
    def around_the_clock(cls, zone: ZoneInfo) -> BusinessCalendar:
        return cls(zone=zone, weekly={})

    def seconds(self, start: datetime, end: datetime) -> float:
        """Open seconds from ``start`` to ``end`` (aware datetimes); 0 if ``end`` is not
        after ``start``."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        return self.seconds_between(start.timestamp(), end.timestamp())

    def seconds_between(self, begin: float, finish: float) -> float:
        """``seconds`` for two POSIX timestamps."""
        if finish <= begin:
            return 0.0
        if self.always_open:
            return finish - begin
        # Both instants inside the run first: growing it backwards starts its count afresh,
        # and the two counts must start from the same midnight.
        self._cover(begin)
        self._cover(finish)
        return max(0.0, self._upto(finish) - self._upto(begin))

    # --- the days built so far -----------------------------------------------------------------

    def _midnight(self, day: date) -> float:
        return datetime.combine(day, MIDNIGHT, tzinfo=self.zone).timestamp()

    def _intervals(self, day: date) -> tuple[tuple[float, float], ...]:
        """The day's opening intervals as POSIX timestamps, overlapping ones merged."""
        intervals: list[tuple[float, float]] = []
        if day not in self.holidays:
            for opens, closes in self.weekly.get(day.weekday(), ()):
                begin = datetime.combine(day, opens, tzinfo=self.zone).timestamp()
                end_day = day + timedelta(days=1) if closes == MIDNIGHT else day
                end = datetime.combine(end_day, closes, tzinfo=self.zone).timestamp()
                if end > begin:
                    intervals.append((begin, end))
        merged: list[tuple[float, float]] = []
        for begin, end in sorted(intervals):  # overlapping hours count once
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        return tuple(merged)

    def _build(self, first: date, days: int) -> None:
        """The run of ``days`` days from ``first``, from scratch."""
        self._first = first
        self._spans = [self._intervals(first + timedelta(days=i)) for i in range(days)]
        self._midnights = [self._midnight(first + timedelta(days=i)) for i in range(days + 1)]
        self._cumulative = [0.0]
        for spans in self._spans:
            self._cumulative.append(self._cumulative[-1] + sum(e - b for b, e in spans))

    def _cover(self, instant: float) -> None:
        """Grow the run of days until it holds ``instant``."""
        if self._first is None:
            self._build(datetime.fromtimestamp(instant, self.zone).date(), 1)
        assert self._first is not None
        while instant < self._midnights[0]:
            self._build(self._first - timedelta(days=GROW_BACK), len(self._spans) + GROW_BACK)
            assert self._first is not None
        while instant >= self._midnights[-1]:
            day = self._first + timedelta(days=len(self._spans))
            spans = self._intervals(day)
            self._spans.append(spans)
            self._midnights.append(self._midnight(day + timedelta(days=1)))
            self._cumulative.append(self._cumulative[-1] + sum(e - b for b, e in spans))

    def _upto(self, instant: float) -> float:
        """Open seconds from the run's first midnight to ``instant``."""
        self._cover(instant)
        index = bisect_right(self._midnights, instant) - 1
        total = self._cumulative[index]
        for begin, end in self._spans[index]:
            if instant <= begin:
                break
            total += min(instant, end) - begin
        return total


def calendar_from(
    zone: ZoneInfo,
    hours: Iterable[tuple[int, time, time]],
    holidays: Iterable[date],
) -> BusinessCalendar:
    """A calendar from ``(weekday, opens, closes)`` rows and holiday dates."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in hours:
        weekly.setdefault(int(weekday), []).append((opens, closes))
    return BusinessCalendar(
        zone=zone,
        weekly={day: tuple(sorted(spans)) for day, spans in weekly.items()},
        holidays=frozenset(holidays),
    )
