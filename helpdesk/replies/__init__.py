"""Replies: submit through the gate (:mod:`.submit`), review (:mod:`.review`), and what
happens once one is sent (:mod:`.sent`); the shared refusals, locks and moves in
:mod:`.common`.

Every action validates, locks the rows it changes and moves them through
:mod:`helpdesk.moves` (the state tables, the audit row, the announcement after commit).
Approval (or a direct send) puts the reply in state ``queued`` in the same transaction: that
row is the outbox, which ``helpdesk.x.posting`` sends.
"""

from helpdesk.replies.common import ReplyError, account_for, brand_handles, linked_sender
from helpdesk.replies.review import (
    BulkOutcome,
    approve_reply,
    bulk_approve,
    lint_edit,
    reject_reply,
)
from helpdesk.replies.sent import QueuePosition, delete_sent_reply, send_queue_position
from helpdesk.replies.submit import submit_reply

__all__ = [
    "BulkOutcome",
    "QueuePosition",
    "ReplyError",
    "account_for",
    "approve_reply",
    "brand_handles",
    "bulk_approve",
    "delete_sent_reply",
    "linked_sender",
    "lint_edit",
    "reject_reply",
    "send_queue_position",
    "submit_reply",
]
