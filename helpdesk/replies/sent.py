"""A reply once it is approved: where it stands in its account's send queue, and a
supervisor deleting a sent one from X (moderation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.linking import LinkError
from helpdesk.models import Question, Reply
from helpdesk.moves import UNCLAIMED, announce_reply, move_question
from helpdesk.replies.common import (
    ReplyError,
    lock_reply,
    move_locked_reply,
    require_supervisor,
    state_label,
)
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import gateway, posting

# Where a question goes when its only reply is deleted: the customer has no answer again.
THEN_QUEUE = "queue"
THEN_SUPERVISOR = "supervisor"
THEN_CHOICES = (THEN_QUEUE, THEN_SUPERVISOR)


def delete_sent_reply(
    reply: Reply, *, by: User | AnonymousUser, reason: str, then: str = THEN_QUEUE
) -> Reply:
    """A supervisor deletes a sent reply from X (moderation); the reason is required.

    The question, which has no answer on X any more, leaves "answered": back to the queue
    (``then="queue"``), or to the supervisors' escalations with the reason as its note
    (``then="supervisor"``)."""
    reason = reason.strip()
    if then not in THEN_CHOICES:
        raise ReplyError("bad_choice", _("Choose where the question goes next."))
    reply = Reply.objects.select_related("question", "account", "store").get(pk=reply.pk)
    supervisor = require_supervisor(by, reply.question.brand_id, reply.store)
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
    with transaction.atomic(durable=True):
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
        _reopen_question(locked, supervisor, reason, then)
    return locked


def _reopen_question(reply: Reply, supervisor: User, reason: str, then: str) -> None:
    """The question of a deleted reply leaves "answered" (a question has one live reply at
    most, so none of ours stays on X)."""
    question = Question.objects.select_for_update().get(pk=reply.question_id)
    if question.state != QuestionState.ANSWERED:
        return
    data = {"reply_id": reply.pk, "reason": reason}
    if then == THEN_SUPERVISOR:
        note = _("Our reply was deleted from X: %(reason)s") % {"reason": reason}
        move_question(
            question,
            QuestionState.ESCALATED,
            kind="question.reopened",
            actor=supervisor,
            data={**data, "note": note},
            fields={**UNCLAIMED, "escalation_closed_at": None, "escalation_closed_by": None},
        )
        return
    move_question(
        question,
        QuestionState.QUEUED,
        kind="question.reopened",
        actor=supervisor,
        data=data,
        fields=UNCLAIMED,
    )


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
