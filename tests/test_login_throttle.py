"""Login throttling (django-axes): too many wrong passwords for one username from one address
lock that pair out for a while; other people at the same store computer, and the same person
elsewhere, can still sign in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from time_machine import TimeMachineFixture

PASSWORD = "correct horse battery"
STORE_COMPUTER = "10.1.2.3"
ELSEWHERE = "10.9.9.9"


@pytest.fixture
def users(db: None) -> dict[str, Any]:
    users = get_user_model().objects
    return {
        "alice": users.create_user(username="alice", password=PASSWORD),
        "bob": users.create_user(username="bob", password=PASSWORD),
    }


def post_login(client: Client, username: str, password: str, address: str = STORE_COMPUTER) -> Any:
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(response: Any) -> bool:
    """Logged in: sent on to the person's first page with a session (a person without a
    desk record lands on the home page, which tells them how to join)."""
    return bool(
        response.status_code == 302
        and response["Location"] == "/"
        and "_auth_user_id" in response.client.session
    )


def test_five_wrong_passwords_lock_that_username_at_that_computer(
    client: Client, users: dict[str, Any]
) -> None:
    for _ in range(4):
        assert (
            post_login(client, "alice", "wrong").status_code == 200
        )  # the form again, with an error

    fifth = post_login(Client(), "alice", "wrong")
    right_password = post_login(Client(), "alice", PASSWORD)

    assert fifth.status_code == 429
    assert right_password.status_code == 429
    assert "Wait 15 minutes, then try again." in right_password.content.decode()
    assert "_auth_user_id" not in Client().session
    attempt = AccessAttempt.objects.get(username="alice")
    # The right password during the lockout counts as one more failed attempt.
    assert (attempt.ip_address, attempt.failures_since_start) == (STORE_COMPUTER, 6)
    # Bob at the same store computer, and Alice elsewhere, are not locked out.
    assert signed_in(post_login(Client(), "bob", PASSWORD))
    assert signed_in(post_login(Client(), "alice", PASSWORD, address=ELSEWHERE))


def test_the_lock_lifts_after_the_cool_off(
    users: dict[str, Any], time_machine: TimeMachineFixture
) -> None:
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    for _ in range(5):
        post_login(Client(), "alice", "wrong")
    assert post_login(Client(), "alice", PASSWORD).status_code == 429

    time_machine.move_to(start + timedelta(minutes=16), tick=False)

    assert signed_in(post_login(Client(), "alice", PASSWORD))


def test_a_successful_login_resets_the_count(users: dict[str, Any]) -> None:
    for _ in range(4):
        post_login(Client(), "alice", "wrong")
    assert signed_in(post_login(Client(), "alice", PASSWORD))

    for _ in range(4):
        assert post_login(Client(), "alice", "wrong").status_code == 200

    assert signed_in(post_login(Client(), "alice", PASSWORD))


def test_the_lockout_page_speaks_french(users: dict[str, Any]) -> None:
    for _ in range(5):
        post_login(Client(), "alice", "wrong")

    response = Client().post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        REMOTE_ADDR=STORE_COMPUTER,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    page = response.content.decode()
    assert response.status_code == 429
    assert '<html lang="fr">' in page
    assert "Trop de tentatives" in page
