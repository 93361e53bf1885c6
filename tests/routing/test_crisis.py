"""Crisis mode: while it is on, only certified volunteers and mentors claim (or are offered)
the affected questions; switching it off restores the gate. Who may switch it, and what a
switch writes and announces."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser

from helpdesk.audit import events
from helpdesk.events import EVENTS_LAYER, brand_queue_group, monitoring_group
from helpdesk.models import Brand, Question
from helpdesk.states import QuestionState
from routing.claims import claim_question
from routing.crisis import (
    CrisisError,
    crises_of,
    crisis_for,
    crisis_scope,
    end_crisis,
    no_crisis_covers_question,
    start_crisis,
)
from routing.eligibility import EligibilityIndex
from routing.models import CrisisMode, Placement, RoutingSettings
from routing.placement import place_queued, queue_for
from tests.factories import make_saved_reply, make_topic, publish_charter
from tests.people import (
    ADMIN,
    ANONYMOUS,
    KINDS,
    OTHER_BRAND_SUPERVISOR,
    SUPERVISOR,
    SUPERVISOR_OTHER_STORE,
    People,
)
from tests.routing.onshift import conversation, member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The desk has no "agency admin": the brand's admin is the closest; agency staff only read.
SWITCHERS = {SUPERVISOR, SUPERVISOR_OTHER_STORE, ADMIN}


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=20))
    return brand


@pytest.fixture
def recall(desk: Brand) -> Any:
    return make_topic(desk, slug="recall", name="Recall")


@pytest.fixture
def billing(desk: Brand) -> Any:
    return make_topic(desk, slug="billing", name="Billing")


@pytest.fixture
def people(desk: Brand) -> People:
    return People(desk, now=T0)


@pytest.fixture
def supervisor(people: People) -> Any:
    return people.user(SUPERVISOR)


def _skilled(desk: Brand, state: str) -> Any:
    return member(desk, state, now=T0, skills=["recall", "billing"])


def test_crisis_mode_refuses_a_trainee_and_lets_certified_and_mentors_claim(
    desk: Brand, recall: Any, supervisor: Any
) -> None:
    trainee, certified, mentor = (_skilled(desk, s) for s in ("trainee", "certified", "mentor"))
    asked, other = question(desk, topic=recall), question(desk, topic=recall)
    third = question(desk, topic=recall)
    start_crisis(desk.pk, recall.pk, supervisor, reason="Battery recall")

    refused = claim_question(asked.pk, trainee.user)

    assert (refused.won, refused.reason, refused.refusals) == (
        False,
        "not_eligible",
        ("crisis_mode",),
    )
    assert refused.message == (
        "Crisis mode: only certified volunteers and mentors may claim these questions."
    )
    assert Question.objects.get(pk=asked.pk).state == QuestionState.QUEUED
    assert not events().filter(question=asked).exists()
    assert claim_question(asked.pk, certified.user).won is True
    assert claim_question(other.pk, mentor.user).won is True
    assert claim_question(third.pk, trainee.user).won is False


def test_switching_crisis_mode_off_restores_the_gate(
    desk: Brand, recall: Any, supervisor: Any
) -> None:
    trainee = _skilled(desk, "trainee")
    asked = question(desk, topic=recall)
    start_crisis(desk.pk, recall.pk, supervisor)
    assert claim_question(asked.pk, trainee.user).won is False

    end_crisis(desk.pk, recall.pk, supervisor, reason="Over")

    assert claim_question(asked.pk, trainee.user).won is True


def test_other_topics_are_unaffected_and_a_whole_brand_crisis_covers_them_all(
    desk: Brand, recall: Any, billing: Any, supervisor: Any
) -> None:
    trainee = _skilled(desk, "trainee")
    on_billing, no_topic, on_recall = (
        question(desk, topic=billing),
        question(desk),
        question(desk, topic=recall),
    )
    start_crisis(desk.pk, recall.pk, supervisor)

    assert claim_question(on_billing.pk, trainee.user).won is True
    assert claim_question(no_topic.pk, trainee.user).won is True
    assert claim_question(on_recall.pk, trainee.user).refusals == ("crisis_mode",)

    later_billing, later_none = question(desk, topic=billing), question(desk)
    start_crisis(desk.pk, None, supervisor, reason="Outage")
    assert claim_question(later_billing.pk, trainee.user).refusals == ("crisis_mode",)
    assert claim_question(later_none.pk, trainee.user).refusals == ("crisis_mode",)
    assert crisis_scope(desk.pk).whole_brand is True


def test_the_queue_and_the_offers_leave_crisis_questions_out_for_a_trainee(
    desk: Brand, recall: Any, billing: Any, supervisor: Any
) -> None:
    trainee, certified = _skilled(desk, "trainee"), _skilled(desk, "certified")
    on_recall, on_billing = question(desk, topic=recall), question(desk, topic=billing)
    offered = question(
        desk, topic=recall, offered_to=trainee.user, offer_expires_at=T0 + timedelta(minutes=2)
    )
    start_crisis(desk.pk, recall.pk, supervisor)

    assert list(queue_for(trainee.user, desk.pk)) == [on_billing]
    assert set(queue_for(certified.user, desk.pk)) == {on_recall, on_billing}
    index = EligibilityIndex.build(desk.pk, now=T0)
    assert index.eligible_for(on_recall) == [certified.user.pk]
    assert index.eligible_for(on_billing) == sorted([trainee.user.pk, certified.user.pk])
    assert claim_question(offered.pk, trainee.user).won is False

    start_crisis(desk.pk, None, supervisor)
    assert list(queue_for(trainee.user, desk.pk)) == []
    end_crisis(desk.pk, None, supervisor)
    end_crisis(desk.pk, recall.pk, supervisor)
    assert set(queue_for(trainee.user, desk.pk)) == {on_recall, on_billing, offered}


def test_the_claims_update_itself_refuses_a_question_a_crisis_covers(
    desk: Brand, recall: Any, billing: Any, supervisor: Any
) -> None:
    """A crisis switched on between a trainee's eligibility check and their update: the
    update's own condition refuses the question."""
    on_recall, on_billing = question(desk, topic=recall), question(desk, topic=billing)
    start_crisis(desk.pk, recall.pk, supervisor)

    free = Question.objects.filter(no_crisis_covers_question())

    assert set(free.values_list("pk", flat=True)) == {on_billing.pk}
    assert on_recall.pk not in set(free.values_list("pk", flat=True))
    start_crisis(desk.pk, None, supervisor)
    assert not Question.objects.filter(no_crisis_covers_question()).exists()


def test_crisis_for_finds_the_topics_crisis_before_the_brands(
    desk: Brand, recall: Any, billing: Any, supervisor: Any
) -> None:
    assert crisis_for(desk.pk, recall.pk) is None
    brand_wide = start_crisis(desk.pk, None, supervisor)
    on_recall = start_crisis(desk.pk, recall.pk, supervisor)

    assert crisis_for(desk.pk, recall.pk) == on_recall
    assert crisis_for(desk.pk, billing.pk) == brand_wide
    assert crisis_for(desk.pk, None) == brand_wide
    assert crises_of(desk.pk) == [brand_wide, on_recall]


def test_switching_on_and_off_is_audited(desk: Brand, recall: Any, supervisor: Any) -> None:
    holding = make_saved_reply(desk, title="Holding statement")

    crisis = start_crisis(
        desk.pk,
        recall.pk,
        supervisor,
        reason="  Battery recall  ",
        alert_id=42,
        holding_statement_id=holding.pk,
    )
    ended = end_crisis(desk.pk, recall.pk, supervisor, reason="Recall handled")

    described = {
        "crisis_id": crisis.pk,
        "topic_id": recall.pk,
        "topic": "recall",
        "reason": "Battery recall",
        "alert_id": 42,
        "holding_statement_id": holding.pk,
        "force_review": True,
    }
    rows = list(
        events()
        .filter(brand_id=desk.pk)
        .order_by("pk")
        .values_list("kind", "actor_id", "from_state", "to_state", "data", "created_at")
    )
    assert rows == [
        ("crisis.started", supervisor.pk, "off", "on", described, T0),
        (
            "crisis.ended",
            supervisor.pk,
            "on",
            "off",
            {**described, "end_reason": "Recall handled"},
            T0,
        ),
    ]
    assert (ended.ended_at, ended.ended_by, ended.end_reason) == (T0, supervisor, "Recall handled")
    assert crisis_for(desk.pk, recall.pk) is None


