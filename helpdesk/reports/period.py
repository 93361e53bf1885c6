"""Report periods: whole local days in the brand's time zone.

A period is a first and a last date (both included) in the brand's IANA zone. Its instants
run from the first date's local midnight to the local midnight after the last date, so a
day on which the clocks change is 23 or 25 hours long and no question falls between two
days or into two. The period before has the same number of days and ends where this one
begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The widest period one report covers (a year, and a leap day).
MAX_DAYS = 366
# Dates a reader may ask for: far enough from year 1 and 9999 that the period before and the
# local midnights after stay representable in every zone.
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)
# What a period itself may cover: the period before the earliest one asked for, too.
_FLOOR = EARLIEST - timedelta(days=MAX_DAYS)


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise PeriodError("The first day must not be after the last day.")
        if self.days > MAX_DAYS:
            raise PeriodError(f"A report covers at most {MAX_DAYS} days.")
        if self.first < _FLOOR or self.last > LATEST:
            raise PeriodError(
                f"Dates must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}."
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first day's local midnight, in UTC."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The local midnight after the last day, in UTC (excluded)."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def previous(self) -> Period:
        """The same number of days just before this period."""
        return Period(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.zone
        )

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]

    def weeks(self) -> list[date]:
        """The Mondays of the weeks the period touches (a week runs Monday to Sunday)."""
        monday = self.first - timedelta(days=self.first.weekday())
        out = []
        while monday <= self.last:
            out.append(monday)
            monday += timedelta(days=7)
        return out

    @property
    def granularity(self) -> str:
        """``day`` for up to three months, ``week`` beyond."""
        return "day" if self.days <= 92 else "week"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) at which ``day`` begins in ``zone``. Where midnight does not exist
    (a zone that moves its clocks forward at 00:00), the wall time is read with the offset
    before the change (PEP 495's ``fold=0``): the day begins at the end of the gap."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def last_full_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the last week that has ended by ``today``."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7), this_monday - timedelta(days=1)


def presets(today: date) -> dict[str, tuple[date, date]]:
    """The periods the report page offers by name."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return {
        "7d": (today - timedelta(days=6), today),
        "30d": (today - timedelta(days=29), today),
        "90d": (today - timedelta(days=89), today),
        "this-month": (first_of_month, today),
        "last-month": (last_month_end.replace(day=1), last_month_end),
        "last-week": last_full_week(today),
    }
