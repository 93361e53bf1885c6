"""Submitting a reply: the claim holder's draft through the gate, to review or straight to
the outbox."""

from __future__ import annotations

import contextlib
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.gate import may_send
from helpdesk.models import Question, Reply, Volunteer
from helpdesk.moves import announce_reply
from helpdesk.replies.common import (
    ReplyError,
    account_for,
    brand_handles,
    linked_sender,
    lock_question,
    move_locked_question,
    move_locked_reply,
    next_reply_key,
    queue_reply,
    reply_ref,
)
from helpdesk.states import QuestionState, ReplyState
from routing.claims import ClaimError, release_question
from routing.crisis import crisis_forces_review

SUBMITTABLE_STATES = (QuestionState.CLAIMED, QuestionState.DRAFTING)


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
    straight to the outbox (``queued``; the question is ``approved``); under a crisis mode
    that forces review, always to review. With
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
    decision = may_send(
        author,
        question.brand_id,
        text,
        reply_key=next_reply_key(question, author),
        signature=signature,
        customer_handle=question.customer.username if question.customer else "",
        brand_handles=brand_handles(question.brand_id),
        language=language,
        crisis_review=crisis_forces_review(question.brand_id, question.topic_id),
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
    with transaction.atomic(durable=True):
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
            move_locked_question(
                locked, QuestionState.IN_REVIEW, actor=author, data=reply_ref(reply)
            )
        else:
            move_locked_reply(reply, ReplyState.APPROVED, "reply.submitted", actor=author, data={})
            queue_reply(reply, actor=author)
            reply.save()
            move_locked_question(
                locked,
                QuestionState.APPROVED,
                actor=author,
                data=reply_ref(reply),
                lease_expires_at=None,
            )
        announce_reply(reply, "reply.submitted", {"state": reply.state})
    return reply


def _check_holder(question: Question, author: User, now: datetime) -> None:
    lapsed = question.lease_expires_at is not None and question.lease_expires_at <= now
    if question.claimed_by_id != author.pk or question.state not in SUBMITTABLE_STATES or lapsed:
        raise ReplyError("not_holder", _("You do not hold this question (or the claim lapsed)."))
