"""The demo's normal pace against the history seed_demo writes: spike detection does not
cry wolf, while the flat 0.5 tweets a second the demo used to send alerts at once."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from helpdesk.management.demo_pace import HISTORY_PER_DAY, demo_questions_per_hour
from helpdesk.models import Brand
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.monitoring.spikes import HourCounts, baseline, detect_spikes, judge
from helpdesk.reports.demo_history import make_history
from tests.demo.sandbox_traffic import deliver, sandbox_first_messages

# The demo's pacing and colleagues are decisions on the clock, the same on either database:
# CI runs them in its embedded pass only.
pytestmark = pytest.mark.backend_neutral

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # a Monday, midnight in Chicago
HISTORY_DAYS = 63  # the eight weeks spike detection looks back on, and a margin
OLD_FLAT_RATE_PER_HOUR = 0.5 * 3600


def busy_hour(expected: float) -> int:
    """A busy but normal hour at ``expected`` questions: two Poisson deviations above."""
    return math.ceil(expected + 2 * math.sqrt(expected))


@pytest.fixture
def seeded(settings: Any) -> Brand:
    settings.DEBUG = True
    with time_machine.travel(NOW - timedelta(days=HISTORY_DAYS + 1), tick=False):
        call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    brand = Brand.objects.get(slug="northwind")
    make_history(brand, per_day=HISTORY_PER_DAY, days=HISTORY_DAYS, now=NOW)
    return brand


@pytest.mark.django_db
def test_the_demo_pace_raises_no_spike_in_any_hour_of_the_week(seeded: Brand) -> None:
    quiet, old_alerts = [], 0
    for hour in range(1, 24 * 7 + 1):
        moment = NOW + timedelta(hours=hour)
        usual = baseline(seeded, moment)
        assert usual.weeks == 8  # learned from the seeded history, not the default
        volume = busy_hour(demo_questions_per_hour(seeded, moment))
        negative = busy_hour(volume * usual.negative_share) if volume else 0
        verdict = judge(HourCounts(volume, min(negative, volume)), usual)
        quiet.append(verdict.reasons == ())
        old = judge(HourCounts(int(OLD_FLAT_RATE_PER_HOUR), 0), usual)
        old_alerts += old.reasons == ("volume",)

    assert all(quiet), [n for n, ok in enumerate(quiet, 1) if not ok]
    assert old_alerts == 24 * 7


@pytest.mark.django_db
def test_a_busy_hour_of_real_sandbox_questions_raises_no_alert(seeded: Brand) -> None:
    # Given the week's busiest hour at the demo's pace, a busy one, of sandbox questions
    moments = [NOW + timedelta(hours=h) for h in range(1, 24 * 7 + 1)]
    end = max(moments, key=lambda moment: demo_questions_per_hour(seeded, moment))
    volume = busy_hour(demo_questions_per_hour(seeded, end))
    rng = random.Random(3)
    messages = rng.sample(sandbox_first_messages(), volume)
    with time_machine.travel(end - timedelta(minutes=59), tick=False) as traveller:
        for message in messages:
            deliver(seeded, [message])
            traveller.shift(timedelta(minutes=58) / volume)

        # When spike detection runs at the end of the hour, as every minute
        run = detect_spikes(end)

    # Then it raises nothing
    assert run.detected == []
    assert not SpikeAlert.objects.exists()
    print(f"{volume} questions in the busiest hour ({end}) against {baseline(seeded, end)}")
