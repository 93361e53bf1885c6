"""The embedded demo's normal pace of customer traffic, and the history that makes it normal.

The months of history ``seed_demo`` writes (``helpdesk.reports.demo_history``) arrive with a
daily and weekly rhythm, and spike detection (``helpdesk.monitoring.spikes``) learns what an
hour usually brings from the same hour of the last weeks. So the demo's sandbox sends what
spike detection expects for the hour of the brand's week it is (its baseline; never less
than ``FLOOR_PER_HOUR``, so a night-time demo is not dead), and a volume alert means
something: a storm from the sandbox's control API, not the demo's own traffic. ``--rate``
on ``manage.py demo`` overrides it with a fixed rate.
"""

from __future__ import annotations

from datetime import datetime

from helpdesk.models import Brand
from helpdesk.monitoring.spikes import baseline

# Questions a day in the seeded history: a weekday's busiest hour then usually brings about
# ten. More makes a busier demo and a slower seed (some 15,000 rows a minute here).
HISTORY_PER_DAY = 150
# Far below spike detection's smallest alerting hour (MIN_VOLUME, 20), whatever the history.
FLOOR_PER_HOUR = 6.0
# The sandbox's conversations have 1.15 customer messages each (the corpus): the follow-ups
# come on top of the rate at which it opens conversations.
MESSAGES_PER_CONVERSATION = 1.15


def demo_questions_per_hour(brand: Brand, moment: datetime) -> float:
    """The questions an hour the demo's sandbox brings at ``moment``: what spike detection
    expects of the hour ending then."""
    return max(FLOOR_PER_HOUR, baseline(brand, moment).expected_volume)


def sandbox_rate(brand: Brand, moment: datetime) -> float:
    """The sandbox's rate of new conversations (a second) for the demo's pace at ``moment``."""
    return demo_questions_per_hour(brand, moment) / MESSAGES_PER_CONVERSATION / 3600
