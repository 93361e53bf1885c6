"""The one way a question or a reply changes state.

Every move, wherever it starts (a volunteer's claim, a review, the sender, a sweep):

1. is checked against the state tables in :mod:`helpdesk.states` (``ForbiddenTransition``);
2. is a conditional update, ``WHERE state = <the state it moves from>`` plus whatever else
   the caller needs to still hold (the holder, the send attempt); the row count decides,
   so of two racing moves exactly one happens and the other returns ``False``;
3. writes its audit row in the same transaction, only if the row moved;
4. announces itself on the channel layer once the transaction commits.

Nothing else in ``helpdesk``, ``routing`` or ``charter`` writes a ``state`` column or an
audit row (``tests/test_one_path.py`` reads the code for it). Rows are created in their
first state by their owners (ingestion inserts questions already routed; ``submit_reply``
creates a reply as a draft); every change after that comes through here.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from weakref import WeakKeyDictionary

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Field, Q, QuerySet
from django.utils import timezone

from helpdesk.audit import Event, record, record_many
from helpdesk.events import announce, announce_on_loop, brand_queue_group, monitoring_group
from helpdesk.models import AuditEvent, Question, Reply
from helpdesk.states import QuestionState, check_question_transition, check_reply_transition

__all__ = [
    "announce_question",
    "announce_questions",
    "announce_reply",
    "claim_in_one_statement",
    "claim_statement",
    "move_question",
    "move_questions",
    "move_reply",
    "move_statement",
    "moved_on_loop",
    "settle_routed",
]


# The columns of a claim or an offer, cleared when a question goes back to the queue (or
# leaves it for good): one definition for every path that does so.
UNCLAIMED: dict[str, Any] = {
    "claimed_by": None,
    "claimed_at": None,
    "lease_expires_at": None,
    "offered_to": None,
    "offer_expires_at": None,
}


def claimed_fields(user: User, now: datetime, until: datetime) -> dict[str, Any]:
    """The columns of a claim held by ``user`` from ``now`` with its lease to ``until``
    (any offer cleared): the other side of :data:`UNCLAIMED`."""
    return {
        "claimed_by": user,
        "claimed_at": now,
        "lease_expires_at": until,
        "offered_to": None,
        "offer_expires_at": None,
    }


def move_question(
    question: Question,
    to_state: str,
    *,
    kind: str = "",
    from_state: str = "",
    actor: User | None = None,
    actor_label: str = "",
    data: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    where: Q | None = None,
    now: datetime | None = None,
    announce: bool = True,
    user_id: int | None = None,
) -> bool:
    """Move ``question`` from ``from_state`` (the state it has in memory by default) to
    ``to_state``.

    ``fields`` are written in the same update; ``where`` narrows it further. A move to
    the state it is already in (a reassignment) changes the fields and is audited, and
    keeps ``state_changed_at``. ``kind`` names the audit row (``question.<to_state>`` by
    default); with ``announce`` the brand's queue and monitoring hear ``kind`` with the
    question and ``user_id`` (the actor's by default) once the transaction commits.

    Returns whether the row moved; when it did, ``question`` holds the new values."""
    from_state = from_state or question.state
    if to_state != from_state:
        check_question_transition(from_state, to_state)
    now = now or timezone.now()
    values: dict[str, Any] = dict(fields or {})
    if to_state != from_state:
        values.update(state=to_state, state_changed_at=now)
    rows = Question.objects.filter(pk=question.pk, state=from_state)
    if where is not None:
        rows = rows.filter(where)
    kind = kind or f"question.{to_state}"
    with transaction.atomic():
        if not rows.update(**values):
            return False
        _assign(question, values)
        record(
            kind,
            actor=actor,
            actor_label=actor_label,
            question=question,
            from_state=from_state,
            to_state=to_state,
            data=dict(data or {}),
            at=now,
        )
        if announce:
            announce_question(
                question.brand_id,
                kind,
                question.pk,
                user_id if user_id is not None else (actor.pk if actor else None),
            )
    return True


@dataclass(frozen=True)
class ClaimStatement:
    """The claim's one statement (see :func:`claim_statement`): its SQL, its parameters in
    order, and the names of the report's columns after the lease's end and the brand."""

    sql: str
    params: tuple[Any, ...]
    columns: tuple[str, ...]


def move_statement(
    question_id: int,
    to_state: str,
    *,
    from_states: Sequence[str],
    kind: str,
    actor_id: int,
    fields: tuple[str, list[Any]],
    condition: tuple[str, list[Any]],
    data: tuple[str, list[Any]],
    returning: Sequence[str] = (),
    now: datetime,
) -> tuple[str, list[Any]]:
    """:func:`move_question`'s move of one question, for one PostgreSQL statement that
    decides and moves: ``WITH moved AS (the conditional update), audited AS (its audit row,
    only if the row moved)``, to which the caller adds its ``SELECT`` from ``moved``. Its
    columns: ``id``, ``brand_id``, ``from_state`` and the ``returning`` columns of the row as
    moved; no row when it did not move. Returns the SQL and its parameters in order.

    ``from_states`` are the states it may move from. With one, the update's condition is
    ``state = <it>``, as :func:`move_question`'s. With several, it moves from the state the
    statement's snapshot reads, and only if the row is still in that one when it updates: a
    concurrent move leaves it unmoved, as :func:`move_question`'s condition on the state it
    read does, and the audit row names the state it really left. ``fields`` are SQL
    assignments (``column = expression, ...``) written besides the state's, ``condition``
    an SQL condition on the ``helpdesk_question`` row, ``data`` an SQL ``jsonb`` expression
    (over ``moved``) of the audit row's data; each ``(sql, params)`` with ``%s``
    placeholders."""
    if to_state in from_states:
        raise ValueError("a move in one statement changes the state")
    for from_state in from_states:
        check_question_transition(from_state, to_state)
    table = Question._meta.db_table
    when = connection.ops.adapt_datetimefield_value(now)
    fields_sql, fields_params = fields
    condition_sql, condition_params = condition
    data_sql, data_params = data
    if len(from_states) == 1:
        source, source_params = "", []
        state_sql, state_params = f"{table}.state = %s", [from_states[0]]
        from_sql, from_params = "CAST(%s AS varchar)", [from_states[0]]
    else:
        source = f"FROM (SELECT id, state FROM {table} WHERE id = %s) AS before"  # noqa: S608
        source_params = [question_id]
        states = ", ".join(["%s"] * len(from_states))
        state_sql = (
            f"{table}.id = before.id AND {table}.state = before.state "
            f"AND before.state IN ({states})"
        )
        state_params, from_sql, from_params = list(from_states), "before.state", []
    extra = "".join(f", {table}.{column}" for column in returning)
    sql = f"""
        WITH moved AS (
            UPDATE {table}
            SET state = %s, state_changed_at = CAST(%s AS timestamptz), {fields_sql}
            {source}
            WHERE {table}.id = %s AND {state_sql} AND ({condition_sql})
            RETURNING {table}.id, {table}.brand_id, {from_sql} AS from_state{extra}
        ), audited AS (
            INSERT INTO {AuditEvent._meta.db_table}
                (kind, created_at, actor_id, actor_label, brand_id, question_id,
                 from_state, to_state, data)
            SELECT CAST(%s AS varchar), CAST(%s AS timestamptz), CAST(%s AS bigint), '',
                moved.brand_id, moved.id, moved.from_state, CAST(%s AS varchar), {data_sql}
            FROM moved
        )"""  # noqa: S608 - ours; every value is a parameter
    params = [
        to_state,
        when,
        *fields_params,
        *source_params,
        question_id,
        *state_params,
        *condition_params,
        *from_params,
        kind,
        when,
        actor_id,
        to_state,
        *data_params,
    ]
    return sql, params


def unclaimed_sql() -> str:
    """:data:`UNCLAIMED` as SQL assignments, for :func:`move_statement`'s ``fields``."""
    columns = (cast("Field[Any, Any]", Question._meta.get_field(name)).column for name in UNCLAIMED)
    return ", ".join(f"{column} = NULL" for column in columns)


def claim_statement(
    question_id: int,
    actor_id: int,
    *,
    condition: tuple[str, list[Any]],
    lease_minutes: tuple[str, list[Any]],
    report: QuerySet[Question, dict[str, Any]],
    now: datetime,
) -> ClaimStatement:
    """The claim as :func:`move_question` makes it (``queued`` to ``claimed``, the holder
    and a lease, the ``question.claimed`` audit row), as one PostgreSQL statement that
    decides and takes (:func:`move_statement`). ``condition`` is an SQL condition on the
    ``helpdesk_question`` row that must also hold (the caller's eligibility),
    ``lease_minutes`` an SQL expression of the lease's length; both are ``(sql, params)``
    with ``%s`` placeholders. ``report`` (a ``.values()`` query of the question) is read in
    the same statement, at its snapshot: the row as it was just before the update, for the
    loser's explanation.

    The SQL depends on none of the values, so a caller may build it once and put other
    values in its parameters' places. Run it with :func:`claim_in_one_statement`."""
    when = connection.ops.adapt_datetimefield_value(now)
    lease_sql, lease_params = lease_minutes
    report_sql, report_params = report.query.sql_with_params()
    columns = tuple(report.query.selected or ())  # the values' names, in the select's order
    moved_sql, moved_params = move_statement(
        question_id,
        QuestionState.CLAIMED,
        from_states=(QuestionState.QUEUED,),
        kind="question.claimed",
        actor_id=actor_id,
        fields=(
            "claimed_by_id = CAST(%s AS bigint), claimed_at = CAST(%s AS timestamptz), "
            "lease_expires_at = CAST(%s AS timestamptz) "
            f"+ MAKE_INTERVAL(mins => CAST(({lease_sql}) AS integer)), "
            "offered_to_id = NULL, offer_expires_at = NULL",
            [actor_id, when, when, *lease_params],
        ),
        condition=condition,
        data=(
            "JSONB_BUILD_OBJECT('lease_expires_at', TO_CHAR("
            "moved.lease_expires_at AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\'))',
            [],
        ),
        returning=("lease_expires_at",),
        now=now,
    )
    sql = f"""{moved_sql}
        SELECT moved.lease_expires_at, moved.brand_id, report.*
        FROM ({report_sql}) AS report LEFT JOIN moved ON TRUE"""  # noqa: S608 - ours
    return ClaimStatement(sql, (*moved_params, *report_params), columns)


def claim_in_one_statement(
    question_id: int, actor_id: int, statement: ClaimStatement
) -> tuple[datetime | None, dict[str, Any] | None]:
    """Run the claim's :func:`claim_statement` (with ``question_id`` and ``actor_id`` in
    its parameters) on its own, in autocommit: one round trip. Announces the claim once
    committed. Returns the lease's end when the claim won (else None), and the report's row
    (None: no such question). A claim that lost to a claim still in flight when the
    statement began reads the question as queued: the caller reads again to learn who
    won."""
    if connection.vendor != "postgresql":  # pragma: no cover - the caller knows
        raise NotImplementedError("one-statement claims need PostgreSQL")
    check_question_transition(QuestionState.QUEUED, QuestionState.CLAIMED)
    with connection.cursor() as cursor:
        execute_prepared(cursor, statement.sql, statement.params)
        row = cursor.fetchone()
    if row is None:
        return None, None
    until, brand_id = row[0], row[1]
    if until is not None:
        announce_question(brand_id, "question.claimed", question_id, actor_id)
    return until, dict(zip(statement.columns, row[2:], strict=True))


async def claim_in_one_statement_on_loop(
    question_id: int, actor_id: int, statement: ClaimStatement
) -> tuple[datetime | None, dict[str, Any] | None]:
    """:func:`claim_in_one_statement` awaited on the event loop (``helpdesk.on_loop``,
    which the caller joined): the same statement and answer, and the same announcement."""
    from helpdesk import on_loop

    check_question_transition(QuestionState.QUEUED, QuestionState.CLAIMED)
    row = await on_loop.fetchone(statement.sql, statement.params)
    if row is None:
        return None, None
    until, brand_id = row[0], row[1]
    if until is not None:
        await announce_on_loop(
            *_question_event(brand_id, "question.claimed", question_id, actor_id)
        )
    return until, dict(zip(statement.columns, row[2:], strict=True))


async def moved_on_loop(
    statement: ClaimStatement, question_id: int, actor_id: int, kind: str
) -> dict[str, Any] | None:
    """Run ``statement`` (a :func:`move_statement` whose ``SELECT`` reads ``moved``, its
    columns named) on the event loop (``helpdesk.on_loop``, which the caller joined), in
    autocommit: one round trip. When the question moved, the brand hears ``kind`` (by
    ``actor_id``) and the row is returned; else None, and nothing changed."""
    from helpdesk import on_loop

    row = await on_loop.fetchone(statement.sql, statement.params)
    if row is None:
        return None
    moved = dict(zip(statement.columns, row, strict=True))
    await announce_on_loop(*_question_event(moved["brand_id"], kind, question_id, actor_id))
    return moved


async def fetch_report_on_loop(statement: ClaimStatement) -> dict[str, Any] | None:
    """The one row of a ``.values()`` query compiled into ``statement`` (its columns named),
    read on the event loop (``helpdesk.on_loop``); None when there is none."""
    from helpdesk import on_loop

    row = await on_loop.fetchone(statement.sql, statement.params)
    return None if row is None else dict(zip(statement.columns, row, strict=True))


# The statements prepared on each PostgreSQL connection (the driver's own connection object,
# which a reconnect replaces), by name.
_prepared: WeakKeyDictionary[Any, set[str]] = WeakKeyDictionary()
_prepared_lock = threading.Lock()


def execute_prepared(cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """Run ``sql`` (``%s`` placeholders) as a statement PostgreSQL prepared once per
    connection: a claim's statement takes the planner about ten times as long as it takes to
    run, and Django's driver settings prepare nothing (for the sake of connection poolers,
    which the desk does not use: it keeps its connections, ``conn_max_age``). The first use
    on a connection adds one ``PREPARE``; every later one is a single ``EXECUTE``. A
    prepared statement outlives a rolled-back transaction, and its name is the SQL's hash,
    so a changed statement is a new one."""
    name = "hf_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]
    raw = connection.connection
    with _prepared_lock:
        names = _prepared.setdefault(raw, set())
        known = name in names
    if not known:
        numbered = iter(range(1, len(params) + 1))
        cursor.execute(f"PREPARE {name} AS " + re.sub(r"%s", lambda _m: f"${next(numbered)}", sql))
        with _prepared_lock:
            names.add(name)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})", params)


