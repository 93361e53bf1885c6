"""Claims and leases: who is answering a question, for how long, and giving it back (a
supervisor's take-back, reassignment and escalation are in :mod:`routing.handover`).

A claim is one conditional ``UPDATE ... WHERE state = 'queued'``: its row count says who
won, whatever the concurrency (DESIGN invariant 2). The claim is a lease renewed while the
volunteer types; a lapsed lease puts the question back in the queue and says so in the audit
log. Every move goes through :mod:`helpdesk.moves` (the transition table, the audit event in
the same transaction, the announcement after commit).

Renewals write no audit event: they happen every few seconds while someone types, and the
lease's end is on the row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import BooleanField, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from charter.gate import crisis_refusal, may_claim
from helpdesk import on_loop
from helpdesk.models import Question, Volunteer, name_from
from helpdesk.moves import (
    UNCLAIMED,
    ClaimStatement,
    claim_in_one_statement,
    claim_in_one_statement_on_loop,
    claim_statement,
    claimed_fields,
    fetch_report_on_loop,
    move_question,
    move_questions,
    move_statement,
    moved_on_loop,
    unclaimed_sql,
)
from helpdesk.states import QuestionState
from routing.eligibility import OPEN_CLAIM_STATES, EligibilityIndex, claim_eligibility_sql
from routing.models import RoutingSettings, Topic
from routing.presence import routing_settings_for


class ClaimError(ValueError):
    """A claim action that does not apply; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ClaimResult:
    """``won``: the caller holds the question now. Otherwise ``reason`` says why not, and
    ``holder_display`` names who holds it (empty when nobody does)."""

    question_id: int
    won: bool
    reason: str = ""
    holder_display: str = ""
    holder_id: int | None = None
    until: datetime | None = None
    message: str = ""
    refusals: tuple[str, ...] = ()


def open_claims_count(user: User) -> int:
    return Question.objects.filter(claimed_by_id=user.pk, state__in=OPEN_CLAIM_STATES).count()


_CLAIM_ROW = (
    "pk",
    "brand_id",
    "state",
    "lang",
    "store_id",
    "topic_id",
    "topic__slug",
    "topic__is_local",
    "offered_to_id",
    "offer_expires_at",
    "claimed_by_id",
    "lease_expires_at",
    "claimed_by__volunteer__display_name",
    "claimed_by__first_name",
    "claimed_by__last_name",
    "claimed_by__username",
    "brand__routing_settings__max_open_claims",
    "brand__routing_settings__claim_lease_minutes",
)


def claim_question(
    question_id: int, user: User, *, now: datetime | None = None, brand_id: int | None = None
) -> ClaimResult:
    """Claim a queued question. Refused (and nothing written) unless the person may take it
    now: gate, shift, cap, crisis, language, skill, store. Of any number of concurrent
    claimers exactly one wins; the others learn who holds it.

    The conditional update itself checks all of that (:func:`claim_eligibility_sql`), so
    nothing read before it can go stale. On PostgreSQL the claim is one statement that
    decides, takes, writes the audit row and reads the question as it was, so a winner and
    a loser to an earlier claim cost one round trip each. On SQLite (one process, no round
    trips) it is the question's read, then :func:`move_question`'s update and audit row.
    Only a refusal, or a loss to a claim in flight at the same instant, reads more: why.

    With ``brand_id``, a question of another brand is "no such question", whatever its
    state, and nothing more is read about it (the live queue's socket passes its brand
    instead of asking first whether the question is the brand's: one round trip fewer). A
    person can only ever win a question of their own brand (the eligibility's first
    condition), so this only spares others' questions from being described."""
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        until, row = claim_in_one_statement(
            question_id, user.pk, _claim_statement(question_id, user.pk, now)
        )
        decided = _decided(question_id, user, now, brand_id, until, row)
        return decided if decided is not None else _why_not(question_id, user, now)
    table = connection.ops.quote_name(Question._meta.db_table)
    condition_sql, condition_params = _claim_condition(table, user.pk, now)
    report = _claim_report(question_id, user.pk)
    row = report.first()
    if not _ours(row, brand_id):
        return _not_found(question_id)
    lost = _lost_from(row, user, now)
    if lost is not None:
        return lost
    lease = timedelta(minutes=_settings_from(row).claim_lease_minutes)
    question = Question(pk=question_id, brand_id=row["brand_id"])
    with transaction.atomic(durable=True):  # an entry point: its own transaction
        won = move_question(
            question,
            QuestionState.CLAIMED,
            from_state=QuestionState.QUEUED,
            actor=user,
            data={"lease_expires_at": (now + lease).isoformat()},
            fields=claimed_fields(user, now, now + lease),
            where=Q(
                RawSQL(  # noqa: S611 - our SQL; every value is a parameter
                    condition_sql, condition_params, output_field=BooleanField()
                )
            ),
            now=now,
        )
    if won:
        return _won(question_id, user, row, now + lease)
    return _why_not(question_id, user, now)


