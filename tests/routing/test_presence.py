"""Presence: shifts start and end, idle shifts end by themselves, and the hours export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from helpdesk.models import AuditEvent, Brand, Question
from helpdesk.states import QuestionState
from routing.models import RoutingSettings, Shift
from routing.presence import (
    PresenceError,
    end_idle_shifts,
    end_shift,
    is_on_shift,
    on_shift_user_ids,
    shift_hours,
    start_shift,
    touch,
)
from tests.factories import make_volunteer, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    return brand


def test_going_on_shift_opens_one_shift_and_is_idempotent(desk: Brand) -> None:
    volunteer = member(desk, now=T0, on_shift=False)

    first = start_shift(volunteer.user, desk.pk, now=T0)
    again = start_shift(volunteer.user, desk.pk, now=T0 + timedelta(minutes=5))

    assert again.pk == first.pk
    assert first.started_at == T0 and first.ended_at is None
    assert Shift.objects.filter(user=volunteer.user).count() == 1
    assert is_on_shift(volunteer.user.pk, desk.pk) is True
    assert on_shift_user_ids(desk.pk) == {volunteer.user.pk}
    events = AuditEvent.objects.filter(kind="shift.started", actor=volunteer.user)
    assert events.count() == 1
    assert events.get().data["shift_id"] == first.pk


@pytest.mark.parametrize("state", ["enrolled", "suspended", "lapsed-charter"])
def test_someone_the_gate_refuses_does_not_go_on_shift(desk: Brand, state: str) -> None:
    """Issue 11: on shift means offered questions and counted hours, so only for people who
    may claim now; the refusal says why and nothing is written."""
    publish_charter(desk, effective_at=T0 - timedelta(days=1))
    volunteer = member(desk, state, now=T0, on_shift=False)

    with pytest.raises(PresenceError) as refused:
        start_shift(volunteer.user, desk.pk, now=T0)

    assert str(refused.value).startswith("You cannot go on shift now: ")
    assert is_on_shift(volunteer.user.pk, desk.pk) is False
    assert not AuditEvent.objects.filter(kind="shift.started").exists()


def test_someone_without_a_standing_may_not_go_on_shift(desk: Brand) -> None:
    volunteer = make_volunteer(desk)

    with pytest.raises(PresenceError):
        start_shift(volunteer.user, desk.pk, now=T0)

    assert not Shift.objects.exists()
    assert not AuditEvent.objects.filter(kind="shift.started").exists()


def test_ending_a_shift_records_it_keeps_claims_and_expires_offers(desk: Brand) -> None:
    volunteer = member(desk, now=T0)
    claimed = question(
        desk,
        state=QuestionState.CLAIMED,
        claimed_by=volunteer.user,
        lease_expires_at=T0 + timedelta(minutes=10),
    )
    offered = question(desk, offered_to=volunteer.user, offer_expires_at=T0 + timedelta(hours=3))

    shift = end_shift(volunteer.user, desk.pk, now=T0 + timedelta(hours=2))

    assert shift is not None and shift.ended_at == T0 + timedelta(hours=2)
    assert shift.end_reason == "ended"
    assert is_on_shift(volunteer.user.pk, desk.pk) is False
    claimed.refresh_from_db()
    assert claimed.state == QuestionState.CLAIMED and claimed.claimed_by == volunteer.user
    offered.refresh_from_db()
    assert offered.offered_to == volunteer.user
    assert offered.offer_expires_at == T0 + timedelta(hours=2)
    event = AuditEvent.objects.get(kind="shift.ended")
    assert event.data["seconds"] == 7200 and event.data["reason"] == "ended"
    assert end_shift(volunteer.user, desk.pk) is None


def test_idle_shifts_end_when_the_idle_time_ran_out(desk: Brand) -> None:
    RoutingSettings.objects.create(brand=desk, shift_idle_minutes=20)
    idle = member(desk, now=T0)
    active = member(desk, now=T0)
    with time_machine.travel(T0 + timedelta(minutes=15), tick=False):
        assert touch(active.user, desk.pk) is True

    ended = end_idle_shifts(T0 + timedelta(minutes=30))

    assert ended == 1
    shift = Shift.objects.get(user=idle.user)
    assert shift.ended_at == T0 + timedelta(minutes=20)
    assert shift.end_reason == "idle"
    assert on_shift_user_ids(desk.pk) == {active.user.pk}
    event = AuditEvent.objects.get(kind="shift.ended")
    assert event.actor_id == idle.user.pk and event.actor_label == "system:idle"
    assert event.data["reason"] == "idle" and event.data["seconds"] == 1200
    assert end_idle_shifts(T0 + timedelta(minutes=30)) == 0


def test_touch_without_a_shift_says_so(desk: Brand) -> None:
    volunteer = member(desk, now=T0, on_shift=False)

    assert touch(volunteer.user, desk.pk, now=T0) is False
    assert not Shift.objects.exists()


def test_shift_hours_are_clipped_to_the_window(desk: Brand) -> None:
    alice = member(desk, now=T0, on_shift=False)
    bob = member(desk, now=T0, on_shift=False)
    Shift.objects.create(
        user=alice.user,
        brand=desk,
        started_at=T0 - timedelta(hours=1),
        last_seen_at=T0,
        ended_at=T0 + timedelta(hours=2),
    )
    Shift.objects.create(
        user=alice.user,
        brand=desk,
        started_at=T0 + timedelta(hours=5),
        last_seen_at=T0,
        ended_at=T0 + timedelta(hours=6),
    )
    Shift.objects.create(user=bob.user, brand=desk, started_at=T0 + timedelta(hours=7))
    Shift.objects.create(  # before the window
        user=bob.user,
        brand=desk,
        started_at=T0 - timedelta(hours=5),
        last_seen_at=T0,
        ended_at=T0 - timedelta(hours=4),
    )

    hours = shift_hours(
        desk.pk, T0, T0 + timedelta(hours=8), now=T0 + timedelta(hours=7, minutes=30)
    )

    assert hours == {alice.user.pk: 3 * 3600, bob.user.pk: 1800}
    assert Question.objects.count() == 0
