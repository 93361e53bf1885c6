"""The SLA sweep: near and past first-response deadlines, alerted once per level; queued
questions past theirs are raised and widened to the pool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.models import AuditEvent, Brand
from helpdesk.states import QuestionState
from routing.models import RoutingSettings
from routing.sla import sweep_sla
from tests.factories import publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    # Priority 1 (high): 60 minutes; near after 75%, i.e. in the last 15 minutes
    RoutingSettings.objects.create(brand=brand, sla_warning_share=0.75)
    return brand


def _alerts(kind: str) -> list[tuple[int | None, dict[str, Any]]]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("pk").values_list("question", "data"))


def test_a_question_near_its_deadline_is_alerted_once(desk: Brand) -> None:
    near = question(desk, priority=1, sla_due_at=T0 + timedelta(minutes=10))
    question(desk, priority=1, sla_due_at=T0 + timedelta(minutes=20))  # not yet near
    question(desk, priority=1, state=QuestionState.ANSWERED, sla_due_at=T0)

    counts = sweep_sla(T0)
    again = sweep_sla(T0 + timedelta(minutes=1))

    assert counts == {"near": 1, "breached": 0, "raised": 0}
    assert again == {"near": 0, "breached": 0, "raised": 0}
    [(question_id, data)] = _alerts("question.sla_near")
    assert question_id == near.pk and data["priority"] == 1
    near.refresh_from_db()
    assert near.priority == 1


def test_a_queued_question_past_its_deadline_is_raised_and_widened_once(desk: Brand) -> None:
    volunteer = member(desk, now=T0)
    late = question(
        desk,
        priority=2,
        sla_due_at=T0 - timedelta(minutes=1),
        offered_to=volunteer.user,
        offer_expires_at=T0 + timedelta(minutes=1),
    )

    first = sweep_sla(T0)
    second = sweep_sla(T0 + timedelta(minutes=5))

    assert first == {"near": 0, "breached": 1, "raised": 1}
    assert second == {"near": 0, "breached": 0, "raised": 0}
    late.refresh_from_db()
    assert late.priority == 1
    assert late.offered_to is None and late.offer_expires_at is None
    [(question_id, data)] = _alerts("question.sla_breached")
    assert question_id == late.pk
    assert data["raised_to"] == 1 and data["withdrawn_offer_to"] == volunteer.user.pk


def test_an_urgent_question_stays_urgent_and_a_claimed_one_is_only_alerted(desk: Brand) -> None:
    volunteer = member(desk, now=T0)
    urgent = question(desk, priority=0, sla_due_at=T0 - timedelta(minutes=1))
    claimed = question(
        desk,
        priority=2,
        state=QuestionState.CLAIMED,
        claimed_by=volunteer.user,
        sla_due_at=T0 - timedelta(minutes=1),
    )

    counts = sweep_sla(T0)

    assert counts == {"near": 0, "breached": 2, "raised": 0}
    urgent.refresh_from_db()
    claimed.refresh_from_db()
    assert urgent.priority == 0
    assert (claimed.priority, claimed.state, claimed.claimed_by) == (
        2,
        QuestionState.CLAIMED,
        volunteer.user,
    )


def test_near_then_breached_alerts_each_level_once(desk: Brand) -> None:
    asked = question(desk, priority=1, sla_due_at=T0 + timedelta(minutes=10))

    sweep_sla(T0)
    sweep_sla(T0 + timedelta(minutes=11))
    sweep_sla(T0 + timedelta(minutes=12))

    kinds = list(
        AuditEvent.objects.filter(question=asked).order_by("pk").values_list("kind", flat=True)
    )
    assert kinds == ["question.sla_near", "question.sla_breached"]


def test_the_sweep_reads_only_questions_near_a_deadline(desk: Brand) -> None:
    for n in range(30):
        question(desk, priority=3, sla_due_at=T0 + timedelta(days=2, minutes=n))

    with CaptureQueriesContext(connection) as queries:
        counts = sweep_sla(T0)

    assert counts == {"near": 0, "breached": 0, "raised": 0}
    assert len(queries.captured_queries) <= 4


def test_the_admin_form_refuses_a_deadline_over_a_year(brand: Brand) -> None:
    # Thousands of years overflowed the date and stopped the brand's ingestion (issue 11)
    from routing.admin import RoutingSettingsForm

    form = RoutingSettingsForm(
        {
            "brand": str(brand.pk),
            "sla_minutes": '{"2": 10000000000}',
            "default_placement": "pool",
            "claim_lease_minutes": "10",
            "offer_timeout_seconds": "120",
            "shift_idle_minutes": "30",
            "max_open_claims": "3",
            "sla_warning_share": "0.8",
        }
    )

    assert not form.is_valid()
    assert form.errors["sla_minutes"] == [
        "Minutes for priority 2 must be at most 527,040 (a year)."
    ]


def test_a_stored_deadline_out_of_range_leaves_the_default(brand: Brand) -> None:
    from routing.actions import sla_minutes_for

    RoutingSettings.objects.create(brand=brand, sla_minutes={"0": 10**10, "1": True, "2": 30})

    assert sla_minutes_for(brand.pk) == {"0": 15, "1": 60, "2": 30, "3": 1440}


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("claim_lease_minutes", 10_080),
        ("offer_timeout_seconds", 86_400),
        ("shift_idle_minutes", 10_080),
        ("max_open_claims", 1000),
    ],
)
def test_the_admin_form_bounds_the_routing_numbers(brand: Brand, name: str, limit: int) -> None:
    # An idle time of 2**31 - 1 minutes (what PostgreSQL's column takes) overflowed the
    # idle-shift sweep's date for every brand (issue 11)
    from routing.admin import RoutingSettingsForm

    settings = {
        "brand": str(brand.pk),
        "sla_minutes": '{"2": 240}',
        "default_placement": "pool",
        "claim_lease_minutes": "10",
        "offer_timeout_seconds": "120",
        "shift_idle_minutes": "30",
        "max_open_claims": "3",
        "sla_warning_share": "0.8",
    }

    assert RoutingSettingsForm({**settings, name: str(limit)}).is_valid()
    refused = RoutingSettingsForm({**settings, name: str(2**31 - 1)})
    assert refused.errors[name] == [f"Ensure this value is less than or equal to {limit}."]
