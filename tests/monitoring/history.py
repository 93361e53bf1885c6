"""A brand's past questions, written straight into the table (what years of ingestion would
have left), for the spike detector's baseline."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from helpdesk.models import Brand, Conversation, Question, Source
from helpdesk.states import QuestionState

_ids = itertools.count(1)


def write_history(
    brand: Brand,
    start: datetime,
    end: datetime,
    per_hour: Callable[[datetime], int],
    *,
    negative_every: int = 5,
) -> int:
    """Questions received from ``start`` to ``end``: ``per_hour(hour_start)`` in each hour,
    evenly spread, every ``negative_every``-th one negative. Returns how many."""
    conversation = Conversation.objects.create(
        brand=brand, x_conversation_id=f"history-{next(_ids)}"
    )
    rows: list[Question] = []
    hour = start
    n = 0
    while hour < end:
        count = per_hour(hour)
        for k in range(count):
            n += 1
            rows.append(
                Question(
                    brand=brand,
                    conversation=conversation,
                    tweet_id=f"h{next(_ids)}",
                    text=f"@Care question {n} about my order",
                    lang="en",
                    source=Source.MENTIONS,
                    state=QuestionState.ANSWERED,
                    received_at=hour + timedelta(minutes=60 * k / count),
                    is_negative=n % negative_every == 0,
                )
            )
        hour += timedelta(hours=1)
    Question.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def write_questions(
    brand: Brand,
    at: datetime,
    count: int,
    *,
    negative: bool,
    spread: timedelta,
    topic_id: int | None = None,
) -> list[Question]:
    """``count`` questions received evenly over ``spread`` ending at ``at``."""
    conversation = Conversation.objects.create(brand=brand, x_conversation_id=f"now-{next(_ids)}")
    rows = [
        Question(
            brand=brand,
            conversation=conversation,
            tweet_id=f"q{next(_ids)}",
            text=f"@Care question {k}",
            lang="en",
            source=Source.MENTIONS,
            state=QuestionState.QUEUED,
            received_at=at - spread + spread * (k + 1) / count,
            is_negative=negative,
            topic_id=topic_id,
        )
        for k in range(count)
    ]
    return Question.objects.bulk_create(rows)
