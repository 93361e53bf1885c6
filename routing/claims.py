"""Claims and leases: who is answering a question, for how long, and handing it on.

A claim is one conditional ``UPDATE ... WHERE state = 'queued'``: its row count says who
won, whatever the concurrency (DESIGN invariant 2). The claim is a lease renewed while the
volunteer types; a lapsed lease puts the question back in the queue and says so in the audit
log. Every move is checked against the question's transition table, writes an audit event in
the same transaction, and is announced after commit.

Renewals write no audit event: they happen every few seconds while someone types, and the
lease's end is on the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from helpdesk.audit import events
from helpdesk.models import Question, Volunteer
from helpdesk.moves import move_question, move_questions
from helpdesk.permissions import supervisor_of
from helpdesk.states import QuestionState, check_question_transition
from routing.eligibility import OPEN_CLAIM_STATES, EligibilityIndex
from routing.models import RoutingSettings, Topic
from routing.presence import routing_settings_for

ESCALATABLE_STATES = (
    QuestionState.QUEUED,
    QuestionState.CLAIMED,
    QuestionState.DRAFTING,
    QuestionState.IN_REVIEW,
)


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


def claim_question(question_id: int, user: User, *, now: datetime | None = None) -> ClaimResult:
    """Claim a queued question. Refused (and nothing written) unless the person may take it
    now: gate, shift, cap, language, skill, store. Of any number of concurrent claimers
    exactly one wins; the others learn who holds it.

    A question already out of the queue (or offered to someone else) is answered from one
    read before the eligibility check: nothing is written either way, and the person learns
    who has it. The claim path is a handful of statements: the question with its topic, its
    brand's settings and its holder; the person with their shift and open claims; the gate
    (charter's three reads); the conditional update and the audit row."""
    now = now or timezone.now()
    row = Question.objects.filter(pk=question_id).values(*_CLAIM_ROW).first()
    if row is None:
        return ClaimResult(question_id, False, "not_found", message=_("No such question."))
    lost = _lost_from(row, user, now)
    if lost is not None:
        return lost
    settings = RoutingSettings(brand_id=row["brand_id"])
    if row["brand__routing_settings__max_open_claims"] is not None:
        settings.max_open_claims = row["brand__routing_settings__max_open_claims"]
        settings.claim_lease_minutes = row["brand__routing_settings__claim_lease_minutes"]
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
    index = EligibilityIndex.for_person(row["brand_id"], user, settings, topic, now=now)
    eligible, refusals = index.is_eligible(user.pk, question)
    if not eligible:
        return ClaimResult(
            question_id,
            False,
            "not_eligible",
            message=_("You may not claim this question now."),
            refusals=tuple(refusals),
        )
    lease = timedelta(minutes=settings.claim_lease_minutes)
    won = move_question(
        question,
        QuestionState.CLAIMED,
        from_state=QuestionState.QUEUED,
        actor=user,
        data={"lease_expires_at": (now + lease).isoformat()},
        fields={
            "claimed_by": user,
            "claimed_at": now,
            "lease_expires_at": now + lease,
            "offered_to": None,
            "offer_expires_at": None,
        },
        where=Q(offered_to__isnull=True) | Q(offered_to=user.pk) | Q(offer_expires_at__lt=now),
        now=now,
    )
    if won:
        display = index.people[user.pk].display
        return ClaimResult(
            question_id, True, "claimed", display, user.pk, now + lease, _("You have it.")
        )
    row = Question.objects.filter(pk=question_id).values(*_CLAIM_ROW).get()
    return _lost_from(row, user, now) or ClaimResult(
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
        holder = (
            row["claimed_by__volunteer__display_name"]
            or f"{row['claimed_by__first_name']} {row['claimed_by__last_name']}".strip()
            or row["claimed_by__username"]
        )
        until = row["lease_expires_at"]
        when = formats.time_format(timezone.localtime(until), "H:i") if until else ""
        message = (
            _("Already claimed by %(holder)s (until %(until)s).")
            % {"holder": holder, "until": when}
            if when
            else _("Already claimed by %(holder)s.") % {"holder": holder}
        )
        return ClaimResult(question_id, False, "already_claimed", holder, holder_id, until, message)
    return ClaimResult(
        question_id,
        False,
        "not_queued",
        message=_("This question is %(state)s, not in the queue.") % {"state": state},
    )


def renew_lease(question_id: int, user: User, *, now: datetime | None = None) -> datetime:
    """Extend the holder's lease by the brand's lease length; returns the new end. A lapsed
    lease is not renewed: the question is on its way back to the queue."""
    now = now or timezone.now()
    question = _get(question_id)
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


def release_question(question_id: int, user: User, *, now: datetime | None = None) -> None:
    """The holder hands the question back to the queue (its pool)."""
    now = now or timezone.now()
    question = _get(question_id)
    if question.claimed_by_id != user.pk or question.state not in OPEN_CLAIM_STATES:
        raise ClaimError("not_holder", _("You do not hold this question."))
    _back_to_queue(question, now, "question.released", actor=user, data={"holder_id": user.pk})


def release_for_holder(
    question_id: int, by_supervisor: User, *, now: datetime | None = None
) -> None:
    """A supervisor or admin of the brand takes a question back from whoever holds it (for
    example someone who left the store without handing it back) and returns it to the
    queue. Only supervisors of the holder's store may, as for reassignment."""
    now = now or timezone.now()
    question = _get(question_id)
    if supervisor_of(by_supervisor, question.brand_id, _holder(question)) is None:
        raise ClaimError("forbidden", _("Only a supervisor of the holder may release this claim."))
    if question.claimed_by_id is None or question.state not in OPEN_CLAIM_STATES:
        raise ClaimError("not_claimed", _("Nobody holds this question."))
    _back_to_queue(
        question,
        now,
        "question.released",
        actor=by_supervisor,
        data={"holder_id": question.claimed_by_id, "by_supervisor": True},
    )


def reassign_question(
    question_id: int, to_user: User, by_supervisor: User, *, now: datetime | None = None
) -> None:
    """A supervisor or admin of the brand gives the question to ``to_user``, who must be
    eligible for it. A queued question becomes claimed; a claimed or drafting one keeps its
    state and changes hands (the table has no drafting -> claimed move)."""
    now = now or timezone.now()
    question = _get(question_id)
    target = Volunteer.objects.select_related("store").filter(user_id=to_user.pk).first()
    if target is None or supervisor_of(by_supervisor, question.brand_id, target) is None:
        raise ClaimError("forbidden", _("Only a supervisor of this person may reassign to them."))
    if supervisor_of(by_supervisor, question.brand_id, _holder(question)) is None:
        raise ClaimError(
            "forbidden", _("Only a supervisor of the holder may take this question from them.")
        )
    index = EligibilityIndex.build(question.brand_id, user_ids=[to_user.pk], fresh_gate=True)
    eligible, refusals = index.is_eligible(to_user.pk, question)
    if not eligible:
        raise ClaimError(
            "not_eligible", _("They may not take it: %(why)s") % {"why": ", ".join(refusals)}
        )
    from_state = question.state
    to_state = QuestionState.CLAIMED if from_state == QuestionState.QUEUED else from_state
    if from_state not in (QuestionState.QUEUED, *OPEN_CLAIM_STATES):
        raise ClaimError(
            "not_open",
            _("A question that is %(state)s cannot be reassigned.") % {"state": from_state},
        )
    until = now + timedelta(minutes=index.settings.claim_lease_minutes)
    moved = move_question(
        question,
        to_state,
        kind="question.reassigned",
        actor=by_supervisor,
        data={"from_user_id": question.claimed_by_id, "to_user_id": to_user.pk},
        fields={
            "claimed_by": to_user,
            "claimed_at": now,
            "lease_expires_at": until,
            "offered_to": None,
            "offer_expires_at": None,
        },
        where=Q(claimed_by=question.claimed_by_id),
        now=now,
        user_id=to_user.pk,
    )
    if not moved:
        raise ClaimError("changed", _("The question changed meanwhile; look again."))


def escalate_question(
    question_id: int, by_user: User, note: str, *, now: datetime | None = None
) -> None:
    """Hand the question to the brand's official care team, with the whole thread and what
    was tried. The holder or a supervisor of the brand may; the note is required."""
    now = now or timezone.now()
    note = note.strip()
    if not note:
        raise ClaimError("note_required", _("Say what was tried and why it goes to the care team."))
    question = _get(question_id)
    is_supervisor = supervisor_of(by_user, question.brand_id) is not None
    if question.claimed_by_id != by_user.pk and not is_supervisor:
        raise ClaimError("forbidden", _("Only the holder or a supervisor may escalate."))
    from_state = question.state
    if from_state not in ESCALATABLE_STATES:
        raise ClaimError(
            "not_open",
            _("A question that is %(state)s cannot be escalated.") % {"state": from_state},
        )
    check_question_transition(from_state, QuestionState.ESCALATED)  # before reading the thread
    thread = [
        {
            "question_id": pk,
            "tweet_id": tweet_id,
            "text": text,
            "received_at": received_at.isoformat(),
            "state": state,
        }
        for pk, tweet_id, text, received_at, state in Question.objects.filter(
            conversation_id=question.conversation_id
        )
        .order_by("received_at", "pk")
        .values_list("pk", "tweet_id", "text", "received_at", "state")
    ]
    tried = [
        {"kind": kind, "actor_id": actor_id, "at": at.isoformat(), "data": data}
        for kind, actor_id, at, data in events()
        .filter(question_id=question_id)
        .order_by("created_at", "pk")
        .values_list("kind", "actor_id", "created_at", "data")
    ]
    moved = move_question(
        question,
        QuestionState.ESCALATED,
        actor=by_user,
        data={"note": note, "thread": thread, "tried": tried},
        fields={"lease_expires_at": None, "offered_to": None, "offer_expires_at": None},
        now=now,
    )
    if not moved:
        raise ClaimError("changed", _("The question changed meanwhile; look again."))


def expire_leases(now: datetime | None = None) -> int:
    """Put every question whose lease lapsed back in the queue, with a
    ``question.lease_lapsed`` event naming the former holder. Returns how many."""
    now = now or timezone.now()
    lapsed = 0
    for state in OPEN_CLAIM_STATES:
        with transaction.atomic():
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


def _holder(question: Question) -> Volunteer | None:
    if question.claimed_by_id is None:
        return None
    return Volunteer.objects.select_related("store").filter(user_id=question.claimed_by_id).first()


def _get(question_id: int) -> Question:
    question = Question.objects.filter(pk=question_id).first()
    if question is None:
        raise ClaimError("not_found", _("No such question."))
    return question


def _back_to_queue(
    question: Question, now: datetime, kind: str, *, actor: User, data: dict[str, Any]
) -> None:
    moved = move_question(
        question,
        QuestionState.QUEUED,
        kind=kind,
        actor=actor,
        data=data,
        fields={
            "claimed_by": None,
            "claimed_at": None,
            "lease_expires_at": None,
            "offered_to": None,
            "offer_expires_at": None,
        },
        where=Q(claimed_by=question.claimed_by_id),
        now=now,
    )
    if not moved:
        raise ClaimError("changed", _("The question changed meanwhile; look again."))
