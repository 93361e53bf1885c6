"""Shared by the benchmarks: a crowd of volunteers who pass the gate, created in bulk.

Going through the real actions (enrolment, training, acceptance) for thousands of people
would take minutes; these rows are what those actions leave behind.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

UNUSABLE = "!"  # an unusable password: nobody signs in as a bench volunteer


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else 0.0


def certified_crowd(
    brand: Any,
    version: Any,
    count: int,
    *,
    prefix: str = "bench",
    stores: Sequence[Any] = (),
    topics: Sequence[Any] = (),
    skills_each: int = 8,
    languages: Sequence[list[str]] = (["en"], ["en"], ["en", "fr"], ["fr"], ["en", "es"]),
    on_shift: bool = True,
    rng: random.Random | None = None,
) -> list[Any]:
    """``count`` certified volunteers of ``brand`` who accepted ``version`` (and are on
    shift unless told otherwise), spread over ``stores``, each with ``skills_each`` of
    ``topics``. Returns the users."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from charter.models import CharterAcceptance, Level, Standing
    from helpdesk.models import Volunteer
    from routing.models import Shift

    rng = rng or random.Random(7)
    now = timezone.now()
    users = User.objects.bulk_create(
        User(username=f"{prefix}{n}", password=UNUSABLE, first_name=f"V{n}") for n in range(count)
    )
    Volunteer.objects.bulk_create(
        Volunteer(
            user=user,
            brand=brand,
            store=stores[n % len(stores)] if stores else None,
            display_name=f"Volunteer {n}",
            languages=list(languages[n % len(languages)]),
            skills=[t.slug for t in rng.sample(list(topics), min(skills_each, len(topics)))],
        )
        for n, user in enumerate(users)
    )
    Standing.objects.bulk_create(
        Standing(
            user=user,
            brand=brand,
            level=Level.CERTIFIED,
            trained_at=now - timedelta(days=30),
            training_expires_at=now + timedelta(days=300),
            certified_at=now - timedelta(days=20),
        )
        for user in users
    )
    CharterAcceptance.objects.bulk_create(
        CharterAcceptance(user=user, version=version) for user in users
    )
    if on_shift:
        Shift.objects.bulk_create(Shift(user=user, brand=brand) for user in users)
    return users
