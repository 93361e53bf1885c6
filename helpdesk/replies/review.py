"""Review: a supervisor approves (perhaps after an edit, linted again), rejects with
feedback, or approves many at once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.gate import lint_config_for, may_claim
from charter.linter import Severity, lint
from charter.standing import StandingError, record_review_outcome
from helpdesk.models import Reply
from helpdesk.moves import announce_reply
from helpdesk.replies.common import (
    ReplyError,
    brand_handles,
    lock_question,
    lock_reply,
    move_locked_question,
    move_locked_reply,
    queue_reply,
    reply_ref,
    require_supervisor,
    signature_of,
    state_label,
)
from helpdesk.states import QuestionState, ReplyState
from routing.crisis import crisis_for
from routing.presence import routing_settings_for

log = logging.getLogger(__name__)


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
        signature=signature_of(reply.author_id, brand_id),
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
    reply = Reply.objects.select_related("question", "question__customer", "store").get(pk=reply.pk)
    brand_id = reply.question.brand_id
    reviewer = require_supervisor(by, brand_id, reply.store)
    if reviewer.pk == reply.author_id:
        raise ReplyError("own_reply", _("Someone else must review your reply."))
    new_text = edited_text.strip() if edited_text is not None else None
    if new_text == "":
        raise ReplyError("empty", _("The edited reply is empty."))
    edited = new_text is not None and new_text != reply.text
    lint_json = lint_edit(reply, new_text) if edited and new_text is not None else None
    now = timezone.now()
    with transaction.atomic(durable=True):
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
        queue_reply(locked, actor=reviewer)
        locked.save()
        question = lock_question(locked.question_id)
        if question.state == QuestionState.IN_REVIEW:
            move_locked_question(
                question,
                QuestionState.APPROVED,
                actor=reviewer,
                data=reply_ref(locked),
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
    reply = Reply.objects.select_related("question", "store").get(pk=reply.pk)
    reviewer = require_supervisor(by, reply.question.brand_id, reply.store)
    if not feedback:
        raise ReplyError("feedback_required", _("Say what to change: feedback is required."))
    if reviewer.pk == reply.author_id:
        raise ReplyError("own_reply", _("Someone else must review your reply."))
    now = timezone.now()
    with transaction.atomic(durable=True):
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
                and may_claim(
                    author,
                    question.brand_id,
                    # Under crisis mode a trainee's rejected reply hands the question on.
                    crisis=crisis_for(question.brand_id, question.topic_id) is not None,
                    now=now,
                ).allowed
            )
            if keeps:
                move_locked_question(
                    question,
                    QuestionState.DRAFTING,
                    actor=reviewer,
                    data=reply_ref(locked),
                    lease_expires_at=now + timedelta(minutes=_lease_minutes(question.brand_id)),
                )
            else:
                move_locked_question(
                    question,
                    QuestionState.QUEUED,
                    actor=reviewer,
                    data={**reply_ref(locked), "claim_lapsed": True},
                    claimed_by=None,
                    claimed_at=None,
                    lease_expires_at=None,
                )
        _review_outcome(locked, approved=False, actor=reviewer)
        # Not the feedback: the queue group is every volunteer of the brand.
        announce_reply(locked, "reply.rejected")
    return locked


def _lease_minutes(brand_id: int) -> int:
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
