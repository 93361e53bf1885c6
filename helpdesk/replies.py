"""Replies: submit through the gate, review (approve, edit, reject, bulk), moderation, and
where a queued reply stands in its account's send queue.

Every action validates, locks the rows it changes and moves them through
:mod:`helpdesk.moves` (the state tables, the audit row, the announcement after commit). Approval
(or a direct send) puts the reply in state ``queued`` in the same transaction: that row is
the outbox, which ``helpdesk.x.posting`` sends.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.gate import lint_config_for, may_claim, may_send
from charter.linter import Severity, lint
from charter.models import LinkedXAccount
from charter.standing import StandingError, record_review_outcome
from helpdesk.linking import LinkError
from helpdesk.models import Brand, Question, Reply, Volunteer, XAccount
from helpdesk.moves import announce_reply, move_question, move_reply
from helpdesk.permissions import SUPERVISING_ROLES, volunteer_for
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import gateway, posting
from routing.claims import ClaimError, release_question

log = logging.getLogger(__name__)

SUBMITTABLE_STATES = (QuestionState.CLAIMED, QuestionState.DRAFTING)
DEFAULT_LEASE_MINUTES = 10


class ReplyError(ValueError):
    """An action on a reply that does not apply; ``code`` names why and ``reasons`` carry
    the gate's or the linter's explanations."""

    def __init__(self, code: str, message: str, reasons: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reasons = list(reasons)


# --- helpers ---------------------------------------------------------------------------------


def state_label(reply: Reply) -> str:
    """The reply's state as people read it in a sentence, in the active language."""
    return str(ReplyState(reply.state).label).lower()


def brand_handles(brand_id: int) -> tuple[str, ...]:
    return tuple(XAccount.objects.filter(brand_id=brand_id).values_list("username", flat=True))


def account_for(question: Question) -> XAccount:
    """The care account that answers: the one the customer mentioned, else the brand's first
    active account in the question's language, else its first active account."""
    if question.account_id is not None:
        mentioned = XAccount.objects.filter(pk=question.account_id, is_active=True).first()
        if mentioned is not None:
            return mentioned
    active = XAccount.objects.filter(brand_id=question.brand_id, is_active=True).order_by("pk")
    language = (question.lang or "").split("-")[0]
    chosen = (active.filter(language=language).first() if language else None) or active.first()
    if chosen is None:
        raise ReplyError("no_account", _("The brand has no active care account to reply from."))
    return chosen


def _signature(user_id: int, brand_id: int) -> str:
    found = Volunteer.objects.filter(user_id=user_id, brand_id=brand_id).values_list(
        "signature", flat=True
    )
    return found.first() or ""


def _moved(moved: bool) -> None:
    """The rows are locked, so a move that did not happen means they changed before the
    lock: refuse, and the transaction writes nothing."""
    if not moved:
        raise ReplyError("changed", _("The question changed meanwhile; look again."))


def move_locked_question(
    question: Question,
    to_state: str,
    *,
    actor: User,
    data: dict[str, Any],
    **fields: Any,
) -> None:
    """Move a locked question along the table; the reply's own event announces it."""
    _moved(move_question(question, to_state, actor=actor, data=data, fields=fields, announce=False))


def move_locked_reply(
    reply: Reply, to_state: str, kind: str, *, actor: User, data: dict[str, Any], **fields: Any
) -> None:
    """Move a locked reply along the table (the caller saves what else it changed)."""
    _moved(move_reply(reply, to_state, kind=kind, actor=actor, data=data, fields=fields))


def _queue(reply: Reply, *, actor: User) -> None:
    now = timezone.now()
    move_locked_reply(
        reply,
        ReplyState.QUEUED,
        "reply.queued",
        actor=actor,
        data={},
        queued_at=now,
        scheduled_for=now,
    )


def require_supervisor(user: User | AnonymousUser, brand_id: int) -> User:
    """The user, if they supervise (or administer) this brand; else a not-found error."""
    volunteer = volunteer_for(user)
    if (
        volunteer is None
        or volunteer.brand_id != brand_id
        or volunteer.role not in (SUPERVISING_ROLES)
    ):
        raise ReplyError("not_found", _("No such reply."))
    assert isinstance(user, User)
    return user


def lock_reply(reply: Reply) -> Reply:
    return Reply.objects.select_for_update().select_related("question").get(pk=reply.pk)


def lock_question(question_id: int) -> Question:
    return Question.objects.select_for_update().get(pk=question_id)


# --- submit ----------------------------------------------------------------------------------


