"""The reporting API: read-only JSON of the same report the pages show.

* ``GET /api/v1/report/``: the whole report (``Report.as_json()``).
* ``GET /api/v1/summary/``: the summary against the previous period, cheaper.
* ``GET /api/v1/questions/``: one row per question, by a cursor.

Every endpoint takes the report page's filters (``helpdesk.reports.forms.ReportForm``),
checks them against the reader (their brand; a supervisor's store) and answers 400 with
the fields' errors when they cannot make a report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core import signing
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.reports import queries
from helpdesk.reports.access import api_reader
from helpdesk.reports.api import serializers as shapes
from helpdesk.reports.forms import ReportForm
from helpdesk.reports.report import build_report, scope_json
from helpdesk.reports.rows import COLUMNS, question_rows

CURSOR_SALT = "helpforce.reports.api.questions"
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

ID = {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}
# The dates a report may cover (helpdesk.reports.period): years 2000 to 2999.
DAY = {"type": "string", "format": "date", "pattern": r"^2[0-9]{3}-[0-9]{2}-[0-9]{2}$"}
FILTERS = [
    OpenApiParameter(
        "period",
        OpenApiTypes.STR,
        enum=["7d", "30d", "90d", "this-month", "last-month", "last-week", "custom"],
        description="A named period (default 30d); ignored when first and last are given.",
    ),
    OpenApiParameter(
        "first",
        DAY,
        description="First day, in the brand's time zone; give last too (at most 366 days).",
    ),
    OpenApiParameter(
        "last", DAY, description="Last day (included), in the brand's time zone; not before first."
    ),
    OpenApiParameter("store", ID, description="A store's id (one the reader may see)."),
    OpenApiParameter(
        "region", {"type": "string", "maxLength": 60}, description="A stores' region."
    ),
    OpenApiParameter("volunteer", ID, description="A volunteer's user id."),
    OpenApiParameter("topic", ID, description="A topic's id."),
    OpenApiParameter(
        "language",
        OpenApiTypes.STR,
        pattern=r"^[A-Za-z]{2,8}$",
        description="A primary language subtag, e.g. fr.",
    ),
    OpenApiParameter(
        "business_time",
        OpenApiTypes.BOOL,
        description="Count durations within opening hours only.",
    ),
    OpenApiParameter(
        "group_by",
        OpenApiTypes.STR,
        enum=list(queries.GROUPINGS),
        description="How the groups are made (default store).",
    ),
    OpenApiParameter(
        "names",
        OpenApiTypes.STR,
        enum=["shown", "anonymised"],
        description="Volunteers by name or by an anonymous code.",
    ),
]
REFUSALS = {
    400: OpenApiResponse(shapes.ErrorsSerializer, description="Filters that make no report."),
    401: OpenApiResponse(shapes.DetailSerializer, description="No valid token or session."),
    403: OpenApiResponse(shapes.DetailSerializer, description="Not agency staff or admin."),
    429: OpenApiResponse(shapes.DetailSerializer, description="Too many requests: wait."),
}


def _form(request: Request) -> ReportForm | Response:
    reader = api_reader(request.user)
    assert reader is not None  # the permission class let only readers in
    form = ReportForm(request.query_params, reader=reader)
    if not form.is_valid():
        return Response({"errors": form.errors.get_json_data()}, status=400)
    return form


class ReportView(APIView):
    @extend_schema(
        operation_id="report",
        summary="The whole report",
        description="Every figure of the report page (definitions: docs/metrics.md).",
        parameters=FILTERS,
        responses={200: shapes.ReportSerializer, **REFUSALS},
    )
    def get(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Response):
            return form
        report = build_report(form.scope(), grouping=form.grouping, anonymise=form.anonymise)
        return Response(report.as_json())


class SummaryView(APIView):
    @extend_schema(
        operation_id="summary",
        summary="The summary against the previous period",
        parameters=FILTERS,
        responses={200: shapes.SummarySerializer, **REFUSALS},
    )
    def get(self, request: Request) -> Response:
        form = _form(request)
        if isinstance(form, Response):
            return form
        scope = form.scope()
        return Response(
            {
                **scope_json(form.reader.brand, scope),
                "summary": queries.figures(scope).as_json(),
                "previous": queries.figures(scope, scope.period.previous()).as_json(),
            }
        )


class _Refused(Exception):
    """A query parameter of the questions' pages that cannot be used."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.response = Response(
            {"errors": {field: [{"message": message, "code": "invalid"}]}}, status=400
        )


def _cursor(value: str) -> tuple[datetime, int]:
    try:
        received, pk = signing.loads(value, salt=CURSOR_SALT)
        return datetime.fromisoformat(received), int(pk)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise _Refused("cursor", "The cursor is not one this API gave.") from error


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return PAGE_SIZE
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise _Refused("page_size", f"Give a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(value)


class QuestionsView(APIView):
    @extend_schema(
        operation_id="questions",
        summary="One row per question, oldest first",
        description=(
            "The report's questions with their times (ISO 8601 in the brand's zone, "
            "durations in seconds), topic, store, who answered and the review. Follow "
            "`next` for the following page; a cursor is signed and opaque."
        ),
        parameters=[
            *FILTERS,
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next`."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                description=f"Rows per page (default {PAGE_SIZE}).",
            ),
        ],
        responses={200: shapes.QuestionPageSerializer, **REFUSALS},
    )
    def get(self, request: Request) -> Response:
        try:
            size = _page_size(request.query_params.get("page_size"))
            raw_cursor = request.query_params.get("cursor")
            after = _cursor(raw_cursor) if raw_cursor else None
        except _Refused as refused:
            return refused.response
        form = _form(request)
        if isinstance(form, Response):
            return form
        results: list[dict[str, Any]] = []
        last: tuple[datetime, int] | None = None
        more = False
        scope = form.scope()
        rows = question_rows(scope, anonymise=form.anonymise, after=after)
        try:
            for row in rows:
                if len(results) == size:
                    more = True
                    break
                results.append({column: row[column] for column in COLUMNS})
                last = row["_cursor"]
        finally:
            rows.close()  # frees the database cursor of a page cut short
        next_url = None
        if more and last is not None:
            # The next page covers the same days even if a named period moves at midnight.
            query = request.query_params.copy()
            query.pop("period", None)
            query["first"] = scope.period.first.isoformat()
            query["last"] = scope.period.last.isoformat()
            query["cursor"] = signing.dumps([last[0].isoformat(), last[1]], salt=CURSOR_SALT)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"next": next_url, "results": results})


def not_found(request: Any, *args: Any, **kwargs: Any) -> Any:
    """Any other path under /api/: a JSON 404, not the site's HTML page."""
    from django.http import JsonResponse

    return JsonResponse({"detail": "No such endpoint; see /api/docs/."}, status=404)
