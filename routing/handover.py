"""What a supervisor does with someone else's question: take it back from its holder, give it
to another person, or escalate it to the brand's care team (the holder may escalate too).
One rule decides who may (``helpdesk.permissions.supervisor_of``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import events, record
from helpdesk.models import Question, Volunteer
from helpdesk.moves import UNCLAIMED, claimed_fields, move_question
from helpdesk.permissions import supervisor_of
from helpdesk.states import QuestionState, check_question_transition
from routing.claims import ClaimError, back_to_queue, get_question
from routing.eligibility import OPEN_CLAIM_STATES, EligibilityIndex

ESCALATABLE_STATES = (
    QuestionState.QUEUED,
    QuestionState.CLAIMED,
    QuestionState.DRAFTING,
    QuestionState.IN_REVIEW,
)


def release_for_holder(
    question_id: int, by_supervisor: User, *, now: datetime | None = None
) -> None:
    """A supervisor or admin of the brand takes a question back from whoever holds it (for
    example someone who left the store without handing it back) and returns it to the
    queue. Only supervisors of the holder's store may, as for reassignment."""
    now = now or timezone.now()
    question = get_question(question_id)
    if supervisor_of(by_supervisor, question.brand_id, _holder(question)) is None:
        raise ClaimError("forbidden", _("Only a supervisor of the holder may release this claim."))
    if question.claimed_by_id is None or question.state not in OPEN_CLAIM_STATES:
        raise ClaimError("not_claimed", _("Nobody holds this question."))
    back_to_queue(
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
    question = get_question(question_id)
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
    with transaction.atomic(durable=True):  # an entry point: its own transaction
        moved = move_question(
            question,
            to_state,
            kind="question.reassigned",
            actor=by_supervisor,
            data={"from_user_id": question.claimed_by_id, "to_user_id": to_user.pk},
            fields=claimed_fields(to_user, now, until),
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
    question = get_question(question_id)
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
    with transaction.atomic(durable=True):  # an entry point: its own transaction
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


def _holder(question: Question) -> Volunteer | None:
    if question.claimed_by_id is None:
        return None
    return Volunteer.objects.select_related("store").filter(user_id=question.claimed_by_id).first()


def escalations_of(supervisor: Volunteer) -> list[Question]:
    """The brand's escalated questions a supervisor has not closed, oldest first."""
    return list(
        Question.objects.filter(
            brand_id=supervisor.brand_id,
            state=QuestionState.ESCALATED,
            escalation_closed_at__isnull=True,
        )
        .select_related("customer", "conversation")
        .order_by("state_changed_at", "pk")
    )


@dataclass(frozen=True)
class EscalationNote:
    """A question's last escalation: the note, who escalated it, and when."""

    note: str
    actor_id: int | None
    at: datetime


def escalation_notes(question_ids: list[int]) -> dict[int, EscalationNote]:
    """Each question's last escalation."""
    found: dict[int, EscalationNote] = {}
    for question_id, actor_id, at, data in (
        events()
        .filter(question_id__in=question_ids, to_state=QuestionState.ESCALATED)
        .order_by("created_at", "pk")
        .values_list("question_id", "actor_id", "created_at", "data")
    ):
        found[question_id] = EscalationNote(str((data or {}).get("note", "")), actor_id, at)
    return found


def return_escalated(question_id: int, by_user: User, *, now: datetime | None = None) -> None:
    """A supervisor of the brand sends an escalated question back to the desk's queue (the
    care team gave it back, or it was escalated by mistake)."""
    now = now or timezone.now()
    question = get_question(question_id)
    if supervisor_of(by_user, question.brand_id) is None:
        raise ClaimError("forbidden", _("Only a supervisor of the brand may do this."))
    if question.state != QuestionState.ESCALATED:
        raise ClaimError("not_escalated", _("This question is not escalated."))
    with transaction.atomic(durable=True):
        moved = move_question(
            question,
            QuestionState.QUEUED,
            kind="question.returned_from_escalation",
            actor=by_user,
            fields={
                **UNCLAIMED,
                "escalation_closed_at": None,
                "escalation_closed_by": None,
            },
            now=now,
        )
    if not moved:
        raise ClaimError("changed", _("The question changed meanwhile; look again."))


def close_escalation(
    question_id: int, by_user: User, *, note: str = "", now: datetime | None = None
) -> None:
    """A supervisor of the brand takes an escalated question off the desk's list: the care
    team has it. It stays escalated (the reports count it so); the closing is audited."""
    now = now or timezone.now()
    question = get_question(question_id)
    if supervisor_of(by_user, question.brand_id) is None:
        raise ClaimError("forbidden", _("Only a supervisor of the brand may do this."))
    with transaction.atomic(durable=True):
        closed = Question.objects.filter(
            pk=question.pk, state=QuestionState.ESCALATED, escalation_closed_at__isnull=True
        ).update(escalation_closed_at=now, escalation_closed_by=by_user)
        if not closed:
            raise ClaimError("changed", _("This escalation is already closed or moved."))
        record(
            "question.escalation_closed",
            actor=by_user,
            question=question,
            data={"note": note.strip()},
            at=now,
        )