# Gate refusals that say the person may not answer at all any more (not "this draft").
LAPSED_STANDING = frozenset(
    {
        "not_enrolled",
        "suspended",
        "no_charter",
        "charter_not_accepted",
        "training_incomplete",
        "training_expired",
    }
)


def linked_sender(author: User, brand_id: int) -> LinkedXAccount | None:
    """The author's linked X account if the brand lets volunteers reply from their own
    accounts and they linked one; else None (replies go from the care account)."""
    if not Brand.objects.filter(pk=brand_id, replies_from_linked_accounts=True).exists():
        return None
    return LinkedXAccount.objects.filter(user_id=author.pk).first()


def submit_reply(
    question: Question,
    author: User,
    text: str,
    *,
    language: str,
    from_linked_account: bool = False,
) -> Reply:
    """The claim holder submits a reply. The gate decides: refused (``ReplyError``,
    nothing written), to review (``pending_review``; the question goes ``in_review``), or
    straight to the outbox (``queued``; the question is ``approved``). With
    ``from_linked_account`` it goes from the author's linked X account, which the brand
    must allow."""
    text = text.strip()
    if not text:
        raise ReplyError("empty", _("Write a reply first."))
    now = timezone.now()
    question = Question.objects.select_related("customer").get(pk=question.pk)
    _check_holder(question, author, now)
    linked = linked_sender(author, question.brand_id) if from_linked_account else None
    if from_linked_account and linked is None:
        raise ReplyError(
            "no_linked_account",
            _("Replying from your own X account needs the brand's leave and a linked account."),
        )
    signature, store_id = (
        Volunteer.objects.filter(user_id=author.pk, brand_id=question.brand_id)
        .values_list("signature", "store_id")
        .first()
    ) or ("", None)
    number = Reply.objects.filter(question=question, author=author).count() + 1
    decision = may_send(
        author,
        question.brand_id,
        text,
        reply_key=f"q{question.pk}-u{author.pk}-{number}",
        signature=signature,
        customer_handle=question.customer.username if question.customer else "",
        brand_handles=brand_handles(question.brand_id),
        language=language,
        now=now,
    )
    if not decision.allowed:
        message = "; ".join(reason.message for reason in decision.reasons) or _("Not allowed.")
        if LAPSED_STANDING & set(decision.codes):
            # Their charter, training or standing lapsed while they held the question: they
            # cannot answer it, so it goes back to the queue for someone who can.
            with contextlib.suppress(ClaimError):
                release_question(question.pk, author, now=now)
                message += " " + _("The question went back to the queue.")
        raise ReplyError("refused", message, [reason.as_json() for reason in decision.reasons])
    account = account_for(question)
    with transaction.atomic():
        locked = lock_question(question.pk)
        _check_holder(locked, author, now)
        if locked.state == QuestionState.CLAIMED:
            move_locked_question(locked, QuestionState.DRAFTING, actor=author, data={})
        reply = Reply.objects.create(
            question=locked,
            author=author,
            account=account,
            store_id=store_id,
            text=text,
            language=language,
            state=ReplyState.DRAFT,
            submitted_at=now,
            needs_review=decision.needs_review,
            review_reasons=[reason.as_json() for reason in decision.reasons],
            lint=decision.lint.as_json() if decision.lint else {},
            priority=locked.priority,
            from_linked_account=linked is not None,
            from_x_user_id=linked.x_user_id if linked else "",
            from_username=linked.username if linked else "",
        )
        reasons = [reason.code for reason in decision.reasons]
        if decision.needs_review:
            move_locked_reply(
                reply,
                ReplyState.PENDING_REVIEW,
                "reply.submitted",
                actor=author,
                data={"review_reasons": reasons},
            )
            reply.save()
            move_locked_question(locked, QuestionState.IN_REVIEW, actor=author, data=_ref(reply))
        else:
            move_locked_reply(reply, ReplyState.APPROVED, "reply.submitted", actor=author, data={})
            _queue(reply, actor=author)
            reply.save()
            move_locked_question(
                locked,
                QuestionState.APPROVED,
                actor=author,
                data=_ref(reply),
                lease_expires_at=None,
            )
        announce_reply(reply, "reply.submitted", {"state": reply.state})
    return reply


def _ref(reply: Reply) -> dict[str, Any]:
    return {"reply_id": reply.pk}


def _check_holder(question: Question, author: User, now: datetime) -> None:
    lapsed = question.lease_expires_at is not None and question.lease_expires_at <= now
    if question.claimed_by_id != author.pk or question.state not in SUBMITTABLE_STATES or lapsed:
        raise ReplyError("not_holder", _("You do not hold this question (or the claim lapsed)."))


# --- review ----------------------------------------------------------------------------------