def move_questions(
    ids: Sequence[int],
    from_state: str,
    to_state: str,
    *,
    kind: str,
    actor_label: str = "",
    actor: User | None = None,
    data: Mapping[int, Mapping[str, Any]] | None = None,
    fields: Mapping[str, Any] | None = None,
    where: Q | None = None,
    now: datetime | None = None,
    announce_as: str = "",
) -> list[int]:
    """The bulk form of :func:`move_question` for the system's sweeps and a supervisor's
    bulk triage: the questions of ``ids`` still in ``from_state`` (and matching ``where``)
    are locked, moved in one update, and given one audit row each (``data`` per question
    id; ``actor`` or ``actor_label`` says who). With ``announce_as`` each brand's queue and
    monitoring hear it once, with the ids that moved.

    Returns the ids that moved; the others changed meanwhile and are left alone."""
    check_question_transition(from_state, to_state)
    if not ids:
        return []
    now = now or timezone.now()
    data = data or {}
    with transaction.atomic():
        rows = Question.objects.filter(pk__in=list(ids), state=from_state)
        if where is not None:
            rows = rows.filter(where)
        locked = list(
            rows.select_for_update(skip_locked=True).order_by("pk").values_list("pk", "brand_id")
        )
        if not locked:
            return []
        moved = Question.objects.filter(
            pk__in=[pk for pk, _brand in locked], state=from_state
        ).update(state=to_state, state_changed_at=now, **(fields or {}))
        if moved != len(locked):  # pragma: no cover - the rows are locked
            raise RuntimeError("questions changed under a lock; nothing was moved")
        record_many(
            Event(
                kind=kind,
                actor_label=actor_label,
                brand_id=brand_id,
                question_id=pk,
                actor_id=actor.pk if actor is not None else None,
                from_state=from_state,
                to_state=to_state,
                data=dict(data.get(pk, {})),
                at=now,
            )
            for pk, brand_id in locked
        )
        if announce_as:
            by_brand: dict[int, list[int]] = {}
            for pk, brand_id in locked:
                by_brand.setdefault(brand_id, []).append(pk)
            for brand_id, question_ids in by_brand.items():
                announce_questions(brand_id, announce_as, question_ids)
    return [pk for pk, _brand in locked]


