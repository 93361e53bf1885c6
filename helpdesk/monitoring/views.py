"""The live monitoring page: the page, and its live part that the open page fetches again
when the monitoring socket announces a change (and every 30 seconds without JavaScript, by
a refresh of the whole page)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from helpdesk.models import Role, Volunteer
from helpdesk.monitoring.access import allowed_stores, monitor_reader_or_refuse
from helpdesk.monitoring.queries import bill, recent_alerts, snapshot, unclaimable_waiting
from routing.crisis import crises_of


def _context(reader: Volunteer) -> dict[str, Any]:
    stores = allowed_stores(reader)
    snap = snapshot(reader.brand_id, stores)
    return {
        "reader": reader,
        "store_scoped": stores is not None,
        "snap": snap,
        "bill": bill(reader.brand_id, snap.now),
        "crises": crises_of(reader.brand_id),
        "alerts": recent_alerts(reader.brand_id, snap.now),
        "unclaimable": unclaimable_waiting(reader.brand_id),
        "may_switch_crisis": reader.role in (Role.SUPERVISOR, Role.ADMIN),
    }


@login_required
@require_GET
def monitor(request: HttpRequest) -> HttpResponse:
    context = _context(monitor_reader_or_refuse(request.user))
    context["body_url"] = reverse("monitoring:body")
    return render(request, "monitoring/index.html", context)


@login_required
@require_GET
def monitor_body(request: HttpRequest) -> HttpResponse:
    """The page's live part, checked exactly as the page is."""
    return render(
        request, "monitoring/_body.html", _context(monitor_reader_or_refuse(request.user))
    )


urlpatterns = [
    path("", monitor, name="index"),
    path("live/", monitor_body, name="body"),
]
