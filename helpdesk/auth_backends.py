"""Login throttling with django-axes, for logins over HTTP only.

django-axes's backend refuses any ``authenticate()`` call without a request. Signing in over
HTTP always has one (Django's ``LoginView`` passes it); calls without one (management
commands, Django's test client) come from no address and from no one who could be guessing
passwords, so they are let through to the next backend, which checks the password as usual.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

LOCKED_OUT_STATUS = 429


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None


def locked_out(
    request: HttpRequest, response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """The page a locked-out login gets (429), saying how long to wait, in their language."""
    minutes = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes},
        status=LOCKED_OUT_STATUS,
    )