def lint_edit(reply: Reply, new_text: str) -> dict[str, Any]:
    """The linter's result for a reviewer's edit of ``reply`` as JSON; a blocking finding
    refuses the edit (``ReplyError`` ``edit_blocked`` with the findings)."""
    brand_id = reply.question.brand_id
    customer = reply.question.customer
    result = lint(
        new_text,
        lint_config_for(
            brand_id,
            customer_handle=customer.username if customer else "",
            brand_handles=brand_handles(brand_id),
        ),
        language=reply.language or "en",
        signature=_signature(reply.author_id, brand_id),
    )
    if result.verdict == Severity.BLOCK:
        raise ReplyError(
            "edit_blocked",
            _("The edited reply breaks a rule that cannot be approved."),
            [finding.as_json() for finding in result.findings],
        )
    return result.as_json()


def approve_reply(
    reply: Reply, *, by: User | AnonymousUser, edited_text: str | None = None
) -> Reply:
    """A supervisor or admin of the brand approves a reply in review, perhaps after editing
    it (an edit is linted again and a blocking finding refuses it). The reply goes to the
    outbox in the same transaction."""
    reply = Reply.objects.select_related("question", "question__customer").get(pk=reply.pk)
    brand_id = reply.question.brand_id
    reviewer = require_supervisor(by, brand_id)
    if reviewer.pk == reply.author_id:
        raise ReplyError("own_reply", _("Someone else must review your reply."))
    new_text = edited_text.strip() if edited_text is not None else None
    if new_text == "":
        raise ReplyError("empty", _("The edited reply is empty."))
    edited = new_text is not None and new_text != reply.text
    lint_json = lint_edit(reply, new_text) if edited and new_text is not None else None
    now = timezone.now()
    with transaction.atomic():
        locked = lock_reply(reply)
        if locked.state != ReplyState.PENDING_REVIEW:
            raise ReplyError(
                "not_in_review",
                _("This reply is %(state)s, not in review.") % {"state": state_label(locked)},
            )
        if edited:
            assert new_text is not None and lint_json is not None
            locked.original_text = locked.text
            locked.text = new_text
            locked.lint = lint_json
            locked.edited_by_reviewer = True
        locked.reviewed_by = reviewer
        locked.reviewed_at = now
        move_locked_reply(
            locked, ReplyState.APPROVED, "reply.approved", actor=reviewer, data={"edited": edited}
        )
        _queue(locked, actor=reviewer)
        locked.save()
        question = lock_question(locked.question_id)
        if question.state == QuestionState.IN_REVIEW:
            move_locked_question(
                question,
                QuestionState.APPROVED,
                actor=reviewer,
                data=_ref(locked),
                lease_expires_at=None,
            )
        _review_outcome(locked, approved=True, actor=reviewer)
        announce_reply(locked, "reply.approved", {"edited": edited})
    return locked


def reject_reply(reply: Reply, *, by: User | AnonymousUser, feedback: str) -> Reply:
    """A supervisor rejects a reply in review with feedback for its author. The author keeps
    the question to try again (with a fresh lease) if they still may; otherwise it goes
    back to the queue."""
    feedback = feedback.strip()
    reply = Reply.objects.select_related("question").get(pk=reply.pk)
    reviewer = require_supervisor(by, reply.question.brand_id)
    if not feedback:
        raise ReplyError("feedback_required", _("Say what to change: feedback is required."))
    if reviewer.pk == reply.author_id:
        raise ReplyError("own_reply", _("Someone else must review your reply."))
    now = timezone.now()
    with transaction.atomic():
        locked = lock_reply(reply)
        if locked.state != ReplyState.PENDING_REVIEW:
            raise ReplyError(
                "not_in_review",
                _("This reply is %(state)s, not in review.") % {"state": state_label(locked)},
            )
        locked.reviewed_by = reviewer
        locked.reviewed_at = now
        locked.review_feedback = feedback
        move_locked_reply(
            locked,
            ReplyState.REJECTED,
            "reply.rejected",
            actor=reviewer,
            data={"feedback": feedback},
        )
        locked.save()
        question = lock_question(locked.question_id)
        if question.state == QuestionState.IN_REVIEW:
            author = locked.author
            keeps = (
                question.claimed_by_id == author.pk
                and may_claim(author, question.brand_id, now=now).allowed
            )
            if keeps:
                move_locked_question(
                    question,
                    QuestionState.DRAFTING,
                    actor=reviewer,
                    data=_ref(locked),
                    lease_expires_at=now + timedelta(minutes=_lease_minutes(question.brand_id)),
                )
            else:
                move_locked_question(
                    question,
                    QuestionState.QUEUED,
                    actor=reviewer,
                    data={**_ref(locked), "claim_lapsed": True},
                    claimed_by=None,
                    claimed_at=None,
                    lease_expires_at=None,
                )
        _review_outcome(locked, approved=False, actor=reviewer)
        announce_reply(locked, "reply.rejected", {"feedback": feedback})
    return locked


