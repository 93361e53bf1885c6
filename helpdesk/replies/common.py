"""What every reply action shares: its refusal (``ReplyError``), the locks, the moves of
locked rows through :mod:`helpdesk.moves`, and the look-ups of the care account, the
brand's handles and the author's signature."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.models import LinkedXAccount
from helpdesk.models import Brand, Question, Reply, Store, Volunteer, XAccount
from helpdesk.moves import move_question, move_reply
from helpdesk.permissions import SUPERVISING_ROLES, supervises, volunteer_for
from helpdesk.states import ReplyState

log = logging.getLogger(__name__)


class ReplyError(ValueError):
    """An action on a reply that does not apply; ``code`` names why and ``reasons`` carry
    the gate's or the linter's explanations."""

    def __init__(self, code: str, message: str, reasons: Iterable[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reasons = list(reasons)


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


def signature_of(user_id: int, brand_id: int) -> str:
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


def queue_reply(reply: Reply, *, actor: User) -> None:
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


def require_supervisor(
    user: User | AnonymousUser, brand_id: int, store: Store | None = None
) -> User:
    """The user, if they supervise (or administer) this brand and, by the brand's
    supervision scope, a reply of ``store``; else a not-found error."""
    volunteer = volunteer_for(user)
    if (
        volunteer is None
        or volunteer.brand_id != brand_id
        or volunteer.role not in (SUPERVISING_ROLES)
        or not supervises(volunteer, store)
    ):
        raise ReplyError("not_found", _("No such reply."))
    assert isinstance(user, User)
    return user


def lock_reply(reply: Reply) -> Reply:
    return Reply.objects.select_for_update().select_related("question").get(pk=reply.pk)


def lock_question(question_id: int) -> Question:
    return Question.objects.select_for_update().get(pk=question_id)


def linked_sender(author: User, brand_id: int) -> LinkedXAccount | None:
    """The author's linked X account if the brand lets volunteers reply from their own
    accounts and they linked one; else None (replies go from the care account)."""
    if not Brand.objects.filter(pk=brand_id, replies_from_linked_accounts=True).exists():
        return None
    return LinkedXAccount.objects.filter(user_id=author.pk).first()


def reply_ref(reply: Reply) -> dict[str, Any]:
    return {"reply_id": reply.pk}


def next_reply_key(question: Question, author: User) -> str:
    """The key the gate samples review by for the author's next reply to the question: the
    composer's preview and ``submit_reply`` must name the same reply."""
    number = Reply.objects.filter(question=question, author=author).count() + 1
    return f"q{question.pk}-u{author.pk}-{number}"
