"""Business time against a plain count: for random stretches of time, the calendar's open
seconds equal the seconds of the stretch whose local wall time falls in an opening interval
of a day that is not a holiday, counted second by second (here: in one-second steps over
short stretches, and by local day over long ones), across daylight-saving changes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.reports.business_time import BusinessCalendar, calendar_from

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOURS = [
    (0, time(9), time(12)),
    (0, time(13), time(17, 30)),
    (1, time(9), time(17)),
    (2, time(8), time(10)),
    (2, time(9), time(11)),  # overlaps: counted once
    (3, time(22), time(0)),  # until midnight
    (4, time(0), time(2)),
    (4, time(1, 30), time(23, 59)),
    (5, time(2), time(4)),  # Sunday 02:00-03:00 does not exist in spring
    (6, time(1), time(3)),
]
HOLIDAYS = [date(2026, 3, 31), date(2026, 11, 3)]


def is_open(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether ``moment`` is inside opening hours, by its local wall time."""
    local = moment.astimezone(zone)
    day, wall = local.date(), local.time()
    if day in HOLIDAYS:
        return False
    for weekday, opens, closes in HOURS:
        if weekday != day.weekday():
            continue
        if opens <= wall and (closes == time(0) or wall < closes):
            return True
    return False


def counted(start: datetime, end: datetime, zone: ZoneInfo, step: int = 60) -> float:
    """Open seconds by stepping: exact when every boundary falls on a whole ``step``."""
    total = 0.0
    moment = start
    while moment < end:
        nxt = min(moment + timedelta(seconds=step), end)
        if is_open(moment, zone):
            total += (nxt - moment).total_seconds()
        moment = nxt
    return total


def make(zone: ZoneInfo) -> BusinessCalendar:
    return calendar_from(zone, HOURS, HOLIDAYS)


@pytest.mark.parametrize("zone", [PARIS, NEW_YORK], ids=["paris", "new-york"])
def test_random_stretches_equal_a_minute_by_minute_count(zone: ZoneInfo) -> None:
    rng = random.Random(5)
    calendar = make(zone)
    # Around both of 2026's clock changes in each zone, and ordinary weeks.
    anchors = [
        datetime(2026, 3, 8, tzinfo=UTC),
        datetime(2026, 3, 29, tzinfo=UTC),
        datetime(2026, 10, 25, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 6, 10, tzinfo=UTC),
    ]
    for _ in range(120):
        start = rng.choice(anchors) + timedelta(minutes=rng.randrange(-3 * 1440, 3 * 1440))
        end = start + timedelta(minutes=rng.randrange(0, 4 * 1440))
        assert calendar.seconds(start, end) == counted(start, end, zone), (start, end)


def test_seconds_inside_a_minute_are_counted_exactly() -> None:
    calendar = make(PARIS)
    opens = datetime(2026, 6, 8, 9, 0, tzinfo=PARIS)  # a Monday

    assert calendar.seconds(opens - timedelta(seconds=7.5), opens + timedelta(seconds=2.25)) == 2.25
    assert calendar.seconds(opens, opens) == 0.0
    assert calendar.seconds(opens + timedelta(hours=1), opens) == 0.0


def test_long_stretches_and_instants_before_the_first_asked() -> None:
    calendar = make(NEW_YORK)
    late = datetime(2026, 12, 20, 10, tzinfo=NEW_YORK)
    early = datetime(2025, 1, 5, 10, tzinfo=NEW_YORK)

    # Asked late first, then far earlier: the run of days grows backwards.
    first = calendar.seconds(late, late + timedelta(days=3))
    whole = calendar.seconds(early, late)

    assert first == counted(late, late + timedelta(days=3), NEW_YORK)
    # A year and more, day by day from local midnight to local midnight.
    total = counted(early, datetime(2025, 1, 6, tzinfo=NEW_YORK), NEW_YORK)
    day = date(2025, 1, 6)
    while day < late.date():
        following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=NEW_YORK)
        total += counted(datetime.combine(day, time(0), tzinfo=NEW_YORK), following, NEW_YORK)
        day += timedelta(days=1)
    total += counted(datetime.combine(late.date(), time(0), tzinfo=NEW_YORK), late, NEW_YORK)
    assert whole == total


def test_the_day_the_clocks_change_keeps_its_wall_hours() -> None:
    calendar = calendar_from(PARIS, [(6, time(1), time(4))], [])
    spring = date(2026, 3, 29)  # 02:00 becomes 03:00
    autumn = date(2026, 10, 25)  # 03:00 becomes 02:00

    def day_total(day: date) -> float:
        return calendar.seconds(
            datetime.combine(day, time(0), tzinfo=PARIS),
            datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS),
        )

    assert day_total(spring) == 2 * 3600  # 01:00-04:00 wall time is two real hours
    assert day_total(autumn) == 4 * 3600  # and four in autumn
    assert day_total(date(2026, 6, 7)) == 3 * 3600


def test_no_hours_means_around_the_clock() -> None:
    calendar = calendar_from(PARIS, [], [date(2026, 1, 1)])
    start = datetime(2026, 1, 1, tzinfo=UTC)

    assert calendar.always_open
    assert calendar.seconds(start, start + timedelta(days=2, seconds=3)) == 2 * 86400 + 3
