"""One report: every section a page, an export, the command, the e-mail and the API show,
built once from the query layer and turned into JSON, tables or a page from the same
object. A summary card and the total row of the table under it are the same ``Figures``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from helpdesk.models import Brand
from helpdesk.reports import queries
from helpdesk.reports.queries import (
    Figures,
    Resolution,
    Reviews,
    Scope,
    SeriesPoint,
    Sla,
    VolunteerActivity,
)
from helpdesk.reports.queries.spend import BudgetState, Spend, budget_state, spend

GROUPING_LABELS = {
    "store": _("Store"),
    "region": _("Region"),
    "volunteer": _("Volunteer"),
    "topic": _("Topic"),
    "language": _("Language"),
}
NO_GROUP_LABELS = {
    "store": _("No store (not answered)"),
    "region": _("No region"),
    "volunteer": _("Not answered"),
    "topic": _("No topic"),
    "language": _("Unknown"),
}
PRIORITY_LABELS = {0: _("Urgent"), 1: _("High"), 2: _("Normal"), 3: _("Low")}
WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)


def bucket_bounds() -> list[tuple[int, int | None]]:
    """``(from, to)`` seconds of each first-response bucket; the last has no end."""
    bounds = (0, *queries.RESPONSE_BUCKETS)
    return [(low, bounds[i + 1] if i + 1 < len(bounds) else None) for i, low in enumerate(bounds)]


@dataclass(frozen=True)
class GroupRow:
    key: Any
    label: str
    figures: Figures

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, **self.figures.as_json()}


def scope_json(brand: Brand, scope: Scope) -> dict[str, Any]:
    """What a report (or a part of one) covers: the brand, its zone, the period and the one
    before, the filters and whether durations are business time."""
    period = scope.period
    previous = period.previous()
    return {
        "brand": brand.slug,
        "time_zone": brand.time_zone,
        "period": {
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "granularity": period.granularity,
        },
        "previous_period": {"first": previous.first.isoformat(), "last": previous.last.isoformat()},
        "filters": {
            "stores": sorted(scope.stores) if scope.stores is not None else None,
            "region": scope.region or None,
            "volunteer": scope.volunteer_id,
            "topic": scope.topic_id,
            "language": scope.language or None,
        },
        "business_time": scope.business_time,
    }


@dataclass(frozen=True)
class Report:
    brand: Brand
    scope: Scope
    grouping: str
    anonymise: bool
    summary: Figures
    previous: Figures
    groups: list[GroupRow]
    sla: dict[int, Sla]
    resolution: Resolution
    reviews: Reviews
    series: list[SeriesPoint]
    distribution: list[int]
    heatmap: list[list[int]]
    dismissed: list[tuple[str, int]]
    volunteers: list[VolunteerActivity]
    # The X bill: the brand's, so only on reports no filter narrows (else None).
    spend: Spend | None = None
    budget: BudgetState | None = None

    @property
    def first(self) -> date:
        return self.scope.period.first

    @property
    def last(self) -> date:
        return self.scope.period.last

    def as_json(self) -> dict[str, Any]:
        """The whole report, as the API and ``manage.py report --format json`` give it.
        Durations are seconds; rates are fractions of 1; ``null`` where nothing counts."""
        return {
            **scope_json(self.brand, self.scope),
            "group_by": self.grouping,
            "anonymised": self.anonymise,
            "summary": self.summary.as_json(),
            "previous": self.previous.as_json(),
            "groups": [self._group_json(row) for row in self.groups],
            "sla_by_priority": [
                {"priority": priority, **sla.as_json()} for priority, sla in self.sla.items()
            ],
            "resolution": self.resolution.as_json(),
            "reviews": self.reviews.as_json(),
            "series": [point.as_json() for point in self.series],
            "first_response_distribution": [
                {"from_seconds": low, "to_seconds": high, "count": count}
                for (low, high), count in zip(bucket_bounds(), self.distribution, strict=True)
            ],
            "heatmap": {"weekdays": [str(day) for day in WEEKDAYS], "counts": self.heatmap},
            "dismissed_by_reason": [
                {"reason": reason, "count": count} for reason, count in self.dismissed
            ],
            "volunteers": [self._person_json(person) for person in self.volunteers],
            "x_spend": self.spend.as_json() if self.spend is not None else None,
            "x_budget": self.budget.as_json() if self.budget is not None else None,
        }

    def _group_json(self, row: GroupRow) -> dict[str, Any]:
        """An anonymised report names a volunteer group by its code, never by its id:
        ids are the same in every report and would undo the anonymising."""
        data = row.as_json()
        if self.anonymise and self.grouping == "volunteer" and row.key is not None:
            data["key"] = row.label
        return data

    def _person_json(self, person: VolunteerActivity) -> dict[str, Any]:
        data = person.as_json()
        if self.anonymise:
            data["user_id"] = None
        return data


def build_report(scope: Scope, *, grouping: str = "store", anonymise: bool = False) -> Report:
    """Every section of the report of ``scope``, grouped by ``grouping``."""
    if grouping not in queries.GROUPINGS:
        raise ValueError(f"unknown grouping {grouping!r}")
    brand = Brand.objects.get(pk=scope.brand_id)
    by_group = queries.figures_by(scope, grouping)
    labels = queries.group_labels(scope.brand_id, grouping, by_group, anonymise=anonymise)
    groups = [
        GroupRow(key, labels.get(key) or str(NO_GROUP_LABELS[grouping]), value)
        for key, value in by_group.items()
    ]
    groups.sort(key=lambda row: (-row.figures.volumes.received, row.label))
    x_spend = spend(scope)
    return Report(
        brand=brand,
        scope=scope,
        grouping=grouping,
        anonymise=anonymise,
        summary=queries.figures(scope),
        previous=queries.figures(scope, scope.period.previous()),
        groups=groups,
        sla=queries.sla_by_priority(scope),
        resolution=queries.resolution(scope),
        reviews=queries.reviews(scope),
        series=queries.series(scope),
        distribution=queries.response_distribution(scope),
        heatmap=queries.heatmap(scope),
        dismissed=queries.dismissed_by_reason(scope),
        # The most active first: who answered is what a programme report is read for.
        volunteers=sorted(
            queries.volunteer_activity(scope, anonymise=anonymise),
            key=lambda person: (-person.replies_sent, -person.shift_seconds, person.name),
        ),
        spend=x_spend,
        budget=budget_state(brand, scope.now) if x_spend is not None else None,
    )
