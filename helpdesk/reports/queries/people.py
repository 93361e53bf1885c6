"""Volunteers' activity, and how reports name people and groups."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Count, Q

from helpdesk.models import Brand, Store
from helpdesk.people import person_name
from helpdesk.reports.queries.scope import (
    ACCEPTED_REPLY_STATES,
    Scope,
    questions_in,
    replies_in,
)
from helpdesk.states import ReplyState
from routing.models import Topic

# --- volunteers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerActivity:
    user_id: int
    name: str
    store_id: int | None
    level: str
    training: str  # "ok", or the gate's first missing reason code
    replies_sent: int
    approved: int
    rejected: int
    shift_seconds: int
    first_responses: int

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "store_id": self.store_id,
            "level": self.level,
            "training": self.training,
            "replies_sent": self.replies_sent,
            "approved": self.approved,
            "rejected": self.rejected,
            "shift_hours": round(self.shift_seconds / 3600, 2),
            "shift_seconds": self.shift_seconds,
            "first_responses": self.first_responses,
        }


def volunteer_activity(scope: Scope, *, anonymise: bool = False) -> list[VolunteerActivity]:
    """Every desk member of the brand in the scope's stores, with what they did in the
    period: replies X accepted (by when it accepted them), review outcomes of the replies
    they submitted, hours on shift, questions they gave the first response to; and their
    level and training status today. People with nothing in the period are listed too:
    a report on who did not answer is part of running a programme."""
    from helpdesk.roster import roster
    from routing.presence import shift_hours

    brand = Brand.objects.get(pk=scope.brand_id)
    period = scope.period
    rows = roster(brand, now=scope.now)
    if scope.stores is not None:
        rows = [row for row in rows if row.volunteer.store_id in scope.stores]
    if scope.region:
        rows = [
            row
            for row in rows
            if row.volunteer.store is not None and row.volunteer.store.region == scope.region
        ]
    if scope.volunteer_id is not None:
        rows = [row for row in rows if row.volunteer.user_id == scope.volunteer_id]
    user_ids = [row.volunteer.user_id for row in rows]
    # The people are chosen by their own store; their figures follow them wherever they
    # answered from, within the topic and language filters.
    theirs = replace(scope, volunteer_id=None, stores=None, region="")
    sent = dict(
        replies_in(theirs, by="sent_at")
        .filter(author_id__in=user_ids, state__in=ACCEPTED_REPLY_STATES)
        .values("author_id")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("author_id", "count")
    )
    outcomes = {
        row["author_id"]: row
        for row in replies_in(theirs)
        .filter(author_id__in=user_ids, needs_review=True, reviewed_at__isnull=False)
        .values("author_id")
        .order_by()
        .annotate(
            rejected=Count("pk", filter=Q(state=ReplyState.REJECTED)),
            decided=Count("pk"),
        )
    }
    firsts = dict(
        questions_in(theirs)
        .filter(first_reply__author_id__in=user_ids)
        .values("first_reply__author_id")
        .order_by()
        .annotate(count=Count("pk"))
        .values_list("first_reply__author_id", "count")
    )
    hours = shift_hours(scope.brand_id, period.start, period.end, now=scope.now)
    names = person_labels(scope.brand_id, user_ids, anonymise=anonymise)
    activity = []
    for row in rows:
        user_id = row.volunteer.user_id
        outcome = outcomes.get(user_id, {"rejected": 0, "decided": 0})
        activity.append(
            VolunteerActivity(
                user_id=user_id,
                name=names[user_id],
                store_id=row.volunteer.store_id,
                level=row.standing.level if row.standing is not None else "",
                training=row.missing[0] if row.missing else "ok",
                replies_sent=sent.get(user_id, 0),
                approved=outcome["decided"] - outcome["rejected"],
                rejected=outcome["rejected"],
                shift_seconds=hours.get(user_id, 0),
                first_responses=firsts.get(user_id, 0),
            )
        )
    return activity


def person_labels(brand_id: int, user_ids: Iterable[int], *, anonymise: bool) -> dict[int, str]:
    """How a report names people: as the desk does (``helpdesk.people.person_name``), or with
    ``anonymise`` a stable code per person and brand that reveals nothing of who it is."""
    ids = list(dict.fromkeys(user_ids))
    if anonymise:
        return {user_id: anonymous_label(brand_id, user_id) for user_id in ids}
    found = {
        user.pk: person_name(user)
        for user in User.objects.filter(pk__in=ids).select_related("volunteer")
    }
    return {user_id: found.get(user_id, f"#{user_id}") for user_id in ids}


def anonymous_label(brand_id: int, user_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"report:{brand_id}:{user_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"Volunteer {digest[:6].upper()}"


# --- labels for groups ------------------------------------------------------------------------


def group_labels(
    brand_id: int, grouping: str, keys: Iterable[Any], *, anonymise: bool = False
) -> dict[Any, str]:
    """A readable label for each group key ("" for the group of questions without one is
    left to the caller to name)."""
    keys = [key for key in keys if key not in (None, "")]
    if grouping == "store":
        return {
            pk: f"{code} {name}"
            for pk, code, name in Store.objects.filter(pk__in=keys).values_list(
                "pk", "code", "name"
            )
        }
    if grouping == "topic":
        return dict(Topic.objects.filter(pk__in=keys).values_list("pk", "name"))
    if grouping == "volunteer":
        return person_labels(brand_id, keys, anonymise=anonymise)
    return {key: str(key) for key in keys}
