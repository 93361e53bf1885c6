"""Charter versions and their acceptance."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from charter import events
from charter.models import CharterAcceptance, CharterVersion


def current_version(brand_id: int, now: datetime | None = None) -> CharterVersion | None:
    """The newest version in effect."""
    now = now or timezone.now()
    return (
        CharterVersion.objects.filter(brand_id=brand_id, effective_at__lte=now)
        .order_by("-number")
        .first()
    )


def binding_version(brand_id: int, now: datetime | None = None) -> CharterVersion | None:
    """The newest material version in effect: the one a person must have accepted (or a
    later one) before they may claim. Minor versions after it are shown, not required."""
    now = now or timezone.now()
    return (
        CharterVersion.objects.filter(brand_id=brand_id, effective_at__lte=now, is_material=True)
        .order_by("-number")
        .first()
    )


def accepted_number(user_id: int, brand_id: int) -> int | None:
    """The highest version number the person accepted for this brand."""
    result = CharterAcceptance.objects.filter(
        user_id=user_id, version__brand_id=brand_id
    ).aggregate(top=Max("version__number"))
    top = result["top"]
    return int(top) if top is not None else None


def publish_version(
    brand_id: int,
    *,
    title: str,
    body: str,
    is_material: bool,
    actor: User | None,
    summary_of_changes: str = "",
    effective_at: datetime | None = None,
) -> CharterVersion:
    """Publish the next version of a brand's charter."""
    with transaction.atomic():
        top = (
            CharterVersion.objects.select_for_update()
            .filter(brand_id=brand_id)
            .aggregate(top=Max("number"))["top"]
        )
        version = CharterVersion.objects.create(
            brand_id=brand_id,
            number=(top or 0) + 1,
            title=title,
            body=body,
            summary_of_changes=summary_of_changes,
            is_material=is_material,
            effective_at=effective_at or timezone.now(),
            created_by=actor,
        )
        events.record(
            "charter.published",
            subject_id=None,
            brand_id=brand_id,
            actor=actor,
            actor_label="system",
            to_value=str(version.number),
            data={"material": is_material, "title": title},
        )
    return version


def accept_charter(
    user: User, version: CharterVersion, *, ip_address: str | None, user_agent: str
) -> CharterAcceptance:
    """Record that ``user`` accepted ``version``; accepting twice returns the first record."""
    existing = CharterAcceptance.objects.filter(user=user, version=version).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            acceptance = CharterAcceptance.objects.create(
                user=user,
                version=version,
                ip_address=ip_address,
                user_agent=user_agent[:400],
            )
            events.record(
                "charter.accepted",
                subject_id=user.pk,
                brand_id=version.brand_id,
                actor=user,
                to_value=str(version.number),
                data={"ip_address": ip_address, "user_agent": user_agent[:400]},
            )
    except IntegrityError:  # a double submit raced us; the first one stands
        return CharterAcceptance.objects.get(user=user, version=version)
    return acceptance
