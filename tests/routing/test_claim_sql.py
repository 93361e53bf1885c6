"""The claim decides and takes in the statement that moves the question (issue 13 item 2):
how many statements a claim costs, won and lost, on each database; and the conditional
update refuses exactly whom the eligibility index refuses, reason by reason, writing
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from charter.models import Standing
from helpdesk.models import AuditEvent, Brand, Role
from helpdesk.states import QuestionState
from routing.claims import claim_question
from routing.crisis import start_crisis
from routing.eligibility import EligibilityIndex
from routing.models import RoutingSettings, Topic
from routing.presence import end_shift
from tests.factories import make_store, make_volunteer, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# Statements per claim. PostgreSQL: one, in autocommit (so one round trip), for a win and
# for a loss to an earlier claim, once the connection has prepared it (its first claim adds
# the ``PREPARE``). SQLite (in-process, no round trips; no data-modifying
# WITH): the question's read, then the claim's transaction and ``move_question``'s (two
# savepoints inside the test's transaction), the update, the audit insert and the two
# releases; a loss to an earlier claim is the read alone.
STATEMENTS = {
    "postgresql": {"won": 1, "lost": 1},
    "sqlite": {"won": 7, "lost": 1},
}


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand, effective_at=T0 - timedelta(days=20))
    publish_charter(brand, effective_at=T0 - timedelta(days=10))
    return brand


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_a_claim_costs_one_statement_won_or_lost_on_postgresql(desk: Brand) -> None:
    alice = member(desk, now=T0, display_name="Alice")
    bob = member(desk, now=T0, display_name="Bob")
    asked = question(desk)
    expected = STATEMENTS[connection.vendor]
    claim_question(question(desk).pk, bob.user)  # the connection's first claim prepares it

    with CaptureQueriesContext(connection) as won_statements:
        won = claim_question(asked.pk, alice.user)
    with CaptureQueriesContext(connection) as lost_statements:
        lost = claim_question(asked.pk, bob.user)

    assert won.won is True and won.holder_display == "Alice"
    assert won.until == T0 + timedelta(minutes=10)
    assert (lost.reason, lost.holder_display, lost.holder_id) == (
        "already_claimed",
        "Alice",
        alice.user.pk,
    )
    assert len(won_statements) == expected["won"], [q["sql"] for q in won_statements]
    assert len(lost_statements) == expected["lost"], [q["sql"] for q in lost_statements]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_claim_once(desk: Brand) -> None:
    alice = member(desk, now=T0)
    one, two = question(desk), question(desk)
    connection.close()  # the next statement opens a new one

    with CaptureQueriesContext(connection) as first:
        claim_question(one.pk, alice.user)
    with CaptureQueriesContext(connection) as second:
        claim_question(two.pk, alice.user)

    assert [q["sql"].split(" ", 1)[0] for q in first] == ["PREPARE", "EXECUTE"]
    assert [q["sql"].split(" ", 1)[0] for q in second] == ["EXECUTE"]


def test_the_one_statement_writes_what_move_question_writes(desk: Brand) -> None:
    RoutingSettings.objects.create(brand=desk, claim_lease_minutes=25)
    alice = member(desk, now=T0)
    asked = question(desk, offered_to=alice.user, offer_expires_at=T0 + timedelta(minutes=1))

    result = claim_question(asked.pk, alice.user)

    assert result.won is True and result.until == T0 + timedelta(minutes=25)
    asked.refresh_from_db()
    assert (asked.state, asked.claimed_by_id, asked.claimed_at, asked.state_changed_at) == (
        QuestionState.CLAIMED,
        alice.user.pk,
        T0,
        T0,
    )
    assert asked.lease_expires_at == T0 + timedelta(minutes=25)
    assert asked.offered_to_id is None and asked.offer_expires_at is None
    event = AuditEvent.objects.get(question=asked)
    assert (
        event.kind,
        event.actor_id,
        event.actor_label,
        event.brand_id,
        event.from_state,
        event.to_state,
        event.created_at,
    ) == ("question.claimed", alice.user.pk, "", desk.pk, "queued", "claimed", T0)
    assert datetime.fromisoformat(event.data["lease_expires_at"]) == T0 + timedelta(minutes=25)
    assert list(event.data) == ["lease_expires_at"]


def _cap_reached(brand: Brand, user: Any) -> None:
    RoutingSettings.objects.create(brand=brand, max_open_claims=1)
    question(brand, state=QuestionState.DRAFTING, claimed_by=user)


def _crisis_on_topic(brand: Brand, user: Any) -> None:
    boss = make_volunteer(brand, role=Role.SUPERVISOR)
    start_crisis(brand.pk, Topic.objects.get(brand=brand, slug="returns").pk, boss.user, now=T0)


def _crisis_on_brand(brand: Brand, user: Any) -> None:
    boss = make_volunteer(brand, role=Role.SUPERVISOR)
    start_crisis(brand.pk, None, boss.user, now=T0)


def _suspended(brand: Brand, user: Any) -> None:
    Standing.objects.filter(user=user, brand=brand).update(is_suspended=True)


def _off_shift(brand: Brand, user: Any) -> None:
    end_shift(user, brand.pk, now=T0)


def _inactive(brand: Brand, user: Any) -> None:
    type(user).objects.filter(pk=user.pk).update(is_active=False)


def _agency(brand: Brand, user: Any) -> None:
    user.volunteer.role = Role.AGENCY
    user.volunteer.save()


# (person's standing, their fields, the question's fields, a change before the claim,
#  the refusals the index gives)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], Any, list[str]]] = [
    ("certified", {}, {}, None, []),
    ("trainee", {}, {}, None, []),
    ("enrolled", {}, {}, None, ["training_incomplete"]),
    ("suspended", {}, {}, None, ["suspended"]),
    ("certified", {}, {}, _suspended, ["suspended"]),
    ("lapsed-charter", {}, {}, None, ["charter_not_accepted"]),
    ("expired-certification", {}, {}, None, ["training_expired"]),
    ("certified", {}, {}, _off_shift, ["not_on_shift"]),
    ("certified", {}, {}, _inactive, ["not_signed_in"]),
    ("certified", {}, {}, _agency, ["not_on_shift"]),
    ("certified", {}, {}, _cap_reached, ["too_many_claims"]),
    ("trainee", {}, {"topic": "returns"}, _crisis_on_topic, ["crisis_mode"]),
    ("certified", {}, {"topic": "returns"}, _crisis_on_topic, []),
    ("mentor", {}, {}, _crisis_on_brand, []),
    ("trainee", {}, {"topic": "orders"}, _crisis_on_topic, []),
    ("trainee", {}, {}, _crisis_on_brand, ["crisis_mode"]),
    ("certified", {"languages": ["fr"]}, {"lang": "en"}, None, ["language"]),
    ("certified", {"languages": ["FR_ca", "en-GB"]}, {"lang": "fr-FR"}, None, []),
    ("certified", {"languages": []}, {"lang": "en"}, None, []),
    ("certified", {"languages": ["und"]}, {"lang": "en"}, None, []),
    ("certified", {"languages": ["und"]}, {"lang": "fr"}, None, ["language"]),
    ("certified", {"languages": ["fr"]}, {"lang": "und"}, None, []),
    ("certified", {"languages": ["fr"]}, {"lang": ""}, None, []),
    ("certified", {"skills": []}, {"topic": "returns"}, None, ["skill"]),
    ("certified", {"skills": ["orders"]}, {"topic": "returns"}, None, ["skill"]),
    ("certified", {"store": "S1"}, {"topic": "pickup", "store": "S1"}, None, []),
    ("certified", {"store": "S2"}, {"topic": "pickup", "store": "S1"}, None, []),
    ("certified", {"store": "S3"}, {"topic": "pickup", "store": "S1"}, None, ["not_local"]),
    ("certified", {}, {"topic": "pickup", "store": "S1"}, None, ["not_local"]),
    ("certified", {"store": "S4"}, {"topic": "pickup", "store": "S5"}, None, ["not_local"]),
    ("certified", {"store": "S3"}, {"topic": "returns", "store": "S1"}, None, []),
    ("certified", {"store": "S3"}, {"topic": "pickup"}, None, []),
    ("suspended", {"languages": ["fr"]}, {"lang": "en"}, _cap_reached, ["x"]),
]


@pytest.mark.parametrize(("standing", "person", "asked", "change", "refusals"), CASES)
def test_the_update_refuses_whom_the_index_refuses_and_writes_nothing(
    desk: Brand,
    standing: str,
    person: dict[str, Any],
    asked: dict[str, Any],
    change: Any,
    refusals: list[str],
) -> None:
    stores = {
        "S1": make_store(desk, code="S1", region="north"),
        "S2": make_store(desk, code="S2", region="north"),
        "S3": make_store(desk, code="S3", region="south"),
        "S4": make_store(desk, code="S4", region=""),
        "S5": make_store(desk, code="S5", region=""),
    }
    for slug, is_local in (("returns", False), ("orders", False), ("pickup", True)):
        Topic.objects.create(brand=desk, slug=slug, name=slug, is_local=is_local)
    fields = {"skills": ["returns", "orders", "pickup"], **person}
    if "store" in fields:
        fields["store"] = stores[fields["store"]]
    volunteer = member(desk, standing, now=T0, **fields)
    user = type(volunteer.user).objects.get(pk=volunteer.user_id)
    question_fields = dict(asked)
    if "topic" in question_fields:
        question_fields["topic"] = Topic.objects.get(brand=desk, slug=question_fields["topic"])
    if "store" in question_fields:
        question_fields["store"] = stores[question_fields["store"]]
    target = question(desk, **question_fields)
    if change is not None:
        change(desk, user)
    user = type(user).objects.get(pk=user.pk)
    settings = RoutingSettings.objects.filter(brand=desk).first() or RoutingSettings(brand=desk)
    index = EligibilityIndex.for_person(desk.pk, user, settings, target.topic, now=T0)
    eligible, expected = index.is_eligible(user.pk, target)
    if refusals != ["x"]:  # the last case: several at once, as the index lists them
        assert expected == refusals  # the case says what it tries
    before = AuditEvent.objects.count()

    result = claim_question(target.pk, user)

    assert result.won is eligible
    target.refresh_from_db()
    if eligible:
        assert target.state == QuestionState.CLAIMED and target.claimed_by_id == user.pk
        assert AuditEvent.objects.count() == before + 1
    else:
        assert (result.reason, list(result.refusals)) == ("not_eligible", expected)
        assert target.state == QuestionState.QUEUED and target.claimed_by_id is None
        assert AuditEvent.objects.count() == before
