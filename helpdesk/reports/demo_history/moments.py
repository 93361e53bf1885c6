"""Time and ids in the made-up history: a local moment of a day, and X snowflake ids of
made-up moments with sequence bits the sandbox never uses, so they cannot collide with a
tweet the sandbox makes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TWITTER_EPOCH_MS = 1288834974657
# Sequence bits of the history's ids: the sandbox counts up from 0 within a millisecond.
QUESTION_SEQUENCE = 0x200000
REPLY_SEQUENCE = 0x300000


def snowflake(moment: datetime, sequence: int) -> str:
    millis = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | (sequence & 0x3FFFFF))


def local_moment(day: date, seconds: float, zone: ZoneInfo) -> datetime:
    return (datetime.combine(day, time.min, tzinfo=zone) + timedelta(seconds=seconds)).astimezone(
        UTC
    )
