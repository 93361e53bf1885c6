"""The report pages for agency staff and supervisors."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from helpdesk.reports.access import report_reader
from helpdesk.reports.forms import ReportForm
from helpdesk.reports.report import build_report


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    reader = report_reader(request.user)
    if reader is None:
        raise PermissionDenied("Reports are for agency staff and supervisors.")
    form = ReportForm(request.GET or None, reader=reader)
    report = build_report(form.scope(), grouping=form.grouping) if form.is_valid() else None
    return render(request, "reports/index.html", {"form": form, "report": report})


urlpatterns = [path("", index, name="index")]
