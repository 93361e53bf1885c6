"""Eligibility: the gate over every standing state, languages, skills, local topics, the cap
on open claims, and shifts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User

from charter.standing import suspend
from helpdesk.models import Brand
from helpdesk.states import QuestionState
from routing.eligibility import EligibilityIndex, primary_language
from routing.models import RoutingSettings, Topic
from routing.presence import end_shift
from tests.factories import STANDING_STATES, make_store, make_volunteer, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALLOWED = {"trainee", "certified", "mentor"}
REFUSAL = {
    "enrolled": ["training_incomplete"],
    "suspended": ["suspended"],
    "lapsed-charter": ["charter_not_accepted"],
    "expired-certification": ["training_expired"],
}


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=20))
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    return brand


@pytest.mark.parametrize("state", STANDING_STATES)
def test_the_gate_decides_over_every_standing_state(desk: Brand, state: str) -> None:
    volunteer = member(desk, state, now=T0)
    asked = question(desk)

    index = EligibilityIndex.build(desk.pk, now=T0)
    eligible, reasons = index.is_eligible(volunteer.user.pk, asked)

    assert eligible is (state in ALLOWED)
    assert reasons == REFUSAL.get(state, [])
    assert index.eligible_for(asked) == ([volunteer.user.pk] if state in ALLOWED else [])
    fresh = EligibilityIndex.build(desk.pk, now=T0, fresh_gate=True)
    assert fresh.is_eligible(volunteer.user.pk, asked) == (eligible, reasons)


def test_a_memoised_gate_answer_follows_a_suspension(desk: Brand, admin_user: User) -> None:
    volunteer = member(desk, now=T0)
    asked = question(desk)
    assert EligibilityIndex.build(desk.pk, now=T0).eligible_for(asked) == [volunteer.user.pk]

    suspend(volunteer.user.pk, desk.pk, actor=admin_user, reason="Shared an address")

    index = EligibilityIndex.build(desk.pk, now=T0)
    assert index.eligible_for(asked) == []
    assert index.is_eligible(volunteer.user.pk, asked) == (False, ["suspended"])


def test_off_shift_people_are_not_eligible(desk: Brand) -> None:
    volunteer = member(desk, now=T0)
    end_shift(volunteer.user, desk.pk, now=T0)
    asked = question(desk)

    index = EligibilityIndex.build(desk.pk, now=T0)

    assert index.eligible_for(asked) == []
    assert index.is_eligible(volunteer.user.pk, asked) == (False, ["not_on_shift"])


def test_someone_on_shift_without_a_desk_role_is_not_eligible(desk: Brand) -> None:
    agency = make_volunteer(desk, role="agency")
    index = EligibilityIndex.build(desk.pk, user_ids=[agency.user.pk], now=T0)

    assert index.is_eligible(agency.user.pk, question(desk)) == (False, ["not_on_shift"])


def test_languages_match_on_the_primary_subtag_and_default_to_english(desk: Brand) -> None:
    english = member(desk, now=T0, languages=[])
    french = member(desk, now=T0, languages=["fr"])
    both = member(desk, now=T0, languages=["EN", "fr-CA"])

    index = EligibilityIndex.build(desk.pk, now=T0)

    assert index.eligible_for(question(desk, lang="en-GB")) == [english.user.pk, both.user.pk]
    assert index.eligible_for(question(desk, lang="fr")) == [french.user.pk, both.user.pk]
    assert index.eligible_for(question(desk, lang="de")) == []
    everyone = sorted([english.user.pk, french.user.pk, both.user.pk])
    assert index.eligible_for(question(desk, lang="und")) == everyone
    assert index.eligible_for(question(desk, lang="")) == everyone
    # X's "cashtags only" and "too short" codes, when the detector cannot tell either
    assert index.eligible_for(question(desk, lang="qct")) == everyone
    assert index.eligible_for(question(desk, lang="qst")) == everyone
    assert index.is_eligible(french.user.pk, question(desk, lang="en")) == (False, ["language"])
    assert primary_language(" pt_BR ") == "pt"


def test_a_topic_needs_the_skill_and_no_topic_needs_none(desk: Brand) -> None:
    billing = Topic.objects.create(brand=desk, slug="billing", name="Billing")
    skilled = member(desk, now=T0, skills=["billing", "returns"])
    unskilled = member(desk, now=T0, skills=["returns"])

    index = EligibilityIndex.build(desk.pk, now=T0)

    assert index.eligible_for(question(desk, topic=billing)) == [skilled.user.pk]
    assert index.is_eligible(unskilled.user.pk, question(desk, topic=billing)) == (
        False,
        ["skill"],
    )
    assert index.eligible_for(question(desk)) == sorted([skilled.user.pk, unskilled.user.pk])


def test_a_local_topic_goes_to_the_store_then_to_its_region(desk: Brand) -> None:
    pickup = Topic.objects.create(brand=desk, slug="pickup", name="Pickup", is_local=True)
    paris = make_store(desk, region="idf")
    versailles = make_store(desk, region="idf")
    lyon = make_store(desk, region="ara")
    nowhere = make_store(desk, region="")
    at_paris = member(desk, now=T0, store=paris, skills=["pickup"])
    at_versailles = member(desk, now=T0, store=versailles, skills=["pickup"])
    at_lyon = member(desk, now=T0, store=lyon, skills=["pickup"])
    no_store = member(desk, now=T0, skills=["pickup"])

    index = EligibilityIndex.build(desk.pk, now=T0)

    # People of the customer's store first; the region when the store has nobody on shift
    assert index.eligible_for(question(desk, topic=pickup, store=paris)) == [at_paris.user.pk]
    end_shift(at_paris.user, desk.pk, now=T0)
    index = EligibilityIndex.build(desk.pk, now=T0)
    assert index.eligible_for(question(desk, topic=pickup, store=paris)) == [at_versailles.user.pk]
    assert index.eligible_for(question(desk, topic=pickup, store=nowhere)) == []
    assert index.is_eligible(at_lyon.user.pk, question(desk, topic=pickup, store=paris)) == (
        False,
        ["not_local"],
    )
    assert index.is_eligible(at_versailles.user.pk, question(desk, topic=pickup, store=paris))[0]
    # The customer's store unknown: anyone with the skill
    assert index.eligible_for(question(desk, topic=pickup)) == sorted(
        [at_versailles.user.pk, at_lyon.user.pk, no_store.user.pk]
    )


def test_the_cap_on_open_claims(desk: Brand) -> None:
    RoutingSettings.objects.create(brand=desk, max_open_claims=2)
    busy = member(desk, now=T0)
    free = member(desk, now=T0)
    question(desk, state=QuestionState.CLAIMED, claimed_by=busy.user)
    question(desk, state=QuestionState.DRAFTING, claimed_by=busy.user)
    question(desk, state=QuestionState.IN_REVIEW, claimed_by=free.user)
    asked = question(desk)

    index = EligibilityIndex.build(desk.pk, now=T0)

    assert index.eligible_for(asked) == [free.user.pk]
    assert index.is_eligible(busy.user.pk, asked) == (False, ["too_many_claims"])
    index.count_claim(free.user.pk)
    index.count_claim(free.user.pk)
    assert index.eligible_for(asked) == []


def test_every_reason_is_given_at_once(desk: Brand) -> None:
    billing = Topic.objects.create(brand=desk, slug="billing", name="Billing")
    volunteer = member(desk, "suspended", now=T0, languages=["fr"])

    index = EligibilityIndex.build(desk.pk, now=T0)

    assert index.is_eligible(volunteer.user.pk, question(desk, topic=billing, lang="en")) == (
        False,
        ["suspended", "language", "skill"],
    )
