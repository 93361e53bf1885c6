"""The API's documentation page, drawn on the server from the OpenAPI schema the API
serves: its endpoints, their parameters and an example, in the site's layout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.generators import SchemaGenerator

from helpdesk.reports.access import api_reader


def endpoints() -> list[dict[str, Any]]:
    """Each operation of the schema: path, method, summary, description, parameters."""
    generator = SchemaGenerator()  # type: ignore[no-untyped-call]
    schema = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    found = []
    for route, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            parameters = [
                {
                    "name": parameter["name"],
                    "type": parameter.get("schema", {}).get("type", ""),
                    "format": parameter.get("schema", {}).get("format", ""),
                    "choices": parameter.get("schema", {}).get("enum", []),
                    "description": parameter.get("description", ""),
                }
                for parameter in operation.get("parameters", [])
            ]
            found.append(
                {
                    "path": route,
                    "method": method.upper(),
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": parameters,
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return found


@login_required
@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    if api_reader(request.user) is None:
        raise PermissionDenied(_("The reporting API is for the agency's staff and administrators."))
    base = request.build_absolute_uri("/api/v1/")
    return render(request, "api/docs.html", {"endpoints": endpoints(), "base": base})
