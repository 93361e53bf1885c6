"""My figures: a volunteer's own work over a period, against the period before. Only their
own: the scope is always the person asking."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from helpdesk.permissions import volunteer_for
from helpdesk.reports import queries
from helpdesk.reports.access import OWN_FIGURES_ROLES
from helpdesk.reports.period import Period, presets
from helpdesk.reports.queries import Scope, brand_zone

PERIODS = ("7d", "30d", "90d", "this-month")


@login_required
@require_GET
def my_figures(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_for(request.user)
    if volunteer is None or volunteer.role not in OWN_FIGURES_ROLES:
        raise PermissionDenied(_("Your figures are kept for the people who answer customers."))
    zone = brand_zone(volunteer.brand)
    now = timezone.now()
    name = request.GET.get("period", "30d")
    if name not in PERIODS:
        name = "30d"
    first, last = presets(now.astimezone(zone).date())[name]
    scope = Scope(
        brand_id=volunteer.brand_id,
        period=Period(first, last, zone),
        volunteer_id=volunteer.user_id,
        now=now,
    )
    previous = scope.previous()
    mine = queries.volunteer_activity(scope)
    before = queries.volunteer_activity(previous)
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "period_name": name,
        "periods": [(key, label) for key, label in _period_labels() if key in PERIODS],
        "scope": scope,
        "figures": queries.figures(scope),
        "previous": queries.figures(previous),
        "activity": mine[0] if mine else None,
        "activity_before": before[0] if before else None,
        "reviews": queries.reviews(scope),
        "reviews_before": queries.reviews(previous),
        "series": [point for point in queries.series(scope) if point.received],
    }
    return render(request, "reports/my_figures.html", context)


def _period_labels() -> list[tuple[str, str]]:
    return [
        ("7d", _("Last 7 days")),
        ("30d", _("Last 30 days")),
        ("90d", _("Last 90 days")),
        ("this-month", _("This month")),
    ]


urlpatterns = [path("", my_figures, name="me")]
