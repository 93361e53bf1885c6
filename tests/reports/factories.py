"""Rows for report tests: questions as the desk leaves them, written straight to the tables
(the desk's own tests cover how the desk writes them)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User

from helpdesk.models import Brand, Conversation, Customer, Question, Reply, Store, XAccount
from helpdesk.states import QuestionState, ReplyState

_seq = itertools.count(1)


def make_question(
    brand: Brand,
    *,
    received_at: datetime,
    tweeted_at: datetime | None = None,
    state: str = QuestionState.QUEUED,
    conversation: Conversation | None = None,
    **fields: Any,
) -> Question:
    """A question of ``brand`` received at ``received_at`` (tweeted a minute before unless
    told), in its own conversation unless one is given."""
    n = next(_seq)
    if conversation is None:
        customer = Customer.objects.create(x_user_id=str(7_000_000_000 + n), username=f"cust{n}")
        conversation = Conversation.objects.create(
            brand=brand,
            x_conversation_id=str(8_000_000_000 + n),
            customer=customer,
            started_at=received_at,
        )
    values: dict[str, Any] = {
        "brand": brand,
        "conversation": conversation,
        "customer": conversation.customer,
        "tweet_id": str(6_000_000_000 + n),
        "text": f"Question {n}?",
        "lang": "en",
        "source": "mentions",
        "received_at": received_at,
        "tweeted_at": tweeted_at if tweeted_at is not None else received_at - timedelta(minutes=1),
        "state": state,
        "state_changed_at": received_at,
    }
    values.update(fields)
    return Question.objects.create(**values)


def answer(
    question: Question,
    author: User,
    account: XAccount,
    *,
    sent_at: datetime,
    store: Store | None = None,
    submitted_at: datetime | None = None,
    needs_review: bool = False,
    reviewed_at: datetime | None = None,
    **fields: Any,
) -> Reply:
    """A reply X accepted at ``sent_at``; the question becomes answered with it as its
    first response."""
    n = next(_seq)
    reply = Reply.objects.create(
        question=question,
        author=author,
        account=account,
        store=store,
        text=f"Answer {n} ^AB",
        language="en",
        state=ReplyState.SENT,
        submitted_at=submitted_at or sent_at - timedelta(minutes=1),
        needs_review=needs_review,
        reviewed_at=reviewed_at,
        reviewed_by=fields.pop("reviewed_by", None),
        tweet_id=str(5_000_000_000 + n),
        sent_at=sent_at,
        created_at=submitted_at or sent_at - timedelta(minutes=1),
        **fields,
    )
    Question.objects.filter(pk=question.pk).update(
        state=QuestionState.ANSWERED,
        state_changed_at=sent_at,
        first_reply=reply,
        first_response_at=sent_at,
    )
    question.refresh_from_db()
    return reply
