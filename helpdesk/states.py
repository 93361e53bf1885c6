"""The question and reply state machines: one table each, enforced on the server.

The tables are the single source of truth; :mod:`helpdesk.moves`, the one place that changes
a state, checks every move against them (:func:`check_question_transition`,
:func:`check_reply_transition`) before it writes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuestionState(models.TextChoices):
    NEW = "new", _("New")
    QUEUED = "queued", _("Queued")
    CLAIMED = "claimed", _("Claimed")
    DRAFTING = "drafting", _("Drafting")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    ANSWERED = "answered", _("Answered")
    DISMISSED = "dismissed", _("Dismissed")
    ESCALATED = "escalated", _("Escalated")
    FAILED = "failed", _("Failed")


class ReplyState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_REVIEW = "pending_review", _("Pending review")
    APPROVED = "approved", _("Approved")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")
    DELETED = "deleted", _("Deleted")


Q = QuestionState
QUESTION_TRANSITIONS: dict[str, frozenset[str]] = {
    Q.NEW: frozenset({Q.QUEUED, Q.DISMISSED}),
    Q.QUEUED: frozenset({Q.CLAIMED, Q.DISMISSED, Q.ESCALATED}),
    Q.CLAIMED: frozenset({Q.DRAFTING, Q.QUEUED, Q.DISMISSED, Q.ESCALATED}),
    Q.DRAFTING: frozenset({Q.IN_REVIEW, Q.APPROVED, Q.QUEUED, Q.DISMISSED, Q.ESCALATED}),
    Q.IN_REVIEW: frozenset({Q.APPROVED, Q.DRAFTING, Q.QUEUED, Q.ESCALATED}),
    Q.APPROVED: frozenset({Q.SENDING}),
    Q.SENDING: frozenset({Q.ANSWERED, Q.FAILED, Q.APPROVED}),
    # A supervisor deleted the only reply from X: the customer has no answer again, and the
    # question goes back to the queue or to the supervisors' escalations.
    Q.ANSWERED: frozenset({Q.QUEUED, Q.ESCALATED}),
    # A supervisor may undo a dismissal (noise that was a real question).
    Q.DISMISSED: frozenset({Q.QUEUED}),
    Q.ESCALATED: frozenset({Q.QUEUED, Q.ANSWERED}),
    Q.FAILED: frozenset({Q.QUEUED, Q.APPROVED, Q.DISMISSED}),
}

R = ReplyState
REPLY_TRANSITIONS: dict[str, frozenset[str]] = {
    R.DRAFT: frozenset({R.PENDING_REVIEW, R.APPROVED}),
    R.PENDING_REVIEW: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset({R.QUEUED}),
    R.QUEUED: frozenset({R.SENT, R.FAILED}),
    R.SENT: frozenset({R.DELETED}),
    R.REJECTED: frozenset(),
    R.FAILED: frozenset({R.QUEUED}),
    R.DELETED: frozenset(),
}


class ForbiddenTransition(Exception):
    """A state change that the transition table does not allow."""

    def __init__(self, kind: str, from_state: str, to_state: str) -> None:
        super().__init__(f"{kind} may not go from '{from_state!s}' to '{to_state!s}'")
        self.kind = kind
        self.from_state = from_state
        self.to_state = to_state


def check_question_transition(from_state: str, to_state: str) -> None:
    if to_state not in QUESTION_TRANSITIONS.get(from_state, frozenset()):
        raise ForbiddenTransition("question", from_state, to_state)


def check_reply_transition(from_state: str, to_state: str) -> None:
    if to_state not in REPLY_TRANSITIONS.get(from_state, frozenset()):
        raise ForbiddenTransition("reply", from_state, to_state)
