"""Response headers Django 5.2 does not set itself: the Content-Security-Policy, and
``Cache-Control: no-store`` on every response to a signed-in person.

(Django 6.0 brings its own CSP middleware; until then this one sets a fixed policy, which is
all the desk needs: every script and style is a file of its own, served from the desk.)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _


class SecurityHeadersMiddleware(MiddlewareMixin):
    """Sets ``settings.CONTENT_SECURITY_POLICY`` on every response that has none, and marks
    every response to a signed-in person ``no-store``: their queue, drafts and reports must
    not stay in a shared computer's cache or a proxy's (a store computer serves many people).
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        policy: str = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class FormTextMiddleware(MiddlewareMixin):
    """Refuses, with the 400 page and before any view, a query string or form holding a NUL
    character or a text longer than ``settings.MAX_TEXT_CHARS``.

    PostgreSQL text cannot hold NUL: a NUL reaching a query or a row is a 500 there and a
    silent difference on SQLite. And no field of the desk needs more than a few thousand
    characters (a reply is 280), while a megabyte-long draft costs seconds of linting and
    a megabyte-long note is kept for ever. Checked once here rather than in every form."""

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        limit: int = settings.MAX_TEXT_CHARS
        for data in (request.GET, request.POST):
            for key, values in data.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    reason = _("The request holds a NUL character, which no text may contain.")
                    return _refused(request, key, reason)
                longest = max((len(value) for value in values), default=0)
                if longest > limit:
                    reason = _(
                        "A text you sent is %(length)s characters long; the desk takes at "
                        "most %(limit)s in one field."
                    ) % {"length": f"{longest:,}", "limit": f"{limit:,}"}
                    return _refused(request, key, reason)
        return None


class MethodNotAllowedPageMiddleware(MiddlewareMixin):
    """Gives the empty 405 that ``require_POST`` and its kind answer the site's page, so a
    person who opens a form's address (a bookmark, the back button, a link pasted from a
    page) is told what happened in the site's layout, not shown a blank page. Answers that
    carry a body of their own (the API's JSON) are left as they are."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code != 405 or not isinstance(response, HttpResponse):
            return response
        if response.content:
            return response
        page = render(request, "405.html", status=405)
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page


def _refused(request: HttpRequest, field: str, reason: str) -> HttpResponse:
    """The 400 page; for the API, its JSON errors (as its own validation answers)."""
    if request.path.startswith("/api/"):
        field = field.replace("\x00", "")
        errors = {field or "__all__": [{"message": reason, "code": "invalid"}]}
        return JsonResponse({"errors": errors}, status=400)
    return render(request, "400.html", {"reason": reason}, status=400)
