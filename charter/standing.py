"""Levels, suspension, training validity and review quotas: a person's standing.

Every change locks the standing row, changes it and writes a charter event in one
transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from charter import events
from charter.models import Level, ReviewPolicy, Standing


class StandingError(ValueError):
    """A change that does not apply to this person's standing."""


def policy_for(brand_id: int) -> ReviewPolicy:
    """The brand's review policy; the defaults until an admin changes them."""
    policy, _ = ReviewPolicy.objects.get_or_create(brand_id=brand_id)
    return policy


def standing_for(user_id: int, brand_id: int) -> Standing | None:
    return Standing.objects.filter(user_id=user_id, brand_id=brand_id).first()


def _locked(user_id: int, brand_id: int) -> Standing:
    standing = Standing.objects.select_for_update().filter(user_id=user_id, brand_id=brand_id)
    found = standing.first()
    if found is None:
        raise StandingError("this person is not enrolled in the programme")
    return found


def open_standing(user_id: int, brand_id: int, *, actor: User | None) -> Standing:
    """Admit a confirmed employee to the programme at the ``enrolled`` level (idempotent)."""
    with transaction.atomic():
        standing, created = Standing.objects.get_or_create(user_id=user_id, brand_id=brand_id)
        if created:
            events.record(
                "standing.opened",
                subject_id=user_id,
                brand_id=brand_id,
                actor=actor,
                actor_label="system",
                to_value=Level.ENROLLED,
            )
    return standing


def suspend(user_id: int, brand_id: int, *, actor: User, reason: str) -> Standing:
    """Suspend at once; the reason is required and shown to the person."""
    reason = reason.strip()
    if not reason:
        raise StandingError("a suspension needs a reason")
    with transaction.atomic():
        standing = _locked(user_id, brand_id)
        if standing.is_suspended:
            raise StandingError("already suspended")
        now = timezone.now()
        standing.is_suspended = True
        standing.suspended_reason = reason
        standing.suspended_at = now
        standing.suspended_by = actor
        standing.updated_at = now
        standing.save()
        events.record(
            "standing.suspended",
            subject_id=user_id,
            brand_id=brand_id,
            actor=actor,
            from_value="active",
            to_value="suspended",
            data={"reason": reason},
        )
    return standing


def reinstate(user_id: int, brand_id: int, *, actor: User) -> Standing:
    with transaction.atomic():
        standing = _locked(user_id, brand_id)
        if not standing.is_suspended:
            raise StandingError("not suspended")
        standing.is_suspended = False
        standing.suspended_reason = ""
        standing.suspended_at = None
        standing.suspended_by = None
        standing.updated_at = timezone.now()
        standing.save()
        events.record(
            "standing.reinstated",
            subject_id=user_id,
            brand_id=brand_id,
            actor=actor,
            from_value="suspended",
            to_value="active",
        )
    return standing


def record_training_passed(user_id: int, brand_id: int, *, now: datetime | None = None) -> Standing:
    """All required modules are passed: the training is valid for the policy's period, and
    an enrolled person becomes a trainee. A refresher renews the period."""
    now = now or timezone.now()
    valid_days = policy_for(brand_id).certification_valid_days
    with transaction.atomic():
        standing = _locked(user_id, brand_id)
        before = standing.level
        standing.trained_at = now
        standing.training_expires_at = now + timedelta(days=valid_days)
        if standing.level == Level.ENROLLED:
            standing.level = Level.TRAINEE
            standing.trainee_approved = 0
            standing.trainee_rejected = 0
        standing.updated_at = now
        standing.save()
        events.record(
            "standing.trained",
            subject_id=user_id,
            brand_id=brand_id,
            actor_label="system:training",
            from_value=before,
            to_value=standing.level,
            data={"expires_at": standing.training_expires_at.isoformat()},
        )
    return standing


@dataclass(frozen=True)
class ReviewOutcome:
    standing: Standing
    promoted: bool


def record_review_outcome(
    user_id: int, brand_id: int, *, approved: bool, actor: User | None
) -> ReviewOutcome:
    """Count a reviewed reply. A trainee with ``trainee_quota`` approved replies and at most
    ``trainee_max_rejections`` rejected ones is promoted to certified, at that moment."""
    policy = policy_for(brand_id)
    with transaction.atomic():
        standing = _locked(user_id, brand_id)
        if standing.level != Level.TRAINEE:
            return ReviewOutcome(standing, promoted=False)
        if approved:
            standing.trainee_approved += 1
        else:
            standing.trainee_rejected += 1
        promoted = (
            standing.trainee_approved >= policy.trainee_quota
            and standing.trainee_rejected <= policy.trainee_max_rejections
        )
        now = timezone.now()
        if promoted:
            standing.level = Level.CERTIFIED
            standing.certified_at = now
        standing.updated_at = now
        standing.save()
        if promoted:
            events.record(
                "standing.promoted",
                subject_id=user_id,
                brand_id=brand_id,
                actor=actor,
                actor_label="system:review-quota",
                from_value=Level.TRAINEE,
                to_value=Level.CERTIFIED,
                data={
                    "approved": standing.trainee_approved,
                    "rejected": standing.trainee_rejected,
                },
            )
    return ReviewOutcome(standing, promoted)


def set_level(user_id: int, brand_id: int, level: str, *, actor: User) -> Standing:
    """A supervisor's decision: make a mentor, or send someone back to trainee."""
    if level not in (Level.TRAINEE, Level.CERTIFIED, Level.MENTOR):
        raise StandingError(f"a supervisor cannot set the level {level!r}")
    with transaction.atomic():
        standing = _locked(user_id, brand_id)
        if standing.trained_at is None:
            raise StandingError("the required training is not complete")
        before = standing.level
        if before == level:
            return standing
        standing.level = level
        if level == Level.TRAINEE:
            standing.trainee_approved = 0
            standing.trainee_rejected = 0
        standing.updated_at = timezone.now()
        standing.save()
        events.record(
            "standing.level_set",
            subject_id=user_id,
            brand_id=brand_id,
            actor=actor,
            from_value=before,
            to_value=level,
        )
    return standing


def is_sampled(seed: str, key: str, rate: float) -> bool:
    """Whether the reply named ``key`` is picked for review at ``rate``.

    Reproducible: the same seed and key always give the same answer (so a retried submit
    is not re-drawn), and over many keys the share picked is ``rate``.
    """
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate
