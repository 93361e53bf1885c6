"""What one report covers (a brand, a period, filters) and the keys its questions are
grouped and filtered by; the questions and replies of a scope."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, QuerySet, Value
from django.db.models.functions import (
    Coalesce,
)
from django.utils import timezone

from helpdesk.models import Brand, Question, Reply
from helpdesk.reports.period import Period
from helpdesk.states import ReplyState
from routing.queries import language_key

GROUPINGS = ("store", "region", "volunteer", "topic", "language")
# Where a question stands, for the four-way split of the questions received.
ANSWERED, DISMISSED, ESCALATED, OPEN = "answered", "dismissed", "escalated", "open"
# Replies X accepted: sent, and sent then deleted by a supervisor (the customer saw it).
ACCEPTED_REPLY_STATES = (ReplyState.SENT, ReplyState.DELETED)
PRIORITIES = (0, 1, 2, 3)


# --- what a report covers ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A brand, a period and the filters of one report. ``stores`` limits the report to
    questions of those stores (a supervisor's, or a filter); ``None`` is every store."""

    brand_id: int
    period: Period
    stores: frozenset[int] | None = None
    region: str = ""
    volunteer_id: int | None = None
    topic_id: int | None = None
    language: str = ""
    business_time: bool = False
    now: datetime = field(default_factory=timezone.now)
    # What one report works out once for all its parts (the brand's calendars); shared with
    # the scopes made from this one (the previous period, other filters).
    cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def previous(self) -> Scope:
        return replace(self, period=self.period.previous())

    @property
    def zone(self) -> ZoneInfo:
        return self.period.zone


def brand_zone(brand: Brand) -> ZoneInfo:
    return ZoneInfo(brand.time_zone or "UTC")


# --- the keys questions are grouped and filtered by ---------------------------------------------


def key_expressions() -> dict[str, Any]:
    return {
        "store": Coalesce(F("first_reply__store_id"), F("store_id")),
        "region": Coalesce(F("first_reply__store__region"), F("store__region"), Value("")),
        "volunteer": F("first_reply__author_id"),
        "topic": F("topic_id"),
        "language": language_key(),
    }


def arrived() -> Coalesce:
    """When the customer wrote: X's timestamp, else our arrival."""
    return Coalesce(F("tweeted_at"), F("received_at"))


def questions_in(scope: Scope, period: Period | None = None) -> QuerySet[Question]:
    """The scope's questions: the brand's, received in the period, through the filters."""
    period = period or scope.period
    keys = key_expressions()
    queryset = Question.objects.filter(
        brand_id=scope.brand_id, received_at__gte=period.start, received_at__lt=period.end
    )
    if scope.stores is not None:
        queryset = queryset.alias(store_key=keys["store"]).filter(store_key__in=scope.stores)
    if scope.region:
        queryset = queryset.alias(region_key=keys["region"]).filter(region_key=scope.region)
    if scope.volunteer_id is not None:
        queryset = queryset.filter(first_reply__author_id=scope.volunteer_id)
    if scope.topic_id is not None:
        queryset = queryset.filter(topic_id=scope.topic_id)
    if scope.language:
        queryset = queryset.alias(language_key=keys["language"]).filter(language_key=scope.language)
    return queryset


def replies_in(scope: Scope, *, by: str = "submitted_at") -> QuerySet[Reply]:
    """The scope's replies: to the brand's questions, with ``by`` (``submitted_at``, or
    ``sent_at``) in the period, filtered by the reply's own store and author (a reply
    belongs to the store it was written from) and by its question's topic and language."""
    period = scope.period
    queryset = Reply.objects.filter(
        question__brand_id=scope.brand_id,
        **{f"{by}__gte": period.start, f"{by}__lt": period.end},
    )
    if scope.stores is not None:
        queryset = queryset.filter(store_id__in=scope.stores)
    if scope.region:
        queryset = queryset.filter(store__region=scope.region)
    if scope.volunteer_id is not None:
        queryset = queryset.filter(author_id=scope.volunteer_id)
    if scope.topic_id is not None:
        queryset = queryset.filter(question__topic_id=scope.topic_id)
    if scope.language:
        queryset = queryset.alias(language_key=language_key("question__lang")).filter(
            language_key=scope.language
        )
    return queryset