def test_switching_is_announced_to_the_queue_and_monitoring(
    desk: Brand,
    recall: Any,
    supervisor: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    # A channel of the test's own listens: Redis's pub/sub layer takes only its sockets'.
    settings.CHANNEL_LAYERS = {EVENTS_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer(EVENTS_LAYER)
    channel = async_to_sync(layer.new_channel)()
    for group in (brand_queue_group(desk.pk), monitoring_group(desk.pk)):
        async_to_sync(layer.group_add)(group, channel)

    with django_capture_on_commit_callbacks(execute=True):
        crisis = start_crisis(desk.pk, recall.pk, supervisor, reason="Recall")
    with django_capture_on_commit_callbacks(execute=True):
        end_crisis(desk.pk, recall.pk, supervisor)

    received = [async_to_sync(layer.receive)(channel) for _ in range(4)]
    kinds = sorted((m["kind"], m["payload"]["crisis_id"]) for m in received)
    assert kinds == [("crisis.ended", crisis.pk)] * 2 + [("crisis.started", crisis.pk)] * 2
    started = next(m for m in received if m["kind"] == "crisis.started")
    assert json.loads(started["frame"])["payload"] == {
        "brand_id": desk.pk,
        "crisis_id": crisis.pk,
        "topic_id": recall.pk,
        "topic": "recall",
        "reason": "Recall",
        "alert_id": None,
        "holding_statement_id": None,
        "force_review": True,
    }


def test_the_brands_setting_decides_whether_replies_go_to_review(
    desk: Brand, recall: Any, supervisor: Any
) -> None:
    assert start_crisis(desk.pk, None, supervisor).force_review is True
    end_crisis(desk.pk, None, supervisor)
    Brand.objects.filter(pk=desk.pk).update(crisis_skips_review=True)

    assert start_crisis(desk.pk, None, supervisor).force_review is False
    assert start_crisis(desk.pk, recall.pk, supervisor, force_review=True).force_review is True


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("already_on", {}),
        ("no_such_topic", {"topic": "other"}),
        ("no_such_saved_reply", {"holding": "other-brand"}),
        ("no_such_saved_reply", {"holding": "other-topic"}),
        ("no_such_saved_reply", {"holding": "archived"}),
        ("reason_too_long", {"reason": "x" * 501}),
    ],
)
def test_a_switch_that_does_not_apply_is_refused_and_writes_nothing(
    desk: Brand,
    recall: Any,
    billing: Any,
    people: People,
    supervisor: Any,
    why: str,
    change: dict[str, Any],
) -> None:
    start_crisis(desk.pk, recall.pk, supervisor)
    before = (CrisisMode.objects.count(), events().count())
    other_brand = people.volunteer(OTHER_BRAND_SUPERVISOR).brand
    holdings = {
        "other-brand": make_saved_reply(other_brand),
        "other-topic": make_saved_reply(desk, topic=billing),
        "archived": make_saved_reply(desk, is_active=False),
    }
    topic = make_topic(other_brand) if change.get("topic") else recall

    with pytest.raises(CrisisError) as refused:
        start_crisis(
            desk.pk,
            topic.pk,
            supervisor,
            reason=change.get("reason", ""),
            holding_statement_id=holdings[change["holding"]].pk if "holding" in change else None,
        )

    assert refused.value.code == why
    assert (CrisisMode.objects.count(), events().count()) == before


def test_switching_off_what_is_not_on_is_refused(desk: Brand, recall: Any, supervisor: Any) -> None:
    with pytest.raises(CrisisError) as refused:
        end_crisis(desk.pk, recall.pk, supervisor)

    assert refused.value.code == "not_on"
    assert not events().exists()


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_brands_supervisors_and_admins_switch_crisis_mode(
    desk: Brand, recall: Any, people: People, supervisor: Any, kind: str
) -> None:
    user = people.user(kind)
    actor = AnonymousUser() if kind == ANONYMOUS else user

    if kind in SWITCHERS:
        crisis = start_crisis(desk.pk, recall.pk, actor)
        assert crisis.started_by == user
        assert end_crisis(desk.pk, recall.pk, actor).ended_by == user
        assert list(events().order_by("pk").values_list("kind", flat=True)) == [
            "crisis.started",
            "crisis.ended",
        ]
        return
    with pytest.raises(CrisisError) as on:
        start_crisis(desk.pk, recall.pk, actor)
    start_crisis(desk.pk, recall.pk, supervisor)
    with pytest.raises(CrisisError) as off:
        end_crisis(desk.pk, recall.pk, actor)

    assert (on.value.code, off.value.code) == ("forbidden", "forbidden")
    assert list(CrisisMode.objects.values_list("started_by", "ended_at")) == [(supervisor.pk, None)]
    assert list(events().values_list("kind", flat=True)) == ["crisis.started"]


def test_offers_and_sticky_follow_ups_skip_a_trainee_under_crisis(
    desk: Brand, recall: Any, supervisor: Any, _frozen: Any
) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.STICKY)
    trainee = _skilled(desk, "trainee")
    thread = conversation(desk)
    first = question(desk, conversation_of=thread, topic=recall, received_at=T0)
    assert claim_question(first.pk, trainee.user).won
    start_crisis(desk.pk, recall.pk, supervisor)
    _frozen.move_to(T0 + timedelta(minutes=5))
    follow_up = question(
        desk, conversation_of=thread, topic=recall, received_at=T0 + timedelta(minutes=5)
    )

    place_queued([follow_up])

    assert Question.objects.get(pk=follow_up.pk).offered_to_id is None


def test_offers_go_only_to_people_who_may_take_the_crisis(
    desk: Brand, recall: Any, supervisor: Any
) -> None:
    RoutingSettings.objects.create(brand=desk, default_placement=Placement.OFFER)
    trainee, certified = _skilled(desk, "trainee"), _skilled(desk, "certified")
    start_crisis(desk.pk, recall.pk, supervisor)
    asked = [question(desk, topic=recall) for _ in range(3)]

    place_queued(asked)

    offered = set(
        Question.objects.filter(pk__in=[q.pk for q in asked]).values_list("offered_to", flat=True)
    )
    assert offered == {certified.user.pk}
    assert trainee.user.pk not in offered
