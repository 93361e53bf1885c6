"""Claims: one winner who holds a lease, losers told who holds it, refusals that write
nothing, renewal and expiry, release, reassignment by role, escalation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from charter.standing import suspend
from helpdesk.models import AuditEvent, Brand, Question, Role
from helpdesk.states import QuestionState
from routing.claims import (
    ClaimError,
    claim_question,
    expire_leases,
    open_claims_count,
    release_question,
    renew_lease,
)
from routing.handover import escalate_question, reassign_question, release_for_holder
from routing.models import RoutingSettings
from routing.presence import end_shift
from tests.factories import make_brand, make_store, publish_charter
from tests.routing.onshift import conversation, member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=20))
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    return brand


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _snapshot(question_id: int) -> dict[str, Any]:
    return dict(Question.objects.filter(pk=question_id).values().get())


def test_the_first_claim_wins_a_lease_and_the_next_is_told_who_has_it(desk: Brand) -> None:
    alice = member(desk, now=T0, display_name="Alice")
    bob = member(desk, now=T0, display_name="Bob")
    asked = question(desk)

    won = claim_question(asked.pk, alice.user)
    lost = claim_question(asked.pk, bob.user)

    assert won.won is True and won.holder_id == alice.user.pk
    assert won.until == T0 + timedelta(minutes=10)
    assert lost.won is False
    assert lost.reason == "already_claimed"
    assert lost.holder_display == "Alice" and lost.holder_id == alice.user.pk
    assert lost.message == "Already claimed by Alice (until 09:10)."
    asked.refresh_from_db()
    assert asked.state == QuestionState.CLAIMED
    assert asked.claimed_by == alice.user
    assert asked.claimed_at == T0 and asked.lease_expires_at == T0 + timedelta(minutes=10)
    event = AuditEvent.objects.get(question=asked)
    assert (event.kind, event.actor, event.from_state, event.to_state) == (
        "question.claimed",
        alice.user,
        "queued",
        "claimed",
    )
    assert open_claims_count(alice.user) == 1 and open_claims_count(bob.user) == 0


@pytest.mark.parametrize(
    ("state", "codes"),
    [
        ("enrolled", ("training_incomplete",)),
        ("suspended", ("suspended",)),
        ("lapsed-charter", ("charter_not_accepted",)),
        ("expired-certification", ("training_expired",)),
    ],
)
def test_a_refused_claim_writes_nothing(desk: Brand, state: str, codes: tuple[str, ...]) -> None:
    volunteer = member(desk, state, now=T0)
    asked = question(desk)
    before = _snapshot(asked.pk)

    result = claim_question(asked.pk, volunteer.user)

    assert (result.won, result.reason, result.refusals) == (False, "not_eligible", codes)
    assert _snapshot(asked.pk) == before
    assert not AuditEvent.objects.filter(question=asked).exists()


def test_off_shift_and_over_the_cap_are_refused(desk: Brand) -> None:
    RoutingSettings.objects.create(brand=desk, max_open_claims=1)
    off = member(desk, now=T0)
    end_shift(off.user, desk.pk)
    busy = member(desk, now=T0)
    question(desk, state=QuestionState.CLAIMED, claimed_by=busy.user)
    asked = question(desk)
    before = _snapshot(asked.pk)

    assert claim_question(asked.pk, off.user).refusals == ("not_on_shift",)
    assert claim_question(asked.pk, busy.user).refusals == ("too_many_claims",)
    assert _snapshot(asked.pk) == before
    assert not AuditEvent.objects.filter(question=asked).exists()


def test_an_offer_holds_the_question_for_its_person_until_it_expires(
    desk: Brand, _frozen: Any
) -> None:
    offered = member(desk, now=T0)
    other = member(desk, now=T0)
    asked = question(desk, offered_to=offered.user, offer_expires_at=T0 + timedelta(minutes=2))

    refused = claim_question(asked.pk, other.user)
    assert (refused.won, refused.reason) == (False, "offered_to_someone_else")
    _frozen.move_to(T0 + timedelta(minutes=3))
    late = claim_question(asked.pk, other.user)

    assert late.won is True
    asked.refresh_from_db()
    assert asked.offered_to is None and asked.offer_expires_at is None


def test_the_offered_person_may_claim_during_the_offer(desk: Brand) -> None:
    offered = member(desk, now=T0)
    asked = question(desk, offered_to=offered.user, offer_expires_at=T0 + timedelta(minutes=2))

    assert claim_question(asked.pk, offered.user).won is True


def test_a_question_not_in_the_queue_cannot_be_claimed(desk: Brand) -> None:
    volunteer = member(desk, now=T0)
    answered = question(desk, state=QuestionState.ANSWERED)

    result = claim_question(answered.pk, volunteer.user)

    assert (result.won, result.reason) == (False, "not_queued")
    assert claim_question(999_999, volunteer.user).reason == "not_found"


def test_the_holder_renews_the_lease_while_typing(desk: Brand, _frozen: Any) -> None:
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    asked = question(desk)
    claim_question(asked.pk, alice.user)

    _frozen.move_to(T0 + timedelta(minutes=8))
    until = renew_lease(asked.pk, alice.user)

    assert until == T0 + timedelta(minutes=18)
    asked.refresh_from_db()
    assert asked.lease_expires_at == until
    with pytest.raises(ClaimError):
        renew_lease(asked.pk, bob.user)
    asked.refresh_from_db()
    assert asked.lease_expires_at == until


def test_a_suspended_holder_cannot_keep_the_claim_alive(desk: Brand, _frozen: Any) -> None:
    """Issue 11 (3): typing renews the lease only for someone the gate still lets claim."""
    alice = member(desk, now=T0)
    boss = member(desk, now=T0, role=Role.SUPERVISOR, on_shift=False)
    asked = question(desk)
    claim_question(asked.pk, alice.user)
    before = Question.objects.get(pk=asked.pk).lease_expires_at
    suspend(alice.user.pk, desk.pk, actor=boss.user, reason="posted a price")

    _frozen.move_to(T0 + timedelta(minutes=8))
    with pytest.raises(ClaimError) as refused:
        renew_lease(asked.pk, alice.user)

    assert refused.value.code == "not_allowed"
    assert Question.objects.get(pk=asked.pk).lease_expires_at == before


def test_a_lapsed_lease_returns_the_question_to_the_queue(desk: Brand, _frozen: Any) -> None:
    alice = member(desk, now=T0)
    kept = member(desk, now=T0)
    asked = question(desk)
    renewed = question(desk)
    claim_question(asked.pk, alice.user)
    claim_question(renewed.pk, kept.user)
    _frozen.move_to(T0 + timedelta(minutes=9))
    renew_lease(renewed.pk, kept.user)

    _frozen.move_to(T0 + timedelta(minutes=10, seconds=1))
    with pytest.raises(ClaimError):
        renew_lease(asked.pk, alice.user)
    lapsed = expire_leases()

    assert lapsed == 1
    asked.refresh_from_db()
    assert asked.state == QuestionState.QUEUED
    assert asked.claimed_by is None and asked.lease_expires_at is None
    renewed.refresh_from_db()
    assert renewed.state == QuestionState.CLAIMED and renewed.claimed_by == kept.user
    event = AuditEvent.objects.get(kind="question.lease_lapsed")
    assert event.question_id == asked.pk
    assert (event.from_state, event.to_state) == ("claimed", "queued")
    assert event.data["holder_id"] == alice.user.pk
    assert expire_leases() == 0


def test_the_holder_releases_and_nobody_else_may(desk: Brand) -> None:
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    asked = question(desk)
    claim_question(asked.pk, alice.user)

    with pytest.raises(ClaimError):
        release_question(asked.pk, bob.user)
    asked.refresh_from_db()
    assert asked.claimed_by == alice.user
    release_question(asked.pk, alice.user)

    asked.refresh_from_db()
    assert asked.state == QuestionState.QUEUED and asked.claimed_by is None
    event = AuditEvent.objects.get(kind="question.released")
    assert (event.actor, event.from_state, event.to_state) == (alice.user, "claimed", "queued")
    assert claim_question(asked.pk, bob.user).won is True


@pytest.mark.parametrize(
    ("role", "same_store", "allowed"),
    [
        (Role.VOLUNTEER, True, False),
        (Role.AGENCY, True, False),
        (Role.SUPERVISOR, True, True),
        (Role.SUPERVISOR, False, False),
        (Role.ADMIN, False, True),
    ],
)
def test_reassignment_by_role(desk: Brand, role: str, same_store: bool, allowed: bool) -> None:
    store = make_store(desk)
    other_store = make_store(desk)
    holder = member(desk, now=T0, store=store)
    target = member(desk, now=T0, store=store)
    boss = member(
        desk,
        now=T0,
        store=store if same_store else other_store,
        role=role,
        on_shift=role != Role.AGENCY,
    )
    asked = question(desk)
    claim_question(asked.pk, holder.user)
    before = _snapshot(asked.pk)

    if not allowed:
        with pytest.raises(ClaimError) as refused:
            reassign_question(asked.pk, target.user, boss.user)
        assert refused.value.code == "forbidden"
        assert _snapshot(asked.pk) == before
        assert not AuditEvent.objects.filter(kind="question.reassigned").exists()
        return
    reassign_question(asked.pk, target.user, boss.user)
    asked.refresh_from_db()
    assert asked.state == QuestionState.CLAIMED and asked.claimed_by == target.user
    event = AuditEvent.objects.get(kind="question.reassigned")
    assert event.actor == boss.user
    assert event.data == {"from_user_id": holder.user.pk, "to_user_id": target.user.pk}


def test_reassigning_needs_the_holders_store_too(desk: Brand) -> None:
    """Issue 11 (2): a supervisor who may not take a question back from its holder may not
    hand it to one of their own people either."""
    theirs, mine = make_store(desk), make_store(desk)
    holder = member(desk, now=T0, store=theirs)
    target = member(desk, now=T0, store=mine)
    boss = member(desk, now=T0, store=mine, role=Role.SUPERVISOR)
    asked = question(desk)
    claim_question(asked.pk, holder.user)
    before = _snapshot(asked.pk)

    with pytest.raises(ClaimError) as refused:
        reassign_question(asked.pk, target.user, boss.user)

    assert refused.value.code == "forbidden"
    assert _snapshot(asked.pk) == before
    with pytest.raises(ClaimError):
        release_for_holder(asked.pk, boss.user)


def test_a_supervisor_of_another_brand_may_not_reassign(desk: Brand) -> None:
    other = make_brand()
    publish_charter(other, effective_at=T0 - timedelta(days=1))
    target = member(desk, now=T0)
    boss = member(other, now=T0, role=Role.ADMIN)
    asked = question(desk)

    with pytest.raises(ClaimError):
        reassign_question(asked.pk, target.user, boss.user)
    assert _snapshot(asked.pk)["state"] == QuestionState.QUEUED


def test_reassignment_needs_an_eligible_target(desk: Brand) -> None:
    target = member(desk, "suspended", now=T0)
    boss = member(desk, now=T0, role=Role.SUPERVISOR)
    asked = question(desk)
    before = _snapshot(asked.pk)

    with pytest.raises(ClaimError) as refused:
        reassign_question(asked.pk, target.user, boss.user)

    assert refused.value.code == "not_eligible"
    assert _snapshot(asked.pk) == before


def test_escalation_carries_the_thread_and_what_was_tried(desk: Brand, _frozen: Any) -> None:
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    thread = conversation(desk)
    first = question(desk, conversation_of=thread, text="my order is late", received_at=T0)
    _frozen.move_to(T0 + timedelta(minutes=1))
    follow_up = question(
        desk, conversation_of=thread, text="still nothing", received_at=T0 + timedelta(minutes=1)
    )
    claim_question(follow_up.pk, alice.user)

    with pytest.raises(ClaimError):
        escalate_question(follow_up.pk, bob.user, "not mine")
    with pytest.raises(ClaimError):
        escalate_question(follow_up.pk, alice.user, "   ")
    escalate_question(follow_up.pk, alice.user, "Needs a refund over the limit")

    follow_up.refresh_from_db()
    assert follow_up.state == QuestionState.ESCALATED
    event = AuditEvent.objects.get(kind="question.escalated")
    assert (event.actor, event.from_state, event.to_state) == (alice.user, "claimed", "escalated")
    assert event.data["note"] == "Needs a refund over the limit"
    assert [(t["tweet_id"], t["text"]) for t in event.data["thread"]] == [
        (first.tweet_id, "my order is late"),
        (follow_up.tweet_id, "still nothing"),
    ]
    assert [step["kind"] for step in event.data["tried"]] == ["question.claimed"]
    json.dumps(event.data)
