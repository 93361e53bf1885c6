"""Which address the per-address limits count: the connection's, or the one the reverse
proxies named in HELPFORCE_TRUSTED_PROXIES saw; never one the client wrote into
X-Forwarded-For itself."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from helpdesk.client_ip import client_ip
from helpdesk.env import env_networks

PROXY = "192.0.2.10"


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        ("", PROXY, "", PROXY),
        ("", PROXY, "203.0.113.5", PROXY),  # no proxy named: the header is the client's own
        (PROXY, PROXY, "203.0.113.5", "203.0.113.5"),
        (PROXY, PROXY, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged first entry
        # Not from a named proxy (someone reaching the desk directly): not believed.
        (PROXY, "198.51.100.9", "203.0.113.5", "198.51.100.9"),
        # Two proxies, by network: past both, then the client.
        ("192.0.2.0/24", PROXY, "6.6.6.6, 203.0.113.5, 192.0.2.11", "203.0.113.5"),
        # Only proxies in the header: the one furthest from the desk.
        ("192.0.2.0/24", PROXY, "192.0.2.11", "192.0.2.11"),
        (PROXY, PROXY, "", PROXY),
        (PROXY, PROXY, "not-an-address", PROXY),
        (PROXY, PROXY, "6.6.6.6, not-an-address, 203.0.113.5", "203.0.113.5"),
        (PROXY, PROXY, "2001:db8::7", "2001:db8::7"),
        ("2001:db8:1::/48", "2001:db8:1::2", "203.0.113.5", "203.0.113.5"),
    ],
)
def test_the_client_address(
    settings: Any, proxies: str, remote: str, forwarded: str, expected: str
) -> None:
    settings.TRUSTED_PROXIES = env_networks("PROXIES", {"PROXIES": proxies})
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=remote)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded

    assert client_ip(request) == expected


def test_the_trusted_proxies_are_read_as_addresses_and_networks() -> None:
    environ = {"HELPFORCE_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/24 ,::1"}

    assert env_networks("HELPFORCE_TRUSTED_PROXIES", environ) == [
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("10.0.0.0/24"),
        ipaddress.ip_network("::1/128"),
    ]
    assert env_networks("HELPFORCE_TRUSTED_PROXIES", {}) == []


@pytest.mark.parametrize("value", ["1", "0", "proxy.example", "10.0.0.300"])
def test_a_count_or_a_name_is_refused_at_start_up(value: str) -> None:
    # A count was what this variable took before; it must not pass for "no proxy".
    with pytest.raises(ImproperlyConfigured, match="HELPFORCE_TRUSTED_PROXIES must list"):
        env_networks("HELPFORCE_TRUSTED_PROXIES", {"HELPFORCE_TRUSTED_PROXIES": value})
