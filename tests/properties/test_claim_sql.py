"""The claim's conditional update (``routing.eligibility.claim_eligibility_sql`` with
``charter.gate.may_claim_sql``) refuses exactly whom the eligibility index refuses, on
generated people and questions: standing, role, shift, the cap, crisis mode, languages (with
X's undetermined codes, case and region subtags), skills, stores and regions. A refused claim
writes nothing and names the index's reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from hypothesis import event, given
from hypothesis import strategies as st

from helpdesk.models import AuditEvent, Brand, Role, Store
from helpdesk.states import QuestionState
from routing.claims import claim_question
from routing.crisis import start_crisis
from routing.eligibility import EligibilityIndex
from routing.models import CrisisMode, RoutingSettings, Topic
from tests.factories import STANDING_STATES, make_store, make_volunteer, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TAGS = ["en", "fr", "EN-gb", "fr_CA", "es", "und", "", "zxx", "pt-BR"]
QUESTION_LANGS = ["en", "fr-FR", "EN", "es", "und", "", "qme", "pt"]
SLUGS = ["returns", "orders", "pickup"]


@pytest.fixture
def world(brand: Brand) -> dict[str, Any]:
    publish_charter(brand, effective_at=T0 - timedelta(days=20))
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    RoutingSettings.objects.create(brand=brand, max_open_claims=2)
    stores = {
        "north-1": make_store(brand, region="north"),
        "north-2": make_store(brand, region="north"),
        "south": make_store(brand, region="south"),
        "nowhere-1": make_store(brand, region=""),
        "nowhere-2": make_store(brand, region=""),
    }
    topics = {
        slug: Topic.objects.create(brand=brand, slug=slug, name=slug, is_local=slug == "pickup")
        for slug in SLUGS
    }
    boss = make_volunteer(brand, role=Role.SUPERVISOR)
    return {"brand": brand, "stores": stores, "topics": topics, "boss": boss.user}


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


people = st.fixed_dictionaries(
    {
        # Weighted towards people the gate lets through, so that both answers are common.
        "standing": st.sampled_from([*STANDING_STATES, "certified", "mentor", "trainee"]),
        "role": st.sampled_from([Role.VOLUNTEER, Role.VOLUNTEER, Role.SUPERVISOR, Role.AGENCY]),
        "languages": st.lists(st.sampled_from(TAGS), max_size=3),
        "skills": st.one_of(
            st.just(SLUGS), st.lists(st.sampled_from(SLUGS), max_size=3, unique=True)
        ),
        "store": st.sampled_from([None, "north-1", "north-2", "south", "nowhere-1"]),
        "on_shift": st.sampled_from([True, True, True, False]),
        "held": st.sampled_from([0, 0, 0, 1, 2, 3]),
    }
)
asked = st.fixed_dictionaries(
    {
        "lang": st.sampled_from(QUESTION_LANGS),
        "topic": st.sampled_from([None, *SLUGS]),
        "store": st.sampled_from([None, "north-1", "south", "nowhere-2"]),
        "crisis": st.sampled_from(["none", "none", "returns", "brand"]),
    }
)


@given(person=people, question_of=asked)
def test_the_update_takes_exactly_when_the_index_says_eligible(
    world: dict[str, Any], person: dict[str, Any], question_of: dict[str, Any]
) -> None:
    brand: Brand = world["brand"]
    stores: dict[str, Store] = world["stores"]
    topics: dict[str, Topic] = world["topics"]
    CrisisMode.objects.filter(brand=brand).delete()  # the database outlives each example
    volunteer = member(
        brand,
        person["standing"],
        now=T0,
        store=stores[person["store"]] if person["store"] else None,
        on_shift=person["on_shift"],
        role=person["role"],
        languages=person["languages"],
        skills=person["skills"],
    )
    user = volunteer.user
    for _ in range(person["held"]):
        question(brand, state=QuestionState.DRAFTING, claimed_by=user)
    if question_of["crisis"] != "none":
        topic_id = topics["returns"].pk if question_of["crisis"] == "returns" else None
        start_crisis(brand.pk, topic_id, world["boss"], now=T0)
    topic = topics[question_of["topic"]] if question_of["topic"] else None
    target = question(
        brand,
        lang=question_of["lang"],
        topic=topic,
        store=stores[question_of["store"]] if question_of["store"] else None,
    )
    settings = RoutingSettings.objects.get(brand=brand)
    index = EligibilityIndex.for_person(brand.pk, user, settings, topic, now=T0)
    eligible, refusals = index.is_eligible(user.pk, target)
    events_before = AuditEvent.objects.filter(question=target).count()
    event("eligible" if eligible else f"refused: {', '.join(refusals)}")

    result = claim_question(target.pk, user)

    target.refresh_from_db()
    assert result.won is eligible, (refusals, result)
    if eligible:
        assert (target.state, target.claimed_by_id) == (QuestionState.CLAIMED, user.pk)
    else:
        assert (result.reason, list(result.refusals)) == ("not_eligible", refusals)
        assert (target.state, target.claimed_by_id) == (QuestionState.QUEUED, None)
        assert AuditEvent.objects.filter(question=target).count() == events_before
