"""Which address the per-address limits count: the connection's, or the one the trusted
reverse proxies saw; never one the client wrote into X-Forwarded-For itself."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from helpdesk.client_ip import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "192.0.2.10"),
        (0, "203.0.113.5", "192.0.2.10"),  # no proxy trusted: the header is the client's own
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged first entry is ignored
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "192.0.2.10"),  # fewer hops than proxies: do not guess
        (1, "", "192.0.2.10"),
        (1, "not-an-address", "192.0.2.10"),
        (1, "2001:db8::7", "2001:db8::7"),
    ],
)
def test_the_client_address(settings: Any, proxies: int, forwarded: str, expected: str) -> None:
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="192.0.2.10")
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded

    assert client_ip(request) == expected
