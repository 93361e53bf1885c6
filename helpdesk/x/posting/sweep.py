"""The sweep: replies whose sender died are settled by a look on X, and queued replies
whose task never ran are dispatched again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from helpdesk.linking import LinkError
from helpdesk.models import Reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import gateway
from helpdesk.x.posting.common import SendClaim, move_question_on, sender_client, stuck_after
from helpdesk.x.posting.plan import dispatch_due
from helpdesk.x.posting.send import look_on_x, mark_in_doubt, mark_sent


@dataclass
class SweepResult:
    settled_sent: int = 0
    requeued: int = 0
    in_doubt: int = 0
    redispatched: int = 0


def sweep_replies(now: datetime | None = None) -> SweepResult:
    """Settle replies stuck in ``sending`` (look on X: sent, or back to the queue) and
    redispatch queued replies whose task was lost."""
    now = now or timezone.now()
    result = SweepResult()
    stuck = Reply.objects.filter(
        state=ReplyState.QUEUED, sending_since__lt=now - stuck_after()
    ).values_list("pk", "sending_since")
    for pk, since in stuck:
        # Take the look over by moving the claim's mark: a second sweep skips it.
        assert since is not None
        if not Reply.objects.filter(pk=pk, state=ReplyState.QUEUED, sending_since=since).update(
            sending_since=now
        ):
            continue
        claim = SendClaim(pk, now)
        reply = Reply.objects.select_related("question", "account", "author").get(pk=pk)
        try:
            found = look_on_x(reply, sender_client(reply))
        except LinkError as error:
            mark_in_doubt(claim, reply, f"sweep: cannot look as the linked account: {error}")
            result.in_doubt += 1
            continue
        except (gateway.HTTPException, gateway.TransportError) as error:
            mark_in_doubt(claim, reply, f"sweep: look failed: {gateway.api_error_detail(error)}")
            result.in_doubt += 1
            continue
        if found is not None:
            mark_sent(claim, reply, found, found=True)
            result.settled_sent += 1
        else:
            _requeue_now(claim, reply, at=now)
            result.requeued += 1
    result.redispatched = len(dispatch_due(now).dispatched)
    return result


def _requeue_now(claim: SendClaim, reply: Reply, *, at: datetime) -> None:
    with transaction.atomic(durable=True):
        moved = Reply.objects.filter(claim.rows()).update(
            sending_since=None,
            dispatched_at=None,
            scheduled_for=at,
            last_send_error="sweep: the sender stopped and X has no such post",
        )
        if moved:
            move_question_on(
                reply.question,
                QuestionState.SENDING,
                QuestionState.APPROVED,
                reply,
                data={"swept": True},
            )