def _lease_minutes(brand_id: int) -> int:
    try:
        from routing.presence import routing_settings_for
    except ImportError:  # pragma: no cover - routing is part of the project
        return DEFAULT_LEASE_MINUTES
    return int(routing_settings_for(brand_id).claim_lease_minutes)


def _review_outcome(reply: Reply, *, approved: bool, actor: User) -> None:
    try:
        record_review_outcome(
            reply.author_id, reply.question.brand_id, approved=approved, actor=actor
        )
    except StandingError:
        log.warning("reply %s: its author has no standing to count the review in", reply.pk)


@dataclass(frozen=True)
class BulkOutcome:
    approved: list[int]
    refused: dict[int, str]


def bulk_approve(reply_ids: Iterable[int], *, by: User | AnonymousUser) -> BulkOutcome:
    """Approve each reply as :func:`approve_reply` would, one transaction each; the ones
    that cannot be approved are listed with the reason."""
    approved: list[int] = []
    refused: dict[int, str] = {}
    for reply_id in dict.fromkeys(reply_ids):
        reply = Reply.objects.filter(pk=reply_id).first()
        if reply is None:
            refused[reply_id] = _("No such reply.")
            continue
        try:
            approve_reply(reply, by=by)
        except ReplyError as error:
            refused[reply_id] = error.message
        else:
            approved.append(reply_id)
    return BulkOutcome(approved, refused)


# --- moderation ------------------------------------------------------------------------------


def delete_sent_reply(reply: Reply, *, by: User | AnonymousUser, reason: str) -> Reply:
    """A supervisor deletes a sent reply from X (moderation); the reason is required."""
    reason = reason.strip()
    reply = Reply.objects.select_related("question", "account").get(pk=reply.pk)
    supervisor = require_supervisor(by, reply.question.brand_id)
    if not reason:
        raise ReplyError("reason_required", _("Say why the reply is deleted."))
    if reply.state != ReplyState.SENT:
        raise ReplyError(
            "not_sent", _("This reply is %(state)s, not sent.") % {"state": state_label(reply)}
        )
    try:
        posting.delete_from_x(reply)
    except (gateway.HTTPException, gateway.TransportError) as error:
        raise ReplyError(
            "x_error",
            _("X did not delete it: %(error)s") % {"error": gateway.api_error_detail(error)},
        ) from error
    except LinkError as error:
        raise ReplyError(
            "x_error", _("X did not delete it: %(error)s") % {"error": error}
        ) from error
    with transaction.atomic():
        locked = lock_reply(reply)
        if locked.state != ReplyState.SENT:
            raise ReplyError(
                "not_sent", _("This reply is %(state)s, not sent.") % {"state": state_label(locked)}
            )
        locked.deleted_by = supervisor
        locked.deleted_at = timezone.now()
        locked.deletion_reason = reason
        move_locked_reply(
            locked,
            ReplyState.DELETED,
            "reply.deleted",
            actor=supervisor,
            data={"reason": reason, "tweet_id": locked.tweet_id},
        )
        locked.save()
        announce_reply(locked, "reply.deleted", {"tweet_id": locked.tweet_id})
    return locked


# --- when will it go -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueuePosition:
    """Where a reply stands: ``ahead`` replies of its account go first; it is expected to
    go at ``expected_at`` (None once it is out of the queue)."""

    state: str
    ahead: int
    expected_at: datetime | None
    sending: bool = False


def send_queue_position(reply: Reply, *, now: datetime | None = None) -> QueuePosition:
    now = now or timezone.now()
    reply = Reply.objects.select_related("account").get(pk=reply.pk)
    if reply.state != ReplyState.QUEUED:
        return QueuePosition(reply.state, 0, reply.sent_at)
    if reply.sending_since is not None:
        return QueuePosition(reply.state, 0, now, sending=True)
    plan = posting.plan_for(reply, now)
    for ahead, (pk, at) in enumerate(plan):
        if pk == reply.pk:
            return QueuePosition(reply.state, ahead, at)
    return QueuePosition(reply.state, 0, reply.scheduled_for)


__all__ = [
    "BulkOutcome",
    "QueuePosition",
    "ReplyError",
    "approve_reply",
    "bulk_approve",
    "delete_sent_reply",
    "linked_sender",
    "lint_edit",
    "reject_reply",
    "send_queue_position",
    "submit_reply",
]
