"""The embedded demo's normal pace of customer traffic, and the history that makes it normal.

The months of history ``seed_demo`` writes (``helpdesk.reports.demo_history``) arrive with a
daily and weekly rhythm; spike detection (``helpdesk.monitoring.spikes``) learns what an
hour usually brings from the same hour of the last weeks. So the demo's sandbox sends what
the history says is usual for the hour of the brand's week it is (never less than
``FLOOR_PER_HOUR``, so a night-time demo is not dead) and a volume alert means something:
a storm from the sandbox's control API, not the demo's own traffic. ``--rate`` on
``manage.py demo`` overrides it with a fixed rate.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from helpdesk.reports.demo_history.arrivals import HOURLY, WEEKLY

# Questions a day in the seeded history (a weekday noon hour: about 12). More makes a busier
# demo and a slower seed (about 15,000 rows a minute here).
HISTORY_PER_DAY = 150
# Below spike detection's smallest alerting hour (MIN_VOLUME, 20) by far, whatever the
# history says.
FLOOR_PER_HOUR = 6.0
# The sandbox's conversations have 1.15 customer messages each (the corpus): the follow-ups
# come on top of the rate at which it opens conversations.
MESSAGES_PER_CONVERSATION = 1.15


def usual_questions_per_hour(moment: datetime, zone: ZoneInfo) -> float:
    """What the seeded history brings in the local hour of the week ``moment`` falls in."""
    local = moment.astimezone(zone)
    share = HOURLY[local.hour] / sum(HOURLY)
    return HISTORY_PER_DAY * WEEKLY[local.weekday()] * share


def demo_questions_per_hour(moment: datetime, zone: ZoneInfo) -> float:
    """The questions an hour the demo's sandbox brings at ``moment``."""
    return max(FLOOR_PER_HOUR, usual_questions_per_hour(moment, zone))


def sandbox_rate(moment: datetime, zone: ZoneInfo) -> float:
    """The sandbox's rate of new conversations (a second) for the demo's pace at ``moment``."""
    return demo_questions_per_hour(moment, zone) / MESSAGES_PER_CONVERSATION / 3600
