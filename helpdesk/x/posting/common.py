"""What the planner, the sender and the sweep share: the sender's hold on a reply, the
move of its question, the client that posts it, and how long a send may take."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from charter.models import LinkedXAccount
from helpdesk.linking import LinkError, valid_access_token
from helpdesk.models import Question, Reply
from helpdesk.moves import move_question
from helpdesk.states import ReplyState
from helpdesk.x import gateway

log = logging.getLogger(__name__)


SYSTEM = "system:outbox"


# Retry delays after an ambiguous answer or a 5xx that X did not post: 1, 2, 4... seconds.
BACKOFF_BASE_SECONDS = 1.0


# Clock difference between us and X that a look on X allows for.
LOOK_MARGIN = timedelta(seconds=5)


DUPLICATE_MARK = "duplicate content"


DUPLICATE_MARK = "duplicate content"
SUSPENDED_MARK = "suspended"


def stuck_after() -> timedelta:
    """How long a reply may stay ``sending`` before the sweep looks on X. Longer than two
    HTTP timeouts, so the sender's own request (and its look) cannot still be running."""
    return timedelta(seconds=2 * settings.X_HTTP_TIMEOUT_SECONDS + 30)


@dataclass(frozen=True)
class SendClaim:
    """The sender's hold on a reply: valid while the row still has this ``sending_since``."""

    reply_id: int
    since: datetime

    def rows(self) -> Q:
        return Q(pk=self.reply_id, state=ReplyState.QUEUED, sending_since=self.since)


def move_question_on(
    question: Question,
    from_state: str,
    to_state: str,
    reply: Reply,
    *,
    data: dict[str, object] | None = None,
) -> None:
    """Move the reply's question on, if it is still where the sender left it."""
    move_question(
        question,
        to_state,
        from_state=from_state,
        actor_label=SYSTEM,
        data={"reply_id": reply.pk, **(data or {})},
        announce=False,
    )


def sender_client(reply: Reply) -> Any:
    """The tweepy client that posts (and looks for, and deletes) ``reply``: the care
    account's, or the author's linked account's when the reply goes from there. Raises
    ``LinkError`` when that link is gone, points at another X user now, or cannot be
    renewed."""
    if not reply.from_linked_account:
        return gateway.client_for(reply.account)
    linked = LinkedXAccount.objects.filter(user_id=reply.author_id).first()
    if linked is None or linked.x_user_id != reply.from_x_user_id:
        raise LinkError(
            f"The author's X account @{reply.from_username} is no longer linked to the desk."
        )
    return gateway.client_for_user_token(valid_access_token(reply.author), reply.account)
