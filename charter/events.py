"""Writing the charter's append-only event log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from charter.models import CharterEvent


def record(
    kind: str,
    *,
    subject_id: int | None,
    brand_id: int,
    actor: User | None = None,
    actor_label: str = "",
    from_value: str = "",
    to_value: str = "",
    data: dict[str, Any] | None = None,
) -> CharterEvent:
    return CharterEvent.objects.create(
        kind=kind,
        subject_id=subject_id,
        brand_id=brand_id,
        actor=actor,
        actor_label=actor_label if actor is None else "",
        from_value=from_value,
        to_value=to_value,
        data=data or {},
    )
