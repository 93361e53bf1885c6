"""Reviews of the replies submitted in a scope's period."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q

from helpdesk.reports.percentiles import (
    Percentiles,
    SecondsBetween,
)
from helpdesk.reports.queries.business import (
    scope_calendars,
)
from helpdesk.reports.queries.scope import (
    Scope,
    replies_in,
)
from helpdesk.reports.queries.values import Durations
from helpdesk.states import ReplyState

# --- reviews ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviews:
    """Replies submitted in the period: how many went to review, what became of them, how
    long the review took, and the linter findings that most often sent them there."""

    submitted: int
    to_review: int
    approved: int
    rejected: int
    pending: int
    edited: int
    time_to_review: Durations
    findings: list[tuple[str, int]]

    @property
    def approval_rate(self) -> float | None:
        decided = self.approved + self.rejected
        return self.approved / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "to_review": self.to_review,
            "approved": self.approved,
            "rejected": self.rejected,
            "pending": self.pending,
            "edited": self.edited,
            "approval_rate": self.approval_rate,
            "time_to_review": self.time_to_review.as_json(),
            "findings": [{"rule": rule, "count": count} for rule, count in self.findings],
        }


def reviews(scope: Scope) -> Reviews:
    queryset = replies_in(scope)
    reviewed = Q(needs_review=True, reviewed_at__isnull=False)
    row = queryset.aggregate(
        submitted=Count("pk"),
        to_review=Count("pk", filter=Q(needs_review=True)),
        rejected=Count("pk", filter=reviewed & Q(state=ReplyState.REJECTED)),
        decided=Count("pk", filter=reviewed),
        pending=Count("pk", filter=Q(state=ReplyState.PENDING_REVIEW)),
        edited=Count("pk", filter=reviewed & Q(edited_by_reviewer=True)),
        **(
            {}
            if scope.business_time
            else {"time": Percentiles(SecondsBetween(F("reviewed_at"), F("submitted_at")))}
        ),
    )
    if scope.business_time:
        calendars = scope_calendars(scope)
        values = [
            calendars.get(store_id, calendars[None]).seconds(submitted, reviewed_at)
            for store_id, submitted, reviewed_at in queryset.filter(reviewed)
            .values_list("store_id", "submitted_at", "reviewed_at")
            .iterator(chunk_size=5000)
            if submitted is not None and reviewed_at is not None
        ]
        time_to_review = Durations.from_values(values)
    else:
        time_to_review = Durations.of(row["decided"], row["time"])
    findings: Counter[str] = Counter()
    for lint in queryset.filter(needs_review=True).values_list("lint", flat=True):
        rules = {
            finding.get("rule", "")
            for finding in (lint or {}).get("findings", [])
            if isinstance(finding, dict) and finding.get("severity") == "review"
        }
        findings.update(rule for rule in rules if rule)
    return Reviews(
        submitted=row["submitted"],
        to_review=row["to_review"],
        approved=row["decided"] - row["rejected"],
        rejected=row["rejected"],
        pending=row["pending"],
        edited=row["edited"],
        time_to_review=time_to_review,
        findings=sorted(findings.items(), key=lambda item: (-item[1], item[0]))[:10],
    )
