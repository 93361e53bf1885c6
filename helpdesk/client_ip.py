"""The address a request came from, for the per-address limits (logins, public forms).

Behind ``HELPFORCE_TRUSTED_PROXIES`` reverse proxies that each append the address they saw to
``X-Forwarded-For``, the client is that many entries from the right: anything further left
is whatever the client sent, and is not believed. With no proxy (the default) it is the
connection's own address, ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(settings.TRUSTED_PROXIES)
    if proxies <= 0:
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate
