"""The gate over every role and standing state, for claiming and for sending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from charter.acceptance import accept_charter, publish_version
from charter.gate import Decision, may_claim, may_send
from charter.models import CharterAcceptance, CharterEvent, Level, ReviewPolicy, Standing
from charter.standing import is_sampled, record_review_outcome
from helpdesk.models import Brand
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

CLEAN_DRAFT = "Sorry about that! Approximately 2 days is usual for a reset. ^AB"
REVIEW_DRAFT = "We will refund you the full amount today. ^AB"
BLOCK_DRAFT = "Write to me at jane.doe@example.com and I will sort it. ^AB"


@dataclass
class Person:
    user: User | AnonymousUser
    brand: Brand


def _user(name: str) -> User:
    return User.objects.create_user(username=name, password="correct horse battery")


def person_in(state: str) -> Person:
    """A person of one brand in the named state; the brand has a charter (v1, material)."""
    brand = make_brand()
    ReviewPolicy.objects.create(
        brand=brand, certified_sample_rate=0.0, mentor_sample_rate=0.0, trainee_quota=3
    )
    v1 = publish_version(brand.pk, title="Charter", body="Be kind.", is_material=True, actor=None)
    if state == "anonymous":
        return Person(AnonymousUser(), brand)
    user = _user(f"p-{state}-{brand.pk}")
    if state == "not_enrolled":
        return Person(user, brand)
    now = timezone.now()
    level = {
        "enrolled": Level.ENROLLED,
        "trainee": Level.TRAINEE,
        "mentor": Level.MENTOR,
    }.get(state, Level.CERTIFIED)
    trained = level != Level.ENROLLED
    Standing.objects.create(
        user=user,
        brand=brand,
        level=level,
        trained_at=now - timedelta(days=30) if trained else None,
        training_expires_at=(
            now - timedelta(days=1)
            if state == "expired_certification"
            else now + timedelta(days=300)
            if trained
            else None
        ),
        is_suspended=state == "suspended",
        suspended_reason="posted a customer's address" if state == "suspended" else "",
    )
    if state != "charter_never_accepted":
        accept_charter(user, v1, ip_address="127.0.0.1", user_agent="pytest")
    if state == "lapsed_charter":
        publish_version(brand.pk, title="Charter", body="Be kinder.", is_material=True, actor=None)
    if state == "minor_charter_update":
        publish_version(brand.pk, title="Charter", body="Be kind!", is_material=False, actor=None)
    return Person(user, brand)


def snapshot() -> tuple[Any, ...]:
    return (
        list(Standing.objects.order_by("pk").values()),
        CharterEvent.objects.count(),
        CharterAcceptance.objects.count(),
    )


REFUSALS = {
    "anonymous": ["not_signed_in"],
    "not_enrolled": ["not_enrolled"],
    "enrolled": ["training_incomplete"],
    "suspended": ["suspended"],
    "charter_never_accepted": ["charter_not_accepted"],
    "lapsed_charter": ["charter_not_accepted"],
    "expired_certification": ["training_expired"],
}
ALLOWED = ["trainee", "certified", "mentor", "minor_charter_update"]


@pytest.mark.parametrize("state", [*REFUSALS, *ALLOWED])
def test_who_may_claim(state: str) -> None:
    person = person_in(state)
    before = snapshot()

    decision = may_claim(person.user, person.brand.pk)

    assert decision.allowed is (state in ALLOWED)
    assert decision.codes == REFUSALS.get(state, [])
    assert all(reason.message for reason in decision.reasons)
    assert snapshot() == before  # asking changes nothing


def test_a_minor_charter_update_is_shown_not_required() -> None:
    person = person_in("minor_charter_update")

    decision = may_claim(person.user, person.brand.pk)

    assert decision.allowed is True
    assert [notice.code for notice in decision.notices] == ["charter_updated"]


def test_a_suspension_says_why() -> None:
    person = person_in("suspended")

    decision = may_claim(person.user, person.brand.pk)

    assert decision.reasons[0].message == "You are suspended: posted a customer's address"


def test_a_brand_without_a_charter_lets_nobody_claim() -> None:
    brand = make_brand()
    user = _user("early")
    Standing.objects.create(
        user=user,
        brand=brand,
        level=Level.CERTIFIED,
        trained_at=timezone.now(),
        training_expires_at=timezone.now() + timedelta(days=1),
    )

    assert may_claim(user, brand.pk).codes == ["no_charter"]


def test_standing_in_one_brand_opens_nothing_in_another() -> None:
    person = person_in("certified")
    other = make_brand()
    publish_version(other.pk, title="C", body="b", is_material=True, actor=None)

    assert may_claim(person.user, other.pk).codes == ["not_enrolled"]


@pytest.mark.parametrize(
    ("state", "allowed", "needs_review", "codes"),
    [
        ("trainee", True, True, ["trainee_review"]),
        ("certified", True, False, []),
        ("mentor", True, False, []),
        ("minor_charter_update", True, False, []),
        *[(state, False, False, codes) for state, codes in REFUSALS.items()],
    ],
)
def test_who_may_send_a_clean_draft(
    state: str, allowed: bool, needs_review: bool, codes: list[str]
) -> None:
    person = person_in(state)
    before = snapshot()

    decision = may_send(person.user, person.brand.pk, CLEAN_DRAFT, reply_key="r1", signature="^AB")

    assert (decision.allowed, decision.needs_review, decision.codes) == (
        allowed,
        needs_review,
        codes,
    )
    assert snapshot() == before


@pytest.mark.parametrize("state", ["trainee", "certified", "mentor"])
def test_a_draft_with_a_promise_goes_to_review_for_everyone(state: str) -> None:
    person = person_in(state)

    decision = may_send(person.user, person.brand.pk, REVIEW_DRAFT, reply_key="r1", signature="^AB")

    assert decision.allowed is True and decision.needs_review is True
    assert "finding_requires_review" in decision.codes
    assert decision.lint is not None and decision.lint.verdict == "review"


@pytest.mark.parametrize("state", ["trainee", "certified", "mentor", "suspended"])
def test_a_draft_with_personal_data_is_refused_for_everyone(state: str) -> None:
    person = person_in(state)
    before = snapshot()

    decision: Decision = may_send(
        person.user, person.brand.pk, BLOCK_DRAFT, reply_key="r1", signature="^AB"
    )

    assert decision.allowed is False
    assert "draft_blocked" in decision.codes
    assert snapshot() == before


def test_certified_replies_are_sampled_at_the_policy_rate_and_reproducibly() -> None:
    person = person_in("certified")
    ReviewPolicy.objects.filter(brand=person.brand).update(
        certified_sample_rate=1.0, sample_seed="s"
    )

    decision = may_send(person.user, person.brand.pk, CLEAN_DRAFT, reply_key="r9", signature="^AB")

    assert (decision.needs_review, decision.codes) == (True, ["sampled"])


def test_sampling_is_close_to_the_rate_over_ten_thousand_draws_and_seeded() -> None:
    keys = [f"reply-{n}" for n in range(10_000)]

    picked = [key for key in keys if is_sampled("brand-seed", key, 0.1)]
    again = [key for key in keys if is_sampled("brand-seed", key, 0.1)]
    other_seed = [key for key in keys if is_sampled("another-seed", key, 0.1)]

    assert picked == again
    assert abs(len(picked) / 10_000 - 0.1) < 0.009  # three standard deviations
    assert picked != other_seed
    assert not any(is_sampled("s", key, 0.0) for key in keys[:100])
    assert all(is_sampled("s", key, 1.0) for key in keys[:100])


def test_a_trainee_is_promoted_exactly_at_the_quota() -> None:
    person = person_in("trainee")  # quota 3, at most 2 rejections (policy default)
    assert isinstance(person.user, User)
    user_id, brand_id = person.user.pk, person.brand.pk

    outcomes = [
        record_review_outcome(user_id, brand_id, approved=approved, actor=None).promoted
        for approved in (True, False, True)
    ]
    standing = Standing.objects.get(user_id=user_id, brand_id=brand_id)
    assert outcomes == [False, False, False]
    assert (standing.level, standing.trainee_approved, standing.trainee_rejected) == (
        Level.TRAINEE,
        2,
        1,
    )

    third = record_review_outcome(user_id, brand_id, approved=True, actor=None)

    assert third.promoted is True
    assert third.standing.level == Level.CERTIFIED
    assert third.standing.certified_at is not None
    events = CharterEvent.objects.filter(kind="standing.promoted", subject_id=user_id)
    assert list(events.values_list("from_value", "to_value")) == [("trainee", "certified")]
    # Reviews after promotion count nothing more and promote nobody again
    after = record_review_outcome(user_id, brand_id, approved=True, actor=None)
    assert after.promoted is False
    assert events.count() == 1


def test_too_many_rejections_hold_a_trainee_back() -> None:
    person = person_in("trainee")
    assert isinstance(person.user, User)
    ReviewPolicy.objects.filter(brand=person.brand).update(trainee_max_rejections=1)
    user_id, brand_id = person.user.pk, person.brand.pk

    for approved in (False, False, True, True, True):
        record_review_outcome(user_id, brand_id, approved=approved, actor=None)

    standing = Standing.objects.get(user_id=user_id, brand_id=brand_id)
    assert (standing.level, standing.trainee_approved, standing.trainee_rejected) == (
        Level.TRAINEE,
        3,
        2,
    )
    assert not CharterEvent.objects.filter(kind="standing.promoted").exists()


def test_naming_the_brand_s_own_handle_is_not_about_another_customer() -> None:
    person = person_in("certified")
    draft = "@jane sorry! Our team at @NorthwindAide can help in French too. ^AB"

    unknown = may_send(
        person.user, person.brand.pk, draft, reply_key="r1", signature="^AB", customer_handle="jane"
    )
    known = may_send(
        person.user,
        person.brand.pk,
        draft,
        reply_key="r1",
        signature="^AB",
        customer_handle="jane",
        brand_handles=("NorthwindHelp", "NorthwindAide"),
    )

    assert unknown.lint is not None and "other_customer" in unknown.lint.rules
    assert known.lint is not None and "other_customer" not in known.lint.rules
    assert known.needs_review is False
