"""What a supervisor does with a reply X refused for good (DESIGN: permanent errors go back to
a supervisor with the reason): send it again, perhaps edited; give the question back to the
queue for someone else; or dismiss the question with a reason.

Like every reply action: validate, lock, move along the state tables with audit events in the
same transaction, announce after commit. A retried reply goes back to the outbox (``queued``)
and its question to ``approved``, so the dispatcher sends it under the account's limits; it
was never posted (X refused it), so sending it again cannot post it twice.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.models import Question, Reply
from helpdesk.moves import announce_reply
from helpdesk.replies.common import (
    ReplyError,
    lock_question,
    lock_reply,
    move_locked_question,
    move_locked_reply,
    require_supervisor,
    state_label,
)
from helpdesk.replies.review import lint_edit
from helpdesk.states import QuestionState, ReplyState

MAX_REASON_CHARS = 200


def _failed(reply: Reply, by: User | AnonymousUser) -> tuple[Reply, User]:
    reply = Reply.objects.select_related("question", "question__customer", "store").get(pk=reply.pk)
    supervisor = require_supervisor(by, reply.question.brand_id, reply.store)
    return reply, supervisor


def _check_failed(locked: Reply, question: Question) -> None:
    if locked.state != ReplyState.FAILED:
        raise ReplyError(
            "not_failed", _("This reply is %(state)s, not failed.") % {"state": state_label(locked)}
        )
    if question.state != QuestionState.FAILED:
        raise ReplyError(
            "question_moved",
            _("Its question is %(state)s now; nothing to do for this reply.")
            % {"state": str(QuestionState(question.state).label).lower()},
        )


def retry_failed_reply(
    reply: Reply,
    *,
    by: User | AnonymousUser,
    edited_text: str | None = None,
    from_care_account: bool = False,
) -> Reply:
    """Send a failed reply again, as it is or edited (an edit is linted again and a blocking
    finding refuses it); a reply meant for the author's linked account may be sent from the
    care account instead (X refuses a linked account that the customer did not mention,
    unless the app has enterprise access). The reply goes back to the outbox in this
    transaction."""
    reply, supervisor = _failed(reply, by)
    new_text = edited_text.strip() if edited_text is not None else None
    if new_text == "":
        raise ReplyError("empty", _("The edited reply is empty."))
    edited = new_text is not None and new_text != reply.text
    if edited and supervisor.pk == reply.author_id:
        raise ReplyError("own_reply", _("Someone else must review your edit."))
    lint_json = lint_edit(reply, new_text) if edited and new_text is not None else None
    with transaction.atomic(durable=True):
        locked = lock_reply(reply)
        question = lock_question(locked.question_id)
        _check_failed(locked, question)
        reason = locked.failure_reason
        if lint_json is not None and new_text is not None:
            if not locked.original_text:
                locked.original_text = locked.text
            locked.text = new_text
            locked.lint = lint_json
            locked.edited_by_reviewer = True
        now = timezone.now()
        switched = from_care_account and locked.from_linked_account
        if switched:
            # Never posted from the linked account (X refused it), so nothing to look for.
            locked.from_linked_account = False
            locked.from_x_user_id = ""
            locked.from_username = ""
        locked.failure_reason = ""
        locked.queued_at = now
        locked.scheduled_for = now
        locked.dispatched_at = None
        move_locked_reply(
            locked,
            ReplyState.QUEUED,
            "reply.retried",
            actor=supervisor,
            data={"edited": edited, "failure": reason, "from_care_account": switched},
        )
        locked.save()
        move_locked_question(
            question,
            QuestionState.APPROVED,
            actor=supervisor,
            data={"reply_id": locked.pk, "retried": True},
        )
        locked.question = question
        announce_reply(locked, "reply.retried", {"edited": edited})
    return locked


def return_failed_question(reply: Reply, *, by: User | AnonymousUser) -> Question:
    """Give the question of a failed reply back to the queue, unclaimed, for anyone to answer;
    the failed reply stays as it is, for the record."""
    return _move_failed_question(
        reply,
        by,
        QuestionState.QUEUED,
        "question.requeued",
        data={},
        offered_to=None,
        offer_expires_at=None,
    )


def dismiss_failed_question(reply: Reply, *, by: User | AnonymousUser, reason: str) -> Question:
    """Close the question of a failed reply without an answer (the customer deleted the
    tweet, limited who may reply, ...); the reason is required and kept."""
    reason = " ".join(reason.split())
    if not reason:
        raise ReplyError("reason_required", _("Say why the question is dismissed."))
    if len(reason) > MAX_REASON_CHARS:
        raise ReplyError(
            "reason_too_long",
            _("Keep the reason under %(count)d characters.") % {"count": MAX_REASON_CHARS},
        )
    return _move_failed_question(
        reply,
        by,
        QuestionState.DISMISSED,
        "question.dismissed",
        data={"reason": reason},
        dismissed_reason=reason,
    )


def _move_failed_question(
    reply: Reply,
    by: User | AnonymousUser,
    to_state: str,
    kind: str,
    *,
    data: dict[str, Any],
    **fields: Any,
) -> Question:
    """Move the question of a failed reply on, unclaimed; the reply stays failed."""
    reply, supervisor = _failed(reply, by)
    with transaction.atomic(durable=True):
        locked = lock_reply(reply)
        question = lock_question(locked.question_id)
        _check_failed(locked, question)
        move_locked_question(
            question,
            to_state,
            actor=supervisor,
            data={"reply_id": locked.pk, "after_failure": locked.failure_reason, **data},
            claimed_by=None,
            claimed_at=None,
            lease_expires_at=None,
            **fields,
        )
        announce_reply(locked, kind, {k: v for k, v in data.items() if k == "reason"})
    return question


__all__ = ["dismiss_failed_question", "retry_failed_reply", "return_failed_question"]
