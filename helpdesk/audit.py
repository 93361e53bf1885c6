"""Writing the append-only audit log."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.models import AuditEvent, Question


def record(
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    brand_id: int | None = None,
    question: Question | None = None,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_label=actor_label,
        brand_id=brand_id if brand_id is not None else (question.brand_id if question else None),
        question=question,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )


def record_transitions(
    kind: str,
    questions: Iterable[Question],
    *,
    from_state: str,
    to_state: str,
    actor_label: str,
    data: dict[str, Any] | None = None,
) -> None:
    """One event per question for a bulk state change, written in one statement."""
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                kind=kind,
                created_at=now,
                actor_label=actor_label,
                brand_id=question.brand_id,
                question=question,
                from_state=from_state,
                to_state=to_state,
                data=data or {},
            )
            for question in questions
        ]
    )