def settle_routed(questions: Sequence[Question], from_state: str, fields: Sequence[str]) -> int:
    """Write what routing decided in memory for questions still in ``from_state``: each
    question's new ``state`` (checked against the table), ``state_changed_at`` and
    ``fields``; one UPDATE per distinct set of values (a batch from one poll has a
    handful), or one bulk update when they are too varied. The audit rows are the
    caller's, written with :func:`helpdesk.audit.record_transitions` once it knows which
    reason each dismissal had. Returns how many rows were still in ``from_state``."""
    for question in questions:
        check_question_transition(from_state, question.state)
    names = list(dict.fromkeys(["state", "state_changed_at", *fields]))
    columns = [Question._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
    by_values: dict[tuple[Any, ...], list[int]] = {}
    for question in questions:
        values = tuple(getattr(question, column) for column in columns)
        by_values.setdefault(values, []).append(question.pk)
    rows = Question.objects.filter(state=from_state)
    if len(by_values) > 8:
        return rows.bulk_update(questions, names, batch_size=500)
    return sum(
        rows.filter(pk__in=ids).update(**dict(zip(columns, values, strict=True)))
        for values, ids in by_values.items()
    )


def move_reply(
    reply: Reply,
    to_state: str,
    *,
    kind: str,
    from_state: str = "",
    actor: User | None = None,
    actor_label: str = "",
    data: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
    where: Q | None = None,
    now: datetime | None = None,
    announce: Mapping[str, Any] | None = None,
) -> bool:
    """Move ``reply`` from ``from_state`` (the state it has in memory by default) to
    ``to_state``, as
    :func:`move_question` moves a question: the table checked, one conditional update (with
    ``fields``, narrowed by ``where``), the audit row ``kind`` (its data carries the reply's
    id), and, given ``announce`` (the event's extra payload), the event ``kind`` once the
    transaction commits. Returns whether the row moved."""
    from_state = from_state or reply.state
    check_reply_transition(from_state, to_state)
    now = now or timezone.now()
    values: dict[str, Any] = {**(fields or {}), "state": to_state, "state_changed_at": now}
    rows = Reply.objects.filter(pk=reply.pk, state=from_state)
    if where is not None:
        rows = rows.filter(where)
    with transaction.atomic():
        if not rows.update(**values):
            return False
        _assign(reply, values)
        record(
            kind,
            actor=actor,
            actor_label=actor_label,
            brand_id=reply.question.brand_id,
            question=reply.question,
            from_state=from_state,
            to_state=to_state,
            data={"reply_id": reply.pk, **(data or {})},
            at=now,
        )
        if announce is not None:
            announce_reply(reply, kind, announce)
    return True


def announce_question(brand_id: int, kind: str, question_id: int, user_id: int | None) -> None:
    """Tell the brand's queue and monitoring screens, after commit, that a question moved."""
    announce(*_question_event(brand_id, kind, question_id, user_id))


def _question_event(
    brand_id: int, kind: str, question_id: int, user_id: int | None
) -> tuple[list[str], str, dict[str, Any]]:
    return (
        [brand_queue_group(brand_id), monitoring_group(brand_id)],
        kind,
        {"brand_id": brand_id, "question_id": question_id, "user_id": user_id},
    )


def announce_questions(brand_id: int, kind: str, question_ids: list[int]) -> None:
    """The same for many questions of one brand at once."""
    announce(
        [brand_queue_group(brand_id), monitoring_group(brand_id)],
        kind,
        {"brand_id": brand_id, "question_ids": question_ids},
    )


def announce_reply(reply: Reply, kind: str, extra: Mapping[str, Any] | None = None) -> None:
    """Tell the brand's queue and monitoring screens, after commit, that a reply moved."""
    brand_id = reply.question.brand_id
    announce(
        [brand_queue_group(brand_id), monitoring_group(brand_id)],
        kind,
        {
            "brand_id": brand_id,
            "question_id": reply.question_id,
            "reply_id": reply.pk,
            "author_id": reply.author_id,
            **(extra or {}),
        },
    )


def _assign(instance: Question | Reply, values: Mapping[str, Any]) -> None:
    """Give ``instance`` the values just written (an expression is left for a reload)."""
    for name, value in values.items():
        if hasattr(value, "resolve_expression"):
            continue
        field = instance._meta.get_field(name)
        if field.is_relation and not hasattr(value, "_meta"):
            name = f"{name}_id"  # an id, or None
        setattr(instance, name, value)
