"""Exports for the agency and supervisors: hours on shift (company time, as the charter
asks), as CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.forms.exports import PeriodForm
from helpdesk.models import Volunteer
from helpdesk.permissions import READING_ROLES, require_role
from helpdesk.reports.exports import spreadsheet_text
from routing.presence import shift_hours


def _utc_midnight(day: object) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)  # type: ignore[arg-type]


@login_required
@require_GET
def shift_hours_csv(request: HttpRequest) -> HttpResponse:
    """Hours on shift per person of the requester's brand, from ``start`` to ``end``
    (dates, inclusive, UTC; the last 7 days by default)."""
    reader = require_role(request, READING_ROLES)
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    start = _utc_midnight(form.cleaned_data["start"])
    end = _utc_midnight(form.cleaned_data["end"]) + timedelta(days=1)
    seconds = shift_hours(reader.brand_id, start, end)
    people = {
        v.user_id: v
        for v in Volunteer.objects.filter(brand_id=reader.brand_id, user_id__in=seconds)
        .select_related("user", "store")
        .order_by("user__username")
    }
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="shift-hours-{form.cleaned_data["start"]}'
        f'-{form.cleaned_data["end"]}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["username", "name", "store", "seconds", "hours"])
    for user_id, person in people.items():
        writer.writerow(
            [
                spreadsheet_text(person.user.get_username()),
                spreadsheet_text(person.display_name),
                spreadsheet_text(person.store.code if person.store else ""),
                seconds[user_id],
                f"{seconds[user_id] / 3600:.2f}",
            ]
        )
    return response


app_name = "exports"
urlpatterns = [path("shift-hours.csv", shift_hours_csv, name="shift-hours")]
