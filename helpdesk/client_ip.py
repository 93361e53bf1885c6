"""The address a request came from, for the per-address limits (logins, public forms).

Only the reverse proxies named in ``HELPFORCE_TRUSTED_PROXIES`` (addresses or networks) may
say who the client is. When the connection comes from one of them, ``X-Forwarded-For`` is read
from the right, where each proxy appended the address it saw, past every named proxy: the
first address that is not one of them is the client's. Anything further left is whatever the
client wrote, and is not believed. From any other address (with no proxy named, from every
address) the client is the connection's own address, ``REMOTE_ADDR``.

The web server must pass the connection's address through untouched: uvicorn rewrites it from
``X-Forwarded-For`` unless started with ``--no-proxy-headers`` (see
``helpdesk.management.commands.demo.web_server_config``).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from helpdesk.env import Network


def _is_proxy(address: str, proxies: list[Network]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_ip(request: HttpRequest) -> str:
    """The client's address, as the module docstring says; never one only the client wrote."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies: list[Network] = settings.TRUSTED_PROXIES
    if not _is_proxy(remote, proxies):
        return remote
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    client = remote
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # not an address: the last one a named proxy vouched for
        client = hop
        if not _is_proxy(hop, proxies):
            return hop
    return client
