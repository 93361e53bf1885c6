"""A supervisor's bulk triage of the brand's waiting questions: dismiss many with a reason,
give many to one person who may take them, or merge a customer's duplicates into one.

Only queued questions are triaged; one that changed meanwhile (someone claimed it) is
skipped and said so. Each action is one transaction through
:func:`helpdesk.moves.move_questions` (the table checked, one audit row per question, one
announcement of the ids that moved once it commits). A merge dismisses the duplicates with
a reason naming the kept question (:func:`merged_reason`), so the existing undo of a
dismissal puts one back, and the kept question lists what is still merged into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import record
from helpdesk.models import Question, Volunteer
from helpdesk.moves import UNCLAIMED, claimed_fields, move_questions
from helpdesk.permissions import supervisor_of
from helpdesk.states import QuestionState, check_question_transition
from routing.eligibility import EligibilityIndex

MAX_REASON_CHARS = 200  # the width of ``Question.dismissed_reason``
# The most questions one bulk action takes (a page shows fewer).
MAX_TRIAGED = 500
# The states in which a question still waits for a first answer, as the triage page shows
# them; only the queued ones are triaged.
WAITING_STATES = (QuestionState.QUEUED, QuestionState.CLAIMED, QuestionState.DRAFTING)


class TriageError(ValueError):
    """A bulk action refused as a whole (nothing changed); ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TriageOutcome:
    """The questions the action moved, and those it skipped because they were no longer
    queued (claimed, dismissed or answered meanwhile), both in the order asked."""

    done: list[int]
    skipped: list[int] = field(default_factory=list)
    kept: int | None = None


def merged_reason(kept_id: int) -> str:
    """The dismissal reason of a duplicate merged into question ``kept_id``. It is stored,
    read back by :func:`merged_into` and counted by the reports, so it stays one fixed
    text whatever the supervisor's language (pages translate it when they show it)."""
    return f"merged into #{kept_id}"


def merged_into(question: Question) -> QuerySet[Question]:
    """The customer's questions still merged into ``question`` (a restored one is not)."""
    if question.customer_id is None:
        return Question.objects.none()
    return Question.objects.filter(
        brand_id=question.brand_id,
        customer_id=question.customer_id,
        state=QuestionState.DISMISSED,
        dismissed_reason=merged_reason(question.pk),
    ).order_by("received_at", "pk")


def dismiss_questions(
    brand_id: int,
    ids: Sequence[int],
    reason: str,
    *,
    by: User,
    now: datetime | None = None,
) -> TriageOutcome:
    """Dismiss the brand's queued questions among ``ids`` with ``reason`` (required, kept in
    ``dismissed_reason`` as every dismissal's is). Another brand's ids are left alone."""
    _require_supervisor(by, brand_id)
    reason = " ".join(reason.split())
    if not reason:
        raise TriageError("reason_required", _("Say why the questions are dismissed."))
    if len(reason) > MAX_REASON_CHARS:
        raise TriageError(
            "reason_too_long",
            _("Keep the reason under %(count)d characters.") % {"count": MAX_REASON_CHARS},
        )
    wanted = own_ids(brand_id, ids)
    with transaction.atomic(durable=True):  # an entry point: its own transaction
        moved = move_questions(
            wanted,
            QuestionState.QUEUED,
            QuestionState.DISMISSED,
            kind="question.dismissed",
            actor=by,
            data={pk: {"reason": reason, "bulk": True} for pk in wanted},
            fields={**UNCLAIMED, "dismissed_reason": reason},
            where=Q(brand_id=brand_id),
            now=now,
            announce_as="questions.dismissed",
        )
    return _outcome(wanted, moved)


