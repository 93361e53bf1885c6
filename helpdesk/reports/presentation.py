"""What the report page and the PDF show besides the figures: the charts (SVG) and the
labels of groups, priorities, buckets, days and weekdays, in the reader's language."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from helpdesk.models import Store
from helpdesk.reports import charts
from helpdesk.reports.queries import scope_calendars
from helpdesk.reports.report import (
    GROUPING_LABELS,
    PRIORITY_LABELS,
    WEEKDAYS,
    Report,
    bucket_bounds,
)
from helpdesk.reports.templatetags.reports import duration

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "fr": (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ),
}


def short_date(day: date) -> str:
    """A chart's axis label: "Nov 5" in English, "5 nov." in French."""
    language = (get_language() or "en")[:2]
    if language == "fr":
        return f"{day.day} {MONTHS['fr'][day.month - 1]}"
    return f"{MONTHS['en'][day.month - 1]} {day.day}"


def bucket_label(low: int, high: int | None) -> str:
    if high is None:
        return _("%(from)s or more") % {"from": duration(low)}
    if low == 0:
        return _("under %(to)s") % {"to": duration(high)}
    return _("%(from)s to %(to)s") % {"from": duration(low), "to": duration(high)}


def report_context(report: Report) -> dict[str, Any]:
    """What the page and the PDF show besides the report itself: the charts (SVG), the
    labels of groups, priorities, buckets and weekdays, and the stores' codes."""
    scope = report.scope
    weekly = scope.period.granularity == "week"
    day_labels = [short_date(point.start) for point in report.series]
    grouping = str(GROUPING_LABELS[report.grouping])
    buckets = [
        (bucket_label(low, high), count)
        for (low, high), count in zip(bucket_bounds(), report.distribution, strict=True)
    ]
    weekdays = [str(day) for day in WEEKDAYS]
    stores = dict(
        Store.objects.filter(brand_id=scope.brand_id).values_list("pk", "code").order_by()
    )
    top_groups = report.groups[:15]
    context: dict[str, Any] = {
        "report": report,
        "grouping_label": grouping,
        "weekly": weekly,
        "buckets": buckets,
        "weekdays": weekdays,
        "heatmap_rows": list(zip(weekdays, report.heatmap, strict=True)),
        "hours": list(range(24)),
        "priorities": [
            (str(PRIORITY_LABELS.get(priority, priority)), sla)
            for priority, sla in report.sla.items()
        ],
        "store_codes": stores,
        "always_open": scope_calendars(scope)[None].always_open,
        "charts": {
            "volume": charts.column_chart(
                [
                    charts.Bar(
                        label,
                        point.received,
                        point.answered,
                        _("%(day)s: %(received)d received, %(answered)d answered")
                        % {
                            "day": point.start.isoformat(),
                            "received": point.received,
                            "answered": point.answered,
                        },
                    )
                    for label, point in zip(day_labels, report.series, strict=True)
                ],
                title=_("Questions per week") if weekly else _("Questions per day"),
                description=_("Bars of questions received, the answered part darker."),
                axis_label=_("Received"),
                part_label=_("Answered"),
            ),
            "response": charts.line_chart(
                day_labels,
                [
                    (
                        _("p50"),
                        charts.PALETTE["p50"],
                        [_as_minutes(p.first_response.p50) for p in report.series],
                    ),
                    (
                        _("p90"),
                        charts.PALETTE["p90"],
                        [_as_minutes(p.first_response.p90) for p in report.series],
                    ),
                ],
                title=_("First-response time (minutes)"),
                description=_(
                    "The median and 90th percentile of the first-response time of the "
                    "questions received each day, in minutes."
                ),
                axis_label=_("Minutes"),
            ),
            "distribution": charts.bar_chart(
                [charts.Bar(label, count, count, f"{label}: {count}") for label, count in buckets],
                title=_("How long customers waited for a first response"),
                description=_("Answered questions per first-response time."),
                part_label=_("Answered questions"),
                rest_label="",
            ),
            "groups": charts.bar_chart(
                [
                    charts.Bar(
                        row.label,
                        row.figures.volumes.received,
                        row.figures.volumes.answered,
                        _("%(group)s: %(received)d received, %(answered)d answered")
                        % {
                            "group": row.label,
                            "received": row.figures.volumes.received,
                            "answered": row.figures.volumes.answered,
                        },
                    )
                    for row in top_groups
                ],
                title=_("Questions by %(grouping)s") % {"grouping": grouping.lower()},
                description=_("Questions received per group, the answered part darker."),
                part_label=_("Answered"),
                rest_label=_("Received"),
            ),
            "heatmap": charts.heatmap_chart(
                report.heatmap,
                weekdays,
                title=_("Busiest hours"),
                description=_(
                    "Questions received per weekday and hour of the day, in the brand's "
                    "time zone; darker is busier."
                ),
            ),
        },
    }
    return context


def _as_minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60