# The claims in flight on each event loop, by (loop, brand, question): a claim of a question
# another claim of the same process is taking is answered from that claim's outcome.
_in_flight: dict[tuple[int, int, int], asyncio.Future[ClaimResult | None]] = {}


async def claim_question_on_loop(question_id: int, user: User, *, brand_id: int) -> ClaimResult:
    """:func:`claim_question` (PostgreSQL, with ``brand_id``) awaited on the event loop
    (``helpdesk.on_loop``, which the caller joined), for the live queue's socket: the same
    statement, one round trip, and the same answers. Only what needs more than the
    statement's row (the statement's first build in the process; why a claim that found the
    question open did not take it) runs in a worker thread.

    A crowd claiming one question at once (the top of everyone's list) is answered without
    a statement each: a claim that arrives while another claim of the same question is in
    flight in this process waits for it, and when that one won, or found the question
    taken, this one lost to the same holder, as its own statement would have found after
    waiting for the row. Any other outcome (one that depends on the claimer) and it runs its
    own."""
    loop = asyncio.get_running_loop()
    key = (id(loop), brand_id, question_id)
    ahead = _in_flight.get(key)
    if ahead is not None:
        first = await asyncio.shield(ahead)
        if first is not None and first.holder_id is not None and first.reason in _TAKEN:
            return _taken_by(question_id, first.holder_display, first.holder_id, first.until)
    outcome: asyncio.Future[ClaimResult | None] = loop.create_future()
    leading = key not in _in_flight
    if leading:
        _in_flight[key] = outcome
    result: ClaimResult | None = None
    try:
        result = await _claim_on_loop(question_id, user, brand_id)
    finally:
        if leading:
            outcome.set_result(result)  # None: it failed; those waiting claim for themselves
            del _in_flight[key]
    return result


# The outcomes that say who holds the question, whoever asks.
_TAKEN = ("claimed", "already_claimed")


async def _claim_on_loop(question_id: int, user: User, brand_id: int) -> ClaimResult:
    now = timezone.now()
    statement = await _built(_statements, _claim_statement, question_id, user.pk, now)
    until, row = await claim_in_one_statement_on_loop(question_id, user.pk, statement)
    decided = _decided(question_id, user, now, brand_id, until, row)
    if decided is not None:
        return decided
    # The statement's snapshot showed the question open: it lost to a claim in flight then
    # (every loser of a crowd claiming one question at once). Read it again, on the loop,
    # to name who won; only a person the question was open to and who may not take it goes
    # to a thread, for the reasons.
    reread = await _built(_rereads, _reread_statement, question_id)
    now_row = await fetch_report_on_loop(reread)
    if now_row is None:
        return _not_found(question_id)
    lost = _lost_from(now_row, user, now)
    if lost is not None:
        return lost
    return await sync_to_async(_why_not, thread_sensitive=False)(question_id, user, now)


