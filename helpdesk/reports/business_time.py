"""Business time: how much of a stretch of time fell inside opening hours.

A calendar is a time zone, opening intervals per weekday in that zone's local time, and
holidays (local dates closed all day). A brand with no opening hours at all is open around
the clock, so its business time equals calendar time. Intervals are placed on each local
date with the zone's offset of that date, so a day on which the clocks change has its
opening hours at the right instants (a 09:00-17:00 day is 8 hours on either side of a
change; an interval that spans the change is an hour shorter or longer, as the clock is).

``seconds(start, end)`` is ``B(end) - B(start)`` where ``B(t)`` counts open seconds from
a fixed day up to ``t``; ``B`` is built per local day as needed and cached, so a long
report pays each day once, not each question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIDNIGHT = time(0, 0)


@dataclass
class BusinessCalendar:
    """``weekly[weekday]`` (Monday 0) lists ``(opens, closes)`` local times; a ``closes`` of
    00:00 means the end of the day. ``always_open``: no opening hours were set."""

    zone: ZoneInfo
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    _anchor: date | None = field(default=None, init=False, repr=False)
    _cumulative: list[float] = field(default_factory=list, init=False, repr=False)
    _days: dict[date, tuple[tuple[float, float], ...]] = field(
        default_factory=dict, init=False, repr=False
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
        return max(0.0, self._upto(end.timestamp()) - self._upto(start.timestamp()))

    # --- the cumulative count ---------------------------------------------------------------

    def _intervals(self, day: date) -> tuple[tuple[float, float], ...]:
        """The day's opening intervals as POSIX timestamps."""
        found = self._days.get(day)
        if found is not None:
            return found
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
        result = tuple(merged)
        self._days[day] = result
        return result

    def _day_total(self, day: date) -> float:
        return sum(end - begin for begin, end in self._intervals(day))

    def _before(self, day: date) -> float:
        """Open seconds from the anchor's midnight to ``day``'s midnight (negative for days
        before the anchor)."""
        if self._anchor is None:
            self._anchor = day
            self._cumulative = [0.0]
        offset = (day - self._anchor).days
        if offset < 0:
            # Rebuild from the earlier day: rare (the first instant asked is usually the
            # earliest), and linear in the days between.
            missing = [
                self._day_total(self._anchor - timedelta(days=i)) for i in range(1, -offset + 1)
            ]
            shift = sum(missing)
            prefix = [0.0]
            for total in reversed(missing):
                prefix.append(prefix[-1] + total)
            self._cumulative = prefix[:-1] + [value + shift for value in self._cumulative]
            self._anchor = day
            offset = 0
        while offset >= len(self._cumulative):
            last_day = self._anchor + timedelta(days=len(self._cumulative) - 1)
            self._cumulative.append(self._cumulative[-1] + self._day_total(last_day))
        return self._cumulative[offset]

    def _upto(self, instant: float) -> float:
        local_day = datetime.fromtimestamp(instant, self.zone).date()
        # An interval that closes at midnight ends on the next local day; the day's own
        # intervals are the ones that begin on it.
        total = self._before(local_day)
        for begin, end in self._intervals(local_day):
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
