"""The per-address limits through the real web server (uvicorn, configured as ``manage.py
demo`` configures it): a client cannot choose its address by writing X-Forwarded-For; a
proxy named in HELPFORCE_TRUSTED_PROXIES can say who its client is. No browser needed."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery"


def log_in(base: str, username: str, password: str, forwarded_for: str) -> requests.Response:
    session = requests.Session()
    form = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    return session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token[1]},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
        timeout=10,
    )


@pytest.fixture
def alice(file_database: None) -> Any:
    return get_user_model().objects.create_user(username="alice", password=PASSWORD)


def test_a_client_writing_x_forwarded_for_is_still_locked_out(
    server_url: str, settings: Any, alice: Any
) -> None:
    # Given no proxy named (the demo, and a desk reached directly)
    settings.TRUSTED_PROXIES = []

    # When a client guesses five times, each time claiming another address
    guesses = [log_in(server_url, "alice", "wrong", f"203.0.113.{n}") for n in range(5)]
    # and then sends the right password from yet another one
    right = log_in(server_url, "alice", PASSWORD, "198.51.100.7")

    # Then every guess counted against the connection's own address, and the lock holds
    assert [g.status_code for g in guesses] == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    assert "sessionid" not in right.cookies
    attempts = AccessAttempt.objects.filter(username="alice")
    assert [(a.ip_address, a.failures_since_start) for a in attempts] == [("127.0.0.1", 6)]


def test_a_named_proxy_says_who_its_client_is(server_url: str, settings: Any, alice: Any) -> None:
    # Given the desk behind a proxy on this machine, named as trusted
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]

    # When it forwards a wrong password from 203.0.113.5 (whose client wrote 6.6.6.6)
    response = log_in(server_url, "alice", "wrong", "6.6.6.6, 203.0.113.5")

    # Then the attempt counts against the address the proxy saw
    assert response.status_code == 200
    attempts = AccessAttempt.objects.filter(username="alice")
    assert [(a.ip_address, a.failures_since_start) for a in attempts] == [("203.0.113.5", 1)]