def _decided(
    question_id: int,
    user: User,
    now: datetime,
    brand_id: int | None,
    until: datetime | None,
    row: dict[str, Any] | None,
) -> ClaimResult | None:
    """What the claim's statement says (its lease's end, the question's row as it was), or
    None when it found the question open to the claimer and still did not take it (the
    caller reads why: :func:`_why_not`)."""
    if not _ours(row, brand_id):
        return _not_found(question_id)
    if until is not None:
        return _won(question_id, user, row, until)
    return _lost_from(row, user, now)


def _ours(row: dict[str, Any] | None, brand_id: int | None) -> TypeGuard[dict[str, Any]]:
    """A question's row, and (``brand_id`` given) of that brand."""
    return row is not None and (brand_id is None or row["brand_id"] == brand_id)


def _not_found(question_id: int) -> ClaimResult:
    return ClaimResult(question_id, False, "not_found", message=_("No such question."))


def _claim_condition(table: str, user_id: int, now: datetime) -> tuple[str, list[Any]]:
    """What must hold of the question row in ``table`` for ``user_id`` to take it: not
    offered to someone else, and the person eligible (:func:`claim_eligibility_sql`)."""
    eligible_sql, eligible_params = claim_eligibility_sql(user_id, table, now)
    offer_open_sql = (
        f"({table}.offered_to_id IS NULL OR {table}.offered_to_id = %s "
        f"OR {table}.offer_expires_at < %s)"
    )
    when = connection.ops.adapt_datetimefield_value(now)
    return f"{offer_open_sql} AND {eligible_sql}", [user_id, when, *eligible_params]


def _claim_report(question_id: int, user_id: int) -> QuerySet[Question, dict[str, Any]]:
    """The question as a claim explains it (its holder, its offer), and the claimer's
    display name for a win."""
    report: QuerySet[Question, dict[str, Any]] = Question.objects.filter(pk=question_id).values(
        *_CLAIM_ROW,
        claimer_display=Subquery(
            Volunteer.objects.filter(user_id=user_id).values("display_name")[:1]
        ),
    )
    return report


# Stand-ins for the values of one claim: the statement is built once with them (its SQL
# depends on none of the values) and each claim puts its own in their places.
_ANY_QUESTION = -(10**15) - 1
_ANY_USER = -(10**15) - 2
_ANY_BRAND = -(10**15) - 3
_ANY_TIME = datetime(1901, 1, 1, tzinfo=UTC)
_statements: dict[str, ClaimStatement] = {}
_rereads: dict[str, ClaimStatement] = {}
_releases: dict[str, ClaimStatement] = {}


def _reread_statement(question_id: int) -> ClaimStatement:
    """The question's row as a lost claim explains it (``_CLAIM_ROW``), read afresh; built
    once per process with a stand-in, as the claim's statement is."""
    template = _rereads.get(connection.alias)
    if template is None:
        report = Question.objects.filter(pk=_ANY_QUESTION).values(*_CLAIM_ROW)
        sql, params = report.query.sql_with_params()
        columns = tuple(report.query.selected or ())  # the values' names, in order
        template = _rereads[connection.alias] = ClaimStatement(sql, tuple(params), columns)
    return _filled(template, {_ANY_QUESTION: question_id})


def _claim_statement(question_id: int, user_id: int, now: datetime) -> ClaimStatement:
    """The claim's one statement for these values (PostgreSQL). Building it costs more
    Python than running it (the report's query is compiled, the eligibility SQL put
    together), so it is built once per process with stand-ins."""
    template = _statements.get(connection.alias)
    if template is None:
        table = connection.ops.quote_name(Question._meta.db_table)
        template = claim_statement(
            _ANY_QUESTION,
            _ANY_USER,
            condition=_claim_condition(table, _ANY_USER, _ANY_TIME),
            lease_minutes=(_lease_minutes_sql(table), [_DEFAULT_LEASE_MINUTES]),
            report=_claim_report(_ANY_QUESTION, _ANY_USER),
            now=_ANY_TIME,
        )
        _statements[connection.alias] = template
    return _filled(template, {_ANY_QUESTION: question_id, _ANY_USER: user_id}, now)


