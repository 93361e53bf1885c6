"""Resolution, per conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Q, When

from helpdesk.models import Question
from helpdesk.reports.percentiles import (
    Percentiles,
    SecondsBetween,
)
from helpdesk.reports.queries.business import (
    scope_calendars,
)
from helpdesk.reports.queries.scope import (
    Scope,
    arrived,
    key_expressions,
    questions_in,
)
from helpdesk.reports.queries.values import Durations
from helpdesk.states import QuestionState

# --- resolution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Conversations that began in the period: ``resolved`` ones (no question left open)
    and the time from the customer's first tweet to the close of the last question."""

    conversations: int
    resolved: int
    durations: Durations

    def as_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "resolved": self.resolved,
            "unresolved": self.conversations - self.resolved,
            "time": self.durations.as_json(),
        }


CLOSED_STATES = (QuestionState.DISMISSED, QuestionState.ESCALATED)


def resolution(scope: Scope) -> Resolution:
    """Per conversation whose first question (the earliest received; ties by id) is one of
    the scope's: resolved when none of its questions is open; resolution time from its
    earliest tweet to the last close of its questions (an answer's first response, else the
    moment it was dismissed or escalated). Conversations with no answer and nothing open
    (noise, or handed to the care team) have nothing the desk resolved and are left out.

    One query: the scope's first questions (none earlier in their conversation), their
    conversations' questions grouped per conversation, and the percentiles over that."""
    earlier = Question.objects.filter(conversation_id=OuterRef("conversation_id")).filter(
        Q(received_at__lt=OuterRef("received_at"))
        | Q(received_at=OuterRef("received_at"), pk__lt=OuterRef("pk"))
    )
    firsts = questions_in(scope).filter(~Exists(earlier))
    closing = Case(
        When(first_response_at__isnull=False, then=F("first_response_at")),
        When(state__in=CLOSED_STATES, then=F("state_changed_at")),
    )
    conversations = (
        Question.objects.filter(
            brand_id=scope.brand_id, conversation_id__in=firsts.values("conversation_id")
        )
        .values("conversation_id")
        .order_by()
        .annotate(
            began=Min(arrived()),
            closed=Max(closing),
            still_open=Count(
                "pk", filter=Q(first_response_at__isnull=True) & ~Q(state__in=CLOSED_STATES)
            ),
            answered=Count("pk", filter=Q(first_response_at__isnull=False)),
        )
        .filter(Q(still_open__gt=0) | Q(answered__gt=0))
    )
    if not scope.business_time:
        row = conversations.aggregate(
            counted=Count("conversation_id"),
            resolved=Count("conversation_id", filter=Q(still_open=0)),
            time=Percentiles(
                Case(When(still_open=0, then=SecondsBetween(F("closed"), F("began"))))
            ),
        )
        return Resolution(
            row["counted"], row["resolved"], Durations.of(row["resolved"], row["time"])
        )
    calendars = scope_calendars(scope)
    stores = dict(
        firsts.annotate(store_key=key_expressions()["store"])
        .values_list("conversation_id", "store_key")
        .order_by()
    )
    counted = 0
    values: list[float] = []
    for conversation, began, closed, still_open in conversations.values_list(
        "conversation_id", "began", "closed", "still_open"
    ).iterator(chunk_size=5000):
        counted += 1
        if still_open == 0:
            calendar = calendars.get(stores.get(conversation), calendars[None])
            values.append(calendar.seconds(began, closed))
    return Resolution(counted, len(values), Durations.from_values(values))
