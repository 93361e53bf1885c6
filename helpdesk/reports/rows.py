"""Row-level reports: one row per question of a scope, for exports and the API.

Rows come from the same scope (``queries.questions_in``) and the same definitions as the
report's figures: the durations are the first-response and desk's-share times (in business
time when the scope asks for it), the store and volunteer those of the first response.
Rows are read in chunks and yielded one by one: an export of a million questions holds a
chunk in memory, never the whole list.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from helpdesk.models import Reply
from helpdesk.reports.queries import Scope, person_labels, questions_in, scope_calendars
from helpdesk.states import ReplyState

COLUMNS: tuple[str, ...] = (
    "question_id",
    "tweet_id",
    "tweeted_at",
    "received_at",
    "first_response_at",
    "first_response_seconds",
    "desk_response_seconds",
    "state",
    "dismissed_reason",
    "priority",
    "sla_priority",
    "sla_due_at",
    "sla",
    "topic",
    "language",
    "store",
    "region",
    "answered_by",
    "review",
    "rejected_replies",
)
CHUNK = 2000


def _local(value: datetime | None, scope: Scope) -> str:
    return value.astimezone(scope.zone).isoformat() if value is not None else ""


def _sla(row: dict[str, Any], scope: Scope) -> str:
    due, responded = row["sla_due_at"], row["first_response_at"]
    if due is None:
        return ""
    if responded is None and row["state"] in ("dismissed", "escalated"):
        return ""
    if responded is not None:
        return "met" if responded <= due else "breached"
    return "breached" if due < scope.now else "pending"


def _review(row: dict[str, Any]) -> str:
    if row["first_reply_id"] is None:
        return "pending" if row["pending_review"] else ""
    if not row["first_reply__needs_review"]:
        return "not reviewed"
    return "edited and approved" if row["first_reply__edited_by_reviewer"] else "approved"


def question_rows(
    scope: Scope, *, anonymise: bool = False, after: tuple[datetime, int] | None = None
) -> Generator[dict[str, Any], None, None]:
    """The scope's questions, oldest first (``received_at``, then id), as dicts keyed by
    ``COLUMNS``; times in the brand's zone with their offset, durations in seconds.
    ``after`` starts after that ``(received_at, id)`` (the API's cursor)."""
    rejected = (
        Reply.objects.filter(question=OuterRef("pk"), state=ReplyState.REJECTED)
        .order_by()
        .values("question")
        .annotate(n=Count("pk"))
        .values("n")
    )
    pending = Reply.objects.filter(question=OuterRef("pk"), state=ReplyState.PENDING_REVIEW)
    queryset = questions_in(scope)
    if after is not None:
        queryset = queryset.filter(
            Q(received_at__gt=after[0]) | Q(received_at=after[0], pk__gt=after[1])
        )
    values = (
        queryset.annotate(
            rejected_replies=Coalesce(
                Subquery(rejected, output_field=IntegerField()), 0, output_field=IntegerField()
            ),
            pending_review=Subquery(pending.values("pk")[:1]),
            store_code=Coalesce("first_reply__store__code", "store__code"),
            store_key=Coalesce("first_reply__store_id", "store_id"),
            region_name=Coalesce("first_reply__store__region", "store__region"),
        )
        .values(
            "pk",
            "tweet_id",
            "tweeted_at",
            "received_at",
            "first_response_at",
            "state",
            "dismissed_reason",
            "priority",
            "sla_priority",
            "sla_due_at",
            "topic__name",
            "lang",
            "store_code",
            "store_key",
            "region_name",
            "first_reply_id",
            "first_reply__author_id",
            "first_reply__needs_review",
            "first_reply__edited_by_reviewer",
            "rejected_replies",
            "pending_review",
        )
        .order_by("received_at", "pk")
    )
    calendars = scope_calendars(scope) if scope.business_time else {}
    names: dict[int, str] = {}
    row: dict[str, Any]
    for row in values.iterator(chunk_size=CHUNK):
        author = row["first_reply__author_id"]
        if author is not None and author not in names:
            names.update(person_labels(scope.brand_id, [author], anonymise=anonymise))
        responded = row["first_response_at"]
        began = row["tweeted_at"] or row["received_at"]
        first = desk = None
        if responded is not None:
            if scope.business_time:
                calendar = calendars.get(row["store_key"], calendars[None])
                first = calendar.seconds(began, responded)
                desk = calendar.seconds(row["received_at"], responded)
            else:
                first = max(0.0, (responded - began).total_seconds())
                desk = max(0.0, (responded - row["received_at"]).total_seconds())
        yield {
            "question_id": row["pk"],
            "tweet_id": row["tweet_id"],
            "tweeted_at": _local(row["tweeted_at"], scope),
            "received_at": _local(row["received_at"], scope),
            "first_response_at": _local(responded, scope),
            "first_response_seconds": first,
            "desk_response_seconds": desk,
            "state": row["state"],
            "dismissed_reason": row["dismissed_reason"],
            "priority": row["priority"],
            "sla_priority": row["sla_priority"],
            "sla_due_at": _local(row["sla_due_at"], scope),
            "sla": _sla(row, scope),
            "topic": row["topic__name"] or "",
            "language": (row["lang"] or "").replace("_", "-").split("-")[0].lower(),
            "store": row["store_code"] or "",
            "region": row["region_name"] or "",
            "answered_by": names.get(author, "") if author is not None else "",
            "review": _review(row),
            "rejected_replies": row["rejected_replies"],
            "_cursor": (row["received_at"], row["pk"]),
        }
