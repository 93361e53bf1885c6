"""Placement: pool, offer rotation with its timeout, sticky follow-ups, and queue order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from charter.models import Standing
from helpdesk.models import AuditEvent, Brand, Question, Volunteer
from helpdesk.states import QuestionState
from routing.claims import claim_question
from routing.models import Placement, RoutingSettings, Shift, Topic
from routing.placement import advance_offers, place_queued, queue_for
from routing.presence import end_shift
from tests.factories import make_store, publish_charter
from tests.routing.onshift import conversation, member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    return brand


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _offered_to(q: Question) -> int | None:
    q.refresh_from_db()
    return q.offered_to_id


def test_pool_questions_are_offered_to_nobody_and_everyone_eligible_sees_them(
    desk: Brand,
) -> None:
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    asked = question(desk)

    place_queued([asked])

    assert _offered_to(asked) is None
    assert list(queue_for(alice.user, desk.pk)) == [asked]
    assert list(queue_for(bob.user, desk.pk)) == [asked]
    assert not AuditEvent.objects.filter(kind="question.offered").exists()


def test_a_pool_brands_batch_is_placed_without_reading_who_is_on_shift(desk: Brand) -> None:
    # Ingestion places every batch: with thousands on shift, reading them all (their shifts,
    # volunteer rows, gates and open claims) was most of a batch's time, and a pool brand
    # never needs it.
    billing = Topic.objects.create(
        brand=desk, slug="billing", name="Billing", placement=Placement.POOL
    )
    alice = member(desk, now=T0, skills=["billing"])
    batch = [question(desk), question(desk, topic=billing)]

    with CaptureQueriesContext(connection) as queries:
        place_queued(batch)

    people = {Shift._meta.db_table, Volunteer._meta.db_table, Standing._meta.db_table}
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert [table for table in people if table in read] == []
    assert len(queries.captured_queries) == 2  # the brand's routing settings and topics
    assert [_offered_to(q) for q in batch] == [None, None]
    assert set(queue_for(alice.user, desk.pk)) == set(batch)


def test_offers_go_to_the_least_loaded_then_round_robin(desk: Brand) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.OFFER)
    busy = member(desk, now=T0)
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    question(desk, state=QuestionState.CLAIMED, claimed_by=busy.user)
    batch = [question(desk, received_at=T0 - timedelta(minutes=n)) for n in range(4)]

    place_queued(batch)

    # Oldest first: the two without claims alternate, then the busy one has the same load
    oldest_first = sorted(batch, key=lambda q: q.received_at)
    assert [_offered_to(q) for q in oldest_first] == [
        alice.user.pk,
        bob.user.pk,
        busy.user.pk,
        alice.user.pk,
    ]
    offer = AuditEvent.objects.filter(kind="question.offered", question=oldest_first[0]).get()
    assert offer.data["user_id"] == alice.user.pk and offer.data["round"] == 1
    assert oldest_first[0].offer_expires_at == T0 + timedelta(seconds=120)


def test_an_offer_is_seen_and_claimed_only_by_its_person_until_it_expires(
    desk: Brand, _frozen: Any
) -> None:
    RoutingSettings.objects.create(
        brand=desk, default_placement=Placement.OFFER, offer_timeout_seconds=60
    )
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    carol = member(desk, now=T0)
    asked = question(desk)

    place_queued([asked])
    assert _offered_to(asked) == alice.user.pk
    assert list(queue_for(alice.user, desk.pk)) == [asked]
    assert list(queue_for(bob.user, desk.pk)) == []
    assert claim_question(asked.pk, bob.user).won is False

    _frozen.move_to(T0 + timedelta(seconds=61))
    assert advance_offers() == 1
    assert _offered_to(asked) == bob.user.pk
    _frozen.move_to(T0 + timedelta(seconds=122))
    advance_offers()
    assert _offered_to(asked) == carol.user.pk
    _frozen.move_to(T0 + timedelta(seconds=183))
    advance_offers()

    # Everyone had it: the pool
    assert _offered_to(asked) is None
    rounds = list(
        AuditEvent.objects.filter(kind="question.offered", question=asked)
        .order_by("pk")
        .values_list("data__user_id", "data__round")
    )
    assert rounds == [(alice.user.pk, 1), (bob.user.pk, 2), (carol.user.pk, 3)]
    assert AuditEvent.objects.filter(kind="question.offer_exhausted", question=asked).count() == 1
    assert list(queue_for(alice.user, desk.pk)) == [asked]


def test_an_offer_to_someone_who_leaves_moves_on(desk: Brand, _frozen: Any) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.OFFER)
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    asked = question(desk)
    place_queued([asked])
    assert _offered_to(asked) == alice.user.pk

    end_shift(alice.user, desk.pk)
    _frozen.move_to(T0 + timedelta(seconds=1))
    advance_offers()

    assert _offered_to(asked) == bob.user.pk


def test_a_topic_chooses_its_own_placement(desk: Brand) -> None:
    offered = Topic.objects.create(
        brand=desk, slug="billing", name="Billing", placement=Placement.OFFER
    )
    alice = member(desk, now=T0, skills=["billing"])
    pooled = question(desk)
    billing = question(desk, topic=offered)

    place_queued([pooled, billing])

    assert _offered_to(pooled) is None
    assert _offered_to(billing) == alice.user.pk


def test_a_sticky_follow_up_goes_back_to_who_handled_the_thread(desk: Brand, _frozen: Any) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.STICKY)
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    thread = conversation(desk)
    first = question(desk, conversation_of=thread, received_at=T0)
    assert claim_question(first.pk, bob.user).won
    _frozen.move_to(T0 + timedelta(minutes=5))
    follow_up = question(desk, conversation_of=thread, received_at=T0 + timedelta(minutes=5))

    place_queued([follow_up])

    assert _offered_to(follow_up) == bob.user.pk
    assert list(queue_for(alice.user, desk.pk)) == []
    assert claim_question(follow_up.pk, bob.user).won is True


def test_a_sticky_follow_up_goes_to_the_pool_when_they_are_off_shift(
    desk: Brand, _frozen: Any
) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.STICKY)
    alice = member(desk, now=T0)
    bob = member(desk, now=T0)
    thread = conversation(desk)
    first = question(desk, conversation_of=thread, received_at=T0)
    assert claim_question(first.pk, bob.user).won
    end_shift(bob.user, desk.pk)
    _frozen.move_to(T0 + timedelta(minutes=5))
    follow_up = question(desk, conversation_of=thread, received_at=T0 + timedelta(minutes=5))
    fresh = question(desk)

    place_queued([follow_up, fresh])

    assert _offered_to(follow_up) is None
    assert _offered_to(fresh) is None
    queue = list(queue_for(alice.user, desk.pk))
    assert queue == [follow_up, fresh]
    assert queue[0].conversation_id == thread.pk  # the claimer opens the thread's history


def test_the_queue_is_most_urgent_first_then_oldest_first(desk: Brand) -> None:
    alice = member(desk, now=T0)
    old_low = question(desk, priority=3, received_at=T0 - timedelta(hours=3))
    new_urgent = question(desk, priority=0, received_at=T0 - timedelta(minutes=1))
    old_normal = question(desk, priority=2, received_at=T0 - timedelta(hours=2))
    new_normal = question(desk, priority=2, received_at=T0 - timedelta(minutes=5))
    question(desk, state=QuestionState.CLAIMED, claimed_by=alice.user)

    queue = list(queue_for(alice.user, desk.pk))

    assert queue == [new_urgent, old_normal, new_normal, old_low]
    assert list(queue_for(alice.user, desk.pk, {"priority": 2})) == [old_normal, new_normal]


def test_the_queue_shows_only_what_the_person_may_take(desk: Brand) -> None:
    billing = Topic.objects.create(brand=desk, slug="billing", name="Billing")
    pickup = Topic.objects.create(brand=desk, slug="pickup", name="Pickup", is_local=True)
    home, away = make_store(desk), make_store(desk)
    alice = member(desk, now=T0, store=home, skills=["pickup"], languages=["fr"])
    suspended = member(desk, "suspended", now=T0)
    off = member(desk, now=T0, on_shift=False)
    french = question(desk, lang="fr-CA")
    undetermined = question(desk, lang="und")
    local_here = question(desk, lang="fr", topic=pickup, store=home)
    question(desk, lang="fr", topic=pickup, store=away)
    question(desk, lang="en")
    question(desk, lang="fr", topic=billing)

    assert set(queue_for(alice.user, desk.pk)) == {french, undetermined, local_here}
    assert list(queue_for(suspended.user, desk.pk)) == []
    assert list(queue_for(off.user, desk.pk)) == []
    assert list(queue_for(alice.user, desk.pk, {"topic": "pickup"})) == [local_here]


def test_a_language_tag_matches_by_its_primary_subtag_whatever_its_case(desk: Brand) -> None:
    # Given a French speaker, and tags as X, older rows or hand-made questions may spell them
    alice = member(desk, now=T0, languages=["fr"])
    seen = [question(desk, lang=lang).pk for lang in ("fr", "FR", "Fr-ca", "fr_CA", "UND", "und-x")]
    question(desk, lang="en")
    question(desk, lang="EN-gb")
    question(desk, lang="fra")  # another code, not "fr"

    # Then she sees every French one and the undetermined ones (anyone's), as the routing
    # of offers does (``primary_language``), and nothing else
    assert sorted(q.pk for q in queue_for(alice.user, desk.pk)) == seen


def test_local_topics_show_to_the_store_and_its_region_and_offers_whatever_the_skills(
    desk: Brand,
) -> None:
    # Given a local topic, stores in two regions, and a volunteer of a Paris store
    pickup = Topic.objects.create(brand=desk, slug="pickup", name="Pickup", is_local=True)
    returns = Topic.objects.create(brand=desk, slug="returns", name="Returns")
    paris = make_store(desk, region="idf")
    versailles = make_store(desk, region="idf")
    lyon = make_store(desk, region="ara")
    alice = member(desk, now=T0, store=paris, skills=["pickup"], languages=["en"])
    bob = member(desk, now=T0, skills=["pickup", "returns"], languages=["en", "de"])
    soon, gone = T0 + timedelta(minutes=5), T0 - timedelta(minutes=5)
    at_paris = question(desk, topic=pickup, store=paris)
    at_versailles = question(desk, topic=pickup, store=versailles)
    no_store = question(desk, topic=pickup)
    question(desk, topic=pickup, store=lyon)
    # Offers: to her in a language and topic she lacks; to Bob, live and lapsed
    offered_to_her = question(
        desk, topic=returns, lang="de", offered_to=alice.user, offer_expires_at=soon
    )
    question(desk, topic=pickup, store=paris, offered_to=bob.user, offer_expires_at=soon)
    lapsed = question(desk, topic=pickup, store=paris, offered_to=bob.user, offer_expires_at=gone)
    # Her own offer once lapsed is back to what she is eligible for: not this one
    question(desk, topic=returns, lang="de", offered_to=alice.user, offer_expires_at=gone)

    queue = {q.pk for q in queue_for(alice.user, desk.pk)}

    assert queue == {at_paris.pk, at_versailles.pk, no_store.pk, offered_to_her.pk, lapsed.pk}
