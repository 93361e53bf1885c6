"""The append-only audit log: the one place that writes it (:func:`record`,
:func:`record_many`, :func:`record_transitions`) and the way to read it (:func:`events`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
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
    at: datetime | None = None,
) -> AuditEvent:
    """One audit row."""
    return AuditEvent.objects.create(
        kind=kind,
        created_at=at or timezone.now(),
        actor=actor,
        actor_label=actor_label,
        brand_id=brand_id if brand_id is not None else (question.brand_id if question else None),
        question=question,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )


@dataclass(frozen=True)
class Event:
    """An audit row to write with others in :func:`record_many`."""

    kind: str
    actor_label: str
    brand_id: int | None
    question_id: int | None = None
    actor_id: int | None = None
    from_state: str = ""
    to_state: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


def record_many(events: Iterable[Event]) -> int:
    """Many audit rows in one statement (the sweeps and offers write one per question);
    returns how many."""
    now = timezone.now()
    rows = [
        AuditEvent(
            kind=event.kind,
            created_at=event.at or now,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            brand_id=event.brand_id,
            question_id=event.question_id,
            from_state=event.from_state,
            to_state=event.to_state,
            data=event.data,
        )
        for event in events
    ]
    AuditEvent.objects.bulk_create(rows)
    return len(rows)


def events() -> QuerySet[AuditEvent]:
    """The audit log, to read (it is append-only: the queryset refuses updates)."""
    return AuditEvent.objects.all()


def record_transitions(
    kind: str,
    questions: Iterable[Question],
    *,
    from_state: str,
    to_state: str,
    actor_label: str,
    data: dict[str, Any] | None = None,
) -> None:
    """One event per question for a bulk state change, written in one statement.

    The rows are built by the database from the questions' own rows (INSERT ... SELECT):
    ingestion writes two events per tweet, and building them as model instances was the
    largest cost of storing a page.
    """
    ids = [question.pk for question in questions]
    if not ids:
        return
    quote = connection.ops.quote_name
    event_column = {f.name: quote(f.column) for f in AuditEvent._meta.concrete_fields}
    question_column = {f.name: quote(f.column) for f in Question._meta.concrete_fields}
    columns = ", ".join(
        event_column[name]
        for name in (
            "kind",
            "created_at",
            "actor_label",
            "from_state",
            "to_state",
            "data",
            "brand",
            "question",
        )
    )
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    placeholders = ", ".join(["%s"] * len(ids))
    question_id = question_column["id"]
    sql = (
        f"INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608 - identifiers are ours; values are parameters
        f"SELECT %s, %s, %s, %s, %s, {json_param}, {question_column['brand']}, {question_id} "
        f"FROM {quote(Question._meta.db_table)} WHERE {question_id} IN ({placeholders}) "
        f"ORDER BY {question_id}"
    )
    created_at = AuditEvent._meta.get_field("created_at").get_db_prep_value(
        timezone.now(), connection
    )
    params = [kind, created_at, actor_label, from_state, to_state, json.dumps(data or {}), *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
