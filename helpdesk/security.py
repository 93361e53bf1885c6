"""Response headers Django 5.2 does not set itself: the Content-Security-Policy, and
``Cache-Control: no-store`` on every response to a signed-in person.

(Django 6.0 brings its own CSP middleware; until then this one sets a fixed policy, which is
all the desk needs: every script and style is a file of its own, served from the desk.)
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin


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