def _harmless(build: Callable[[], ClaimStatement]) -> Callable[[], tuple[str, tuple[Any, ...]]]:
    """``build``'s statement as the loop's new connections prepare it: for ids no question
    or person has (``on_loop.NO_ONE``), so that a run of it reads or changes nothing."""

    def harmless() -> tuple[str, tuple[Any, ...]]:
        statement = build()
        return statement.sql, statement.params

    return harmless


def _filled(
    template: ClaimStatement, values: dict[int, int], now: datetime | None = None
) -> ClaimStatement:
    """``template`` (built with stand-ins) with ``values`` in the stand-ins' places, and
    ``now`` in ``_ANY_TIME``'s."""
    any_time = connection.ops.adapt_datetimefield_value(_ANY_TIME)
    when = connection.ops.adapt_datetimefield_value(now) if now is not None else None
    return ClaimStatement(
        template.sql,
        tuple(
            when
            if when is not None and isinstance(param, datetime) and param == any_time
            else values.get(param, param)
            if isinstance(param, int) and not isinstance(param, bool)
            else param
            for param in template.params
        ),
        template.columns,
    )


async def _built(
    templates: dict[str, ClaimStatement], build: Callable[..., ClaimStatement], *args: Any
) -> ClaimStatement:
    """``build(*args)``, on the loop once its template is in ``templates`` (filling it in
    reads nothing), else in a worker thread (the first build compiles queries)."""
    if connection.alias in templates:
        return build(*args)
    return await sync_to_async(build, thread_sensitive=False)(*args)


_DEFAULT_LEASE_MINUTES = RoutingSettings._meta.get_field("claim_lease_minutes").get_default()

# For on_loop.NO_ONE, not the stand-ins: those are beyond an integer's range, which the
# statement's casts refuse.
on_loop.prepare_on_connect(
    "claim", _harmless(lambda: _claim_statement(on_loop.NO_ONE, on_loop.NO_ONE, timezone.now()))
)
on_loop.prepare_on_connect("claim_reread", _harmless(lambda: _reread_statement(on_loop.NO_ONE)))


def _lease_minutes_sql(table: str) -> str:
    """The lease's length for the question row of ``table``: its brand's, else the
    default (a brand without a settings row)."""
    lease = "SELECT lease.claim_lease_minutes FROM routing_routingsettings lease"
    return f"COALESCE(({lease} WHERE lease.brand_id = {table}.brand_id), %s)"


def _won(question_id: int, user: User, row: dict[str, Any], until: datetime) -> ClaimResult:
    display = name_from(
        row["claimer_display"] or "", f"{user.first_name} {user.last_name}", user.username
    )
    return ClaimResult(question_id, True, "claimed", display, user.pk, until, _("You have it."))


def _settings_from(row: dict[str, Any]) -> RoutingSettings:
    settings = RoutingSettings(brand_id=row["brand_id"])
    if row["brand__routing_settings__max_open_claims"] is not None:
        settings.max_open_claims = row["brand__routing_settings__max_open_claims"]
        settings.claim_lease_minutes = row["brand__routing_settings__claim_lease_minutes"]
    return settings


def _why_not(question_id: int, user: User, now: datetime) -> ClaimResult:
    """Why a claim that found the question open to its claimer did not take it: someone
    was quicker (read afresh, to name them), or the person may not take it (each reason,
    from the eligibility index of one person, as the queue shows them)."""
    row = Question.objects.filter(pk=question_id).values(*_CLAIM_ROW).first()
    if row is None:
        return ClaimResult(question_id, False, "not_found", message=_("No such question."))
    lost = _lost_from(row, user, now)
    if lost is not None:
        return lost
    question = Question(
        pk=question_id,
        brand_id=row["brand_id"],
        lang=row["lang"],
        store_id=row["store_id"],
        topic_id=row["topic_id"],
    )
    topic = None
    if row["topic_id"] is not None:
        topic = Topic(
            pk=row["topic_id"],
            brand_id=row["brand_id"],
            slug=row["topic__slug"],
            is_local=row["topic__is_local"],
        )
    index = EligibilityIndex.for_person(row["brand_id"], user, _settings_from(row), topic, now=now)
    eligible, refusals = index.is_eligible(user.pk, question)
    if not eligible:
        return ClaimResult(
            question_id,
            False,
            "not_eligible",
            message=crisis_refusal().message
            if "crisis_mode" in refusals
            else _("You may not claim this question now."),
            refusals=tuple(refusals),
        )
    return ClaimResult(
        question_id, False, "changed", message=_("The question changed meanwhile; look again.")
    )


