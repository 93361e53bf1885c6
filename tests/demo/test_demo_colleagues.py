"""The simulated colleagues keep the demo's queue bounded, through the desk's own claim and
reply actions, driven here by a frozen clock that the test moves (no sleeping)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from helpdesk.management.demo_colleagues import SimulatedColleagues
from helpdesk.models import AuditEvent, Brand, Question, Reply
from helpdesk.states import QuestionState, ReplyState
from tests.demo.sandbox_traffic import deliver, sandbox_first_messages

# The demo's pacing and colleagues are decisions on the clock, the same on either database:
# CI runs them in its embedded pass only.
pytestmark = pytest.mark.backend_neutral

STEP = timedelta(seconds=15)
HOURS = 2
# Five times the demo's busiest usual hour (``demo_pace``: about 12 on a weekday noon).
ARRIVALS_PER_HOUR = 60
MAX_WAITING = 20


START = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # a Wednesday, noon in Chicago


@pytest.fixture
def demo_brand(settings: Any) -> Brand:
    # Seeded at the simulation's start: the charter they accepted is in force from then.
    settings.DEBUG = True
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    return Brand.objects.get(slug="northwind")


@pytest.mark.django_db
def test_simulated_colleagues_keep_the_queue_bounded(demo_brand: Brand) -> None:
    # Given the demo brand, its simulated colleagues, and sandbox questions arriving at five
    # times the demo's busiest usual hour for two hours
    rng = random.Random(7)
    messages = sandbox_first_messages()
    waiting_seen: list[int] = []
    arrived: list[int] = []
    with time_machine.travel(START, tick=False) as traveller:
        colleagues = SimulatedColleagues(demo_brand, seed=1)
        # When the clock moves on in 15-second steps, the colleagues doing one round each
        for _ in range(int(timedelta(hours=HOURS) / STEP)):
            due = ARRIVALS_PER_HOUR * STEP.total_seconds() / 3600
            count = int(due) + (rng.random() < due - int(due))
            if count:
                arrived += deliver(demo_brand, rng.sample(messages, count)).question_ids
            waiting_seen.append(colleagues.step(timezone.now()).waiting)
            traveller.shift(STEP)

    # Then the queue stays short, however long the demo runs
    questions = Question.objects.filter(pk__in=arrived)
    waiting = questions.filter(state=QuestionState.QUEUED).count()
    assert len(arrived) >= HOURS * ARRIVALS_PER_HOUR * 0.8
    assert max(waiting_seen) <= MAX_WAITING, max(waiting_seen)
    assert waiting <= MAX_WAITING
    # ... because they answered, one reply per question, each through the gate
    replies = Reply.objects.filter(question__in=questions)
    answered = questions.filter(state__in=(QuestionState.APPROVED, QuestionState.IN_REVIEW))
    assert replies.count() == answered.count() >= len(arrived) - MAX_WAITING - 4
    assert set(replies.values_list("author__username", flat=True)) <= {
        "sim-rosa",
        "sim-kofi",
        "sim-ines",
        "sim-tom",
    }
    assert set(replies.values_list("state", flat=True)) <= {
        ReplyState.QUEUED,
        ReplyState.PENDING_REVIEW,
    }
    # ... and every claim and submission is in the audit log, by its colleague
    claims = AuditEvent.objects.filter(kind="question.claimed", brand_id=demo_brand.pk)
    assert claims.count() >= replies.count()
    assert not claims.filter(actor__isnull=True).exists()
    print(
        f"arrived {len(arrived)}, answered {answered.count()}, waiting at most "
        f"{max(waiting_seen)}, at the end {waiting}"
    )


@pytest.mark.django_db
def test_one_colleague_minds_a_quiet_desk_and_leaves_older_questions_alone(
    demo_brand: Brand,
) -> None:
    # Given a question from before they started (like the seeded history's open ones, which
    # have no tweet in the sandbox to reply to)
    with time_machine.travel(START - timedelta(minutes=30), tick=False):
        older = deliver(demo_brand, sandbox_first_messages()[:1]).question_ids
    with time_machine.travel(START, tick=False) as traveller:
        colleagues = SimulatedColleagues(demo_brand, seed=1)
        # When they do a few rounds
        results = []
        for _ in range(8):
            results.append(colleagues.step(timezone.now()))
            traveller.shift(STEP)

    # Then only one of them is on shift, with nothing to do, and the older one still waits
    assert {result.on_shift for result in results[1:]} == {1}
    assert {result.waiting for result in results} == {0}
    assert sum(result.claimed for result in results) == 0
    assert Question.objects.get(pk__in=older).state == QuestionState.QUEUED
