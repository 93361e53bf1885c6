"""Helpers for routing's tests: members on shift and queued questions."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from django.utils import timezone

from helpdesk.models import Brand, Conversation, Question, Source, Store, Volunteer
from helpdesk.states import QuestionState
from routing.models import Shift
from routing.presence import PresenceError, start_shift
from tests.factories import make_member

_seq = itertools.count(1)


def member(
    brand: Brand,
    state: str = "certified",
    *,
    now: datetime | None = None,
    store: Store | None = None,
    on_shift: bool = True,
    **fields: Any,
) -> Volunteer:
    """A volunteer in ``state`` (see ``STANDING_STATES``), on shift unless told. Someone the
    gate refuses cannot go on shift; such a person is put on shift as if they went on while
    they still could (a suspension mid-shift), so the claim's own checks are what is tried."""
    now = now or timezone.now()
    fields.setdefault("languages", ["en"])
    volunteer = make_member(brand, state, now=now, store=store, **fields)
    if on_shift:
        try:
            start_shift(volunteer.user, brand.pk, now=now)
        except PresenceError:
            Shift.objects.create(user=volunteer.user, brand=brand, started_at=now, last_seen_at=now)
    return volunteer


def conversation(brand: Brand) -> Conversation:
    return Conversation.objects.create(brand=brand, x_conversation_id=str(next(_seq) + 10**12))


def question(
    brand: Brand,
    *,
    state: str = QuestionState.QUEUED,
    conversation_of: Conversation | None = None,
    **fields: Any,
) -> Question:
    n = next(_seq)
    values: dict[str, Any] = {
        "brand": brand,
        "conversation": conversation_of or conversation(brand),
        "tweet_id": str(2_000_000_000_000 + n),
        "text": f"question {n}",
        "lang": "en",
        "source": Source.MENTIONS,
        "state": state,
    }
    values.update(fields)
    return Question.objects.create(**values)