def _lost_from(row: dict[str, Any], user: User, now: datetime) -> ClaimResult | None:
    """Why ``user`` cannot have the question in ``row`` (None: it is there to take)."""
    question_id = row["pk"]
    state = row["state"]
    holder_id = row["claimed_by_id"]
    if state == QuestionState.QUEUED:
        offered_to = row["offered_to_id"]
        expires = row["offer_expires_at"]
        if offered_to is None or offered_to == user.pk or (expires is not None and expires < now):
            return None
        return ClaimResult(
            question_id,
            False,
            "offered_to_someone_else",
            message=_("This question is offered to someone else for a moment."),
        )
    if holder_id is not None:
        holder = name_from(
            row["claimed_by__volunteer__display_name"] or "",
            f"{row['claimed_by__first_name']} {row['claimed_by__last_name']}",
            row["claimed_by__username"],
        )
        return _taken_by(question_id, holder, holder_id, row["lease_expires_at"])
    return ClaimResult(
        question_id,
        False,
        "not_queued",
        message=_("This question is %(state)s, not in the queue.") % {"state": state},
    )


def _taken_by(question_id: int, holder: str, holder_id: int, until: datetime | None) -> ClaimResult:
    """A lost claim: ``holder`` has the question (until ``until``)."""
    when = formats.time_format(timezone.localtime(until), "H:i") if until else ""
    message = (
        _("Already claimed by %(holder)s (until %(until)s).") % {"holder": holder, "until": when}
        if when
        else _("Already claimed by %(holder)s.") % {"holder": holder}
    )
    return ClaimResult(question_id, False, "already_claimed", holder, holder_id, until, message)


def renew_lease(question_id: int, user: User, *, now: datetime | None = None) -> datetime:
    """Extend the holder's lease by the brand's lease length; returns the new end. A lapsed
    lease is not renewed (the question is on its way back to the queue), nor the lease of a
    holder the gate no longer lets claim."""
    now = now or timezone.now()
    question = get_question(question_id)
    gate = may_claim(user, question.brand_id, now=now)
    if not gate.allowed:  # suspended, or the charter or training lapsed: typing keeps nothing
        raise ClaimError(
            "not_allowed",
            _("You may not keep this question: %(why)s")
            % {"why": "; ".join(reason.message for reason in gate.reasons)},
        )
    until = now + timedelta(minutes=routing_settings_for(question.brand_id).claim_lease_minutes)
    renewed = Question.objects.filter(
        pk=question_id,
        claimed_by=user.pk,
        state__in=OPEN_CLAIM_STATES,
        lease_expires_at__gt=now,
    ).update(lease_expires_at=until)
    if not renewed:
        raise ClaimError("not_holder", _("You do not hold this question (or the claim lapsed)."))
    return until


RELEASED = "question.released"


def release_question(question_id: int, user: User, *, now: datetime | None = None) -> None:
    """The holder hands the question back to the queue (its pool)."""
    now = now or timezone.now()
    question = get_question(question_id)
    if question.claimed_by_id != user.pk or question.state not in OPEN_CLAIM_STATES:
        raise ClaimError("not_holder", _("You do not hold this question."))
    back_to_queue(question, now, RELEASED, actor=user, data={"holder_id": user.pk})