def assign_questions(
    brand_id: int,
    ids: Sequence[int],
    to_user: User,
    *,
    by: User,
    now: datetime | None = None,
) -> TriageOutcome:
    """Give the brand's queued questions among ``ids`` to ``to_user``, as claims held on
    their behalf (the lease as a claim's). The supervisor must supervise them, and they
    must be eligible for every one of the questions (on shift, the gate, the cap on open
    claims counting these, crisis, language, skill, store): else nothing changes and the
    error says why."""
    now = now or timezone.now()
    _require_supervisor(by, brand_id)
    target = Volunteer.objects.select_related("store").filter(user_id=to_user.pk).first()
    if target is None or supervisor_of(by, brand_id, target) is None:
        raise TriageError(
            "forbidden", _("Only a supervisor of this person may give them questions.")
        )
    wanted = own_ids(brand_id, ids)
    queued = list(Question.objects.filter(pk__in=wanted, state=QuestionState.QUEUED).order_by("pk"))
    index = EligibilityIndex.build(brand_id, user_ids=[to_user.pk], fresh_gate=True, now=now)
    refusals: dict[str, list[int]] = {}
    for question in queued:
        eligible, reasons = index.is_eligible(to_user.pk, question)
        if eligible:
            index.count_claim(to_user.pk)
        for reason in reasons:
            refusals.setdefault(reason, []).append(question.pk)
    if refusals:
        why = "; ".join(
            f"{reason} (#{', #'.join(str(pk) for pk in pks)})" for reason, pks in refusals.items()
        )
        raise TriageError(
            "not_eligible", _("They may not take these questions: %(why)s") % {"why": why}
        )
    until = now + timedelta(minutes=index.settings.claim_lease_minutes)
    data = {q.pk: {"from_user_id": None, "to_user_id": to_user.pk, "bulk": True} for q in queued}
    with transaction.atomic(durable=True):
        moved = move_questions(
            [q.pk for q in queued],
            QuestionState.QUEUED,
            QuestionState.CLAIMED,
            kind="question.reassigned",
            actor=by,
            data=data,
            fields=claimed_fields(to_user, now, until),
            where=Q(brand_id=brand_id),
            now=now,
            announce_as="questions.assigned",
        )
    return _outcome(wanted, moved)


def merge_questions(
    brand_id: int,
    ids: Sequence[int],
    *,
    by: User,
    keep: int | None = None,
    now: datetime | None = None,
) -> TriageOutcome:
    """Merge one customer's duplicates: keep ``keep`` (one of the customer's waiting
    questions; by default the earliest of ``ids``) and dismiss the queued others among
    ``ids`` with :func:`merged_reason`. The kept question's audit row lists what was merged
    into it. Questions of several customers, or fewer than two, are refused."""
    now = now or timezone.now()
    _require_supervisor(by, brand_id)
    check_question_transition(QuestionState.QUEUED, QuestionState.DISMISSED)
    wanted = own_ids(brand_id, ids)
    chosen = list(
        Question.objects.filter(
            Q(pk__in=wanted) | Q(pk=keep or 0), brand_id=brand_id, state__in=WAITING_STATES
        )
        .order_by("received_at", "pk")
        .values_list("pk", "customer_id", "state")
    )
    customers = {customer_id for _pk, customer_id, _state in chosen}
    if len(customers) > 1 or None in customers:
        raise TriageError(
            "several_customers", _("Only one customer's questions can be merged together.")
        )
    kept = keep if keep is not None else next(iter(pk for pk, *_ in chosen), None)
    if kept is None or kept not in {pk for pk, *_ in chosen}:
        raise TriageError(
            "no_kept_question",
            _("The question to keep must be one of this customer's waiting questions."),
        )
    others = [pk for pk in wanted if pk != kept]
    if not others:
        raise TriageError("nothing_to_merge", _("Tick at least two questions of the customer."))
    reason = merged_reason(kept)
    with transaction.atomic(durable=True):
        moved = move_questions(
            others,
            QuestionState.QUEUED,
            QuestionState.DISMISSED,
            kind="question.merged",
            actor=by,
            data={pk: {"reason": reason, "merged_into": kept} for pk in others},
            fields={**UNCLAIMED, "dismissed_reason": reason},
            where=Q(brand_id=brand_id, customer_id__in=customers),
            now=now,
            announce_as="questions.dismissed",
        )
        if moved:
            record(
                "question.duplicates_merged",
                actor=by,
                brand_id=brand_id,
                question=Question.objects.get(pk=kept),
                data={"merged": moved},
                at=now,
            )
    outcome = _outcome(others, moved)
    return TriageOutcome(outcome.done, outcome.skipped, kept=kept)


def _require_supervisor(user: User, brand_id: int) -> None:
    if supervisor_of(user, brand_id) is None:
        raise TriageError("forbidden", _("Only a supervisor of the brand may do this."))


def own_ids(brand_id: int, ids: Sequence[int]) -> list[int]:
    """The ids of ``ids`` that are the brand's questions, in the order asked, each once;
    another brand's are dropped as if they did not exist."""
    asked = list(dict.fromkeys(ids))[:MAX_TRIAGED]
    own = set(Question.objects.filter(pk__in=asked, brand_id=brand_id).values_list("pk", flat=True))
    return [pk for pk in asked if pk in own]


def _outcome(wanted: list[int], moved: list[int]) -> TriageOutcome:
    done = set(moved)
    return TriageOutcome(
        done=[pk for pk in wanted if pk in done], skipped=[pk for pk in wanted if pk not in done]
    )
