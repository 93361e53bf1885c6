"""Downloads of a report (CSV, XLSX, PDF, JSON) and of its questions one row each (CSV,
XLSX), with the page's filters: the same scope, grouping, names and business-time switch
as the page they were linked from. Same readers as the page."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.urls import path
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from helpdesk.models import Volunteer
from helpdesk.reports import exports
from helpdesk.reports.access import report_reader_or_refuse
from helpdesk.reports.forms import ReportForm
from helpdesk.reports.pdf import report_pdf
from helpdesk.reports.report import Report, build_report
from helpdesk.reports.streaming import file_chunks, streamed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(reader: Volunteer, form: ReportForm, what: str, extension: str) -> str:
    period = form.cleaned_data["period_obj"]
    dates = f"{period.first.isoformat()}-{period.last.isoformat()}"
    return f"{reader.brand.slug}-{what}-{dates}.{extension}"


def _download(
    extension: str, what: str, make: Callable[[HttpRequest, ReportForm], HttpResponseBase]
) -> Callable[[HttpRequest], HttpResponseBase]:
    """A download view: the page's readers, the page's filters (400 with the form's errors
    when they cannot make a report), a file name with the brand and the dates."""

    @login_required
    @require_GET
    def view(request: HttpRequest) -> HttpResponseBase:
        reader = report_reader_or_refuse(request.user)
        form = ReportForm(request.GET or {"period": "30d"}, reader=reader)
        if not form.is_valid():
            return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
        response = make(request, form)
        name = _filename(reader, form, what, extension)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response

    return view


def _report(form: ReportForm) -> Report:
    return build_report(form.scope(), grouping=form.grouping, anonymise=form.anonymise)


def _csv(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    return HttpResponse(exports.report_csv(_report(form)), content_type="text/csv; charset=utf-8")


def _xlsx(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    return HttpResponse(exports.report_xlsx_bytes(_report(form)), content_type=XLSX)


def _pdf(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    return HttpResponse(
        report_pdf(_report(form), language=get_language() or "en"),
        content_type="application/pdf",
    )


def _json(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    return HttpResponse(
        json.dumps(_report(form).as_json(), cls=DjangoJSONEncoder, ensure_ascii=False),
        content_type="application/json",
    )


def _rows_csv(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    lines = exports.question_rows_csv(form.scope(), anonymise=form.anonymise)
    return streamed(
        request, (line.encode() for line in lines), content_type="text/csv; charset=utf-8"
    )


def _rows_xlsx(request: HttpRequest, form: ReportForm) -> HttpResponseBase:
    built = exports.question_rows_xlsx(form.scope(), anonymise=form.anonymise)
    return streamed(request, file_chunks(built), content_type=XLSX)


urlpatterns = [
    path("report.csv", _download("csv", "report", _csv), name="export-report-csv"),
    path("report.xlsx", _download("xlsx", "report", _xlsx), name="export-report-xlsx"),
    path("report.pdf", _download("pdf", "report", _pdf), name="export-report-pdf"),
    path("report.json", _download("json", "report", _json), name="export-report-json"),
    path("questions.csv", _download("csv", "questions", _rows_csv), name="export-questions-csv"),
    path(
        "questions.xlsx", _download("xlsx", "questions", _rows_xlsx), name="export-questions-xlsx"
    ),
]