async def release_question_on_loop(question_id: int, user: User, *, brand_id: int) -> bool:
    """:func:`release_question` awaited on the event loop (PostgreSQL, ``helpdesk.on_loop``,
    which the caller joined), for the live queue's socket: one statement that decides and
    moves, with the same audit row and announcement. Whether the question went back; when
    not (no such question of ``brand_id``, not the person's, or moved meanwhile), nothing
    changed, and :func:`release_question` says why."""
    statement = await _built(
        _releases, _release_statement, question_id, user.pk, brand_id, timezone.now()
    )
    return await moved_on_loop(statement, question_id, user.pk, RELEASED) is not None


def _release_statement(
    question_id: int, user_id: int, brand_id: int, now: datetime
) -> ClaimStatement:
    """The holder's release as one statement (PostgreSQL): from whichever open claim's
    state it is in back to ``queued``, the claim's columns cleared (``UNCLAIMED``), only by
    its holder and in ``brand_id``; the audit row names the holder as the thread's does.
    Built once per process with stand-ins, as the claim's statement is."""
    template = _releases.get(connection.alias)
    if template is None:
        table = Question._meta.db_table
        sql, params = move_statement(
            _ANY_QUESTION,
            QuestionState.QUEUED,
            from_states=OPEN_CLAIM_STATES,
            kind=RELEASED,
            actor_id=_ANY_USER,
            fields=(unclaimed_sql(), []),
            condition=(
                f"{table}.claimed_by_id = CAST(%s AS bigint) "
                f"AND {table}.brand_id = CAST(%s AS bigint)",
                [_ANY_USER, _ANY_BRAND],
            ),
            data=("JSONB_BUILD_OBJECT('holder_id', CAST(%s AS bigint))", [_ANY_USER]),
            now=_ANY_TIME,
        )
        template = _releases[connection.alias] = ClaimStatement(
            f"{sql} SELECT moved.brand_id, moved.from_state FROM moved",  # noqa: S608 - ours
            tuple(params),
            ("brand_id", "from_state"),
        )
    return _filled(
        template, {_ANY_QUESTION: question_id, _ANY_USER: user_id, _ANY_BRAND: brand_id}, now
    )


on_loop.prepare_on_connect(
    "release",
    _harmless(
        lambda: _release_statement(on_loop.NO_ONE, on_loop.NO_ONE, on_loop.NO_ONE, timezone.now())
    ),
)


def expire_leases(now: datetime | None = None) -> int:
    """Put every question whose lease lapsed back in the queue, with a
    ``question.lease_lapsed`` event naming the former holder. Returns how many."""
    now = now or timezone.now()
    lapsed = 0
    for state in OPEN_CLAIM_STATES:
        with transaction.atomic(durable=True):
            rows = list(
                Question.objects.select_for_update(skip_locked=True)
                .filter(state=state, lease_expires_at__lt=now)
                .values_list("pk", "claimed_by_id", "lease_expires_at")
            )
            lapsed += len(
                move_questions(
                    [pk for pk, _holder, _until in rows],
                    state,
                    QuestionState.QUEUED,
                    kind="question.lease_lapsed",
                    actor_label="system:lease",
                    data={
                        pk: {
                            "holder_id": holder_id,
                            "lease_expired_at": until.isoformat() if until else None,
                        }
                        for pk, holder_id, until in rows
                    },
                    fields={"claimed_by": None, "claimed_at": None, "lease_expires_at": None},
                    where=Q(lease_expires_at__lt=now),
                    now=now,
                    announce_as="questions.lease_lapsed",
                )
            )
    return lapsed


def get_question(question_id: int) -> Question:
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        raise ClaimError("not_found", _("No such question."))
    return question


def back_to_queue(
    question: Question, now: datetime, kind: str, *, actor: User, data: dict[str, Any]
) -> None:
    with transaction.atomic(durable=True):  # an entry point: its own transaction
        moved = move_question(
            question,
            QuestionState.QUEUED,
            kind=kind,
            actor=actor,
            data=data,
            fields=UNCLAIMED,
            where=Q(claimed_by=question.claimed_by_id),
            now=now,
        )
    if not moved:
        raise ClaimError("changed", _("The question changed meanwhile; look again."))
