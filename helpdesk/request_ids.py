"""A request id on every log line of a request, and on its response (``X-Request-ID``).

The id is made here, or taken from ``X-Request-ID`` when the connection comes from one of
the proxies named in ``HELPFORCE_TRUSTED_PROXIES`` (so a load balancer's id follows the
request through), if it is a short plain token; a client cannot choose the id its lines
are logged under. It lives in a context variable, which Django carries into the thread a
synchronous view runs in, and ``RequestIdFilter`` writes it on every record.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from helpdesk.client_ip import _is_proxy

HEADER = "X-Request-ID"
NONE = "-"
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
current: ContextVar[str] = ContextVar("helpforce_request_id", default=NONE)


def request_id_for(request: HttpRequest) -> str:
    given = request.headers.get(HEADER, "")
    remote = str(request.META.get("REMOTE_ADDR") or "")
    if given and _ACCEPTED.match(given) and _is_proxy(remote, settings.TRUSTED_PROXIES):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in ``MIDDLEWARE``: everything the request logs carries its id."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self._acall(request)
        # Not reset on the way out: Django logs an error response after the middleware has
        # returned, and that line belongs to this request too. The next request in this
        # thread (or ASGI task, which has a context of its own) sets its own.
        current.set(request_id_for(request))
        response: HttpResponseBase = self.get_response(request)
        response[HEADER] = current.get()
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        current.set(request_id_for(request))
        handler: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await handler(request)
        response[HEADER] = current.get()
        return response


class RequestIdFilter(logging.Filter):
    """Writes the current request's id (``-`` outside a request) as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get()
        return True
