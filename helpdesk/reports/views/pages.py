"""The report page for agency staff and supervisors: filters, the summary against the
previous period, and each chart with the table it draws. Every figure comes from
``helpdesk.reports.report.build_report``; the PDF renders the same sections."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET

from helpdesk.reports.access import WEEKLY_EMAIL_ROLES, report_reader_or_refuse
from helpdesk.reports.emails import is_subscribed
from helpdesk.reports.forms import ReportForm
from helpdesk.reports.presentation import report_context
from helpdesk.reports.report import build_report

# Export links offered beside the report: (URL name, label). A name the project does not
# have (yet) is left out rather than linked to nothing.
EXPORTS = (
    ("reports:export-report-csv", "CSV"),
    ("reports:export-report-xlsx", "XLSX"),
    ("reports:export-report-pdf", "PDF"),
    ("reports:export-report-json", "JSON"),
)
ROW_EXPORTS = (
    ("reports:export-questions-csv", "CSV"),
    ("reports:export-questions-xlsx", "XLSX"),
)


def _links(names: tuple[tuple[str, str], ...], query: str) -> list[tuple[str, str]]:
    links = []
    for name, label in names:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        links.append((label, f"{url}?{query}" if query else url))
    return links


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The brand's report (a supervisor's: their store's) for the chosen period."""
    reader = report_reader_or_refuse(request.user)
    form = ReportForm(request.GET or None, reader=reader)
    if not request.GET:
        form = ReportForm({"period": "30d"}, reader=reader)
    context: dict[str, Any] = {
        "form": form,
        "reader": reader,
        "weekly_email": is_subscribed(reader.user, reader.role),
        "may_receive_weekly": reader.role in WEEKLY_EMAIL_ROLES,
    }
    status = 200
    if form.is_valid():
        report = build_report(form.scope(), grouping=form.grouping, anonymise=form.anonymise)
        query = urlencode({k: v for k, v in request.GET.items() if v}) if request.GET else ""
        context.update(report_context(report))
        context["exports"] = _links(EXPORTS, query)
        context["row_exports"] = _links(ROW_EXPORTS, query)
    else:
        status = 400
    return render(request, "reports/index.html", context, status=status)


urlpatterns = [path("", index, name="index")]
