"""Linking a volunteer's own X account with OAuth 2.0 (PKCE), against the X sandbox over
HTTP; and the encryption of the stored tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.test import Client, RequestFactory
from time_machine import TimeMachineFixture

from charter.models import LinkedXAccount
from helpdesk import linking
from helpdesk.crypto import TokenDecryptionError, decrypt_token, encrypt_token
from helpdesk.models import AuditEvent, Brand, Role
from helpdesk.x import gateway
from tests.counts import programme_rows
from tests.factories import make_volunteer

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets
CALLBACK = "http://testserver/charter/x/callback/"


@pytest.fixture
def oauth(settings: Any, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sandbox, the desk's OAuth 2.0 client, and a customer ``vol_alex`` on the sandbox
    who approves the link. The callback is plain http here, which oauthlib allows only when
    told to."""
    settings.X_OAUTH_CLIENT_ID = "helpforce-client"
    settings.X_OAUTH_CLIENT_SECRET = "helpforce-secret"
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/users",
        json={"username": "vol_alex", "name": "Alex B."},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    sandbox.alex_id = response.json()["data"]["id"]
    return sandbox


def request_for(user: User, session: SessionStore | None = None) -> HttpRequest:
    request = RequestFactory().get("/charter/x/link/")
    request.user = user
    request.session = session if session is not None else SessionStore()
    return request


def approve(sandbox: Any, authorization_url: str, as_user: str = "vol_alex") -> str:
    """The person approves on X's page: where X sends their browser back."""
    response = requests.get(
        authorization_url, params={"as_user": as_user}, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302, response.text
    return str(response.headers["Location"])


def link(sandbox: Any, user: User) -> LinkedXAccount:
    request = request_for(user)
    redirect = approve(sandbox, linking.start_link(request))
    return linking.finish_link(request, redirect)


@pytest.fixture
def volunteer(brand: Brand) -> Any:
    return make_volunteer(brand, role=Role.VOLUNTEER)


# --- The round trip ------------------------------------------------------------------------


@pytest.mark.django_db
def test_linking_round_trip_stores_the_account_with_encrypted_tokens(
    oauth: Any, volunteer: Any, time_machine: TimeMachineFixture
) -> None:
    # Given a volunteer starting a link
    time_machine.move_to(NOW, tick=False)
    request = request_for(volunteer.user)

    # When they start, are sent to X's consent page, approve, and come back
    url = linking.start_link(request)
    pending = dict(request.session[linking.SESSION_KEY])
    redirect = approve(oauth, url)
    linked = linking.finish_link(request, redirect)

    # Then X was asked on the sandbox, for the desk's client and scopes, with PKCE (S256)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == oauth.base_url
    assert parts.path == "/i/oauth2/authorize"
    assert "code_challenge_method=S256" in parts.query
    assert "client_id=helpforce-client" in parts.query
    assert "scope=tweet.read+tweet.write+users.read+offline.access" in parts.query
    assert redirect.startswith(CALLBACK + "?")
    assert pending["redirect_uri"] == CALLBACK
    assert len(pending["verifier"]) == 128
    # And the link is stored for the X user who approved, with tokens that work
    stored = LinkedXAccount.objects.get(user=volunteer.user)
    assert stored == linked
    assert (stored.x_user_id, stored.username) == (oauth.alex_id, "vol_alex")
    assert stored.scope == "tweet.read tweet.write users.read offline.access"
    assert stored.expires_at == NOW + timedelta(hours=2)
    assert stored.linked_at == NOW
    access = decrypt_token(stored.access_token_encrypted)
    refresh = decrypt_token(stored.refresh_token_encrypted)
    assert stored.access_token_encrypted != access
    assert access not in stored.access_token_encrypted
    assert stored.refresh_token_encrypted != refresh
    assert refresh != access
    assert gateway.get_me_with_user_token(access)["username"] == "vol_alex"
    # And the state and verifier are spent; the link is on record
    assert linking.SESSION_KEY not in request.session
    event = AuditEvent.objects.get(kind="x_account.linked")
    assert (event.actor, event.brand_id) == (volunteer.user, volunteer.brand_id)
    assert event.data == {"x_user_id": oauth.alex_id, "username": "vol_alex"}


@pytest.mark.django_db
def test_linking_through_the_pages(oauth: Any, brand: Brand, client: Client) -> None:
    # Given a signed-in volunteer on their status page
    volunteer = make_volunteer(brand)
    assert client.login(username=volunteer.user.get_username(), password=PASSWORD)

    # When they press "Link my X account", approve on X, and X sends them back
    started = client.post("/charter/x/link/")
    assert started.status_code == 302
    redirect = approve(oauth, started["Location"])
    back = urlsplit(redirect)
    finished = client.get(f"{back.path}?{back.query}", follow=True)

    # Then they land on their status page, which shows the linked account
    page = finished.content.decode()
    assert finished.redirect_chain == [("/charter/status/", 302)]
    assert "Your X account @vol_alex is linked." in page
    assert "Linked: @vol_alex" in page
    assert LinkedXAccount.objects.get(user=volunteer.user).username == "vol_alex"


@pytest.mark.django_db
def test_a_state_that_does_not_match_is_refused_and_nothing_is_stored(
    oauth: Any, volunteer: Any
) -> None:
    # Given a link started in this session, and X's answer carrying another state
    request = request_for(volunteer.user)
    redirect = approve(oauth, linking.start_link(request))
    forged = redirect.replace("state=", "state=forged", 1)
    before = programme_rows()

    # When the answer comes back
    with pytest.raises(linking.LinkError) as refused:
        linking.finish_link(request, forged)

    # Then it is refused, nothing is stored, and the started link cannot be reused
    assert str(refused.value) == (
        "The answer from X does not match the link you started; start again."
    )
    assert programme_rows() == before
    assert linking.SESSION_KEY not in request.session
    with pytest.raises(linking.LinkError):
        linking.finish_link(request, redirect)
    assert programme_rows() == before


@pytest.mark.django_db
def test_an_answer_without_a_started_link_is_refused(oauth: Any, volunteer: Any) -> None:
    # Given X's answer for a link started in another browser
    elsewhere = request_for(volunteer.user)
    redirect = approve(oauth, linking.start_link(elsewhere))
    before = programme_rows()

    # When it arrives in a session that started nothing
    with pytest.raises(linking.LinkError) as refused:
        linking.finish_link(request_for(volunteer.user), redirect)

    # Then it is refused and nothing is stored
    assert str(refused.value) == "No link to X was started from this browser; start again."
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_declined_consent_is_refused(oauth: Any, volunteer: Any) -> None:
    request = request_for(volunteer.user)
    linking.start_link(request)
    state = request.session[linking.SESSION_KEY]["state"]
    before = programme_rows()

    with pytest.raises(linking.LinkError) as refused:
        linking.finish_link(request, f"{CALLBACK}?error=access_denied&state={state}")

    assert str(refused.value) == "X did not authorise the link."
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_code_x_refuses_is_refused(oauth: Any, volunteer: Any) -> None:
    request = request_for(volunteer.user)
    redirect = approve(oauth, linking.start_link(request))
    before = programme_rows()

    with pytest.raises(linking.LinkError) as refused:
        linking.finish_link(request, redirect.replace("code=", "code=x", 1))

    assert str(refused.value) == "X refused the link; start again."
    assert programme_rows() == before


@pytest.mark.django_db
def test_an_x_account_linked_to_someone_else_is_refused(oauth: Any, brand: Brand) -> None:
    # Given vol_alex linked by one volunteer
    first = make_volunteer(brand)
    link(oauth, first.user)
    before = programme_rows()

    # When another volunteer links the same X account
    with pytest.raises(linking.LinkError) as refused:
        link(oauth, make_volunteer(brand).user)

    # Then it is refused
    assert str(refused.value) == "This X account is already linked to another person."
    assert programme_rows()["linked_accounts"] == before["linked_accounts"]
    assert AuditEvent.objects.filter(kind="x_account.linked").count() == 1


@pytest.mark.django_db
def test_linking_again_replaces_the_tokens(oauth: Any, volunteer: Any) -> None:
    first = link(oauth, volunteer.user)

    second = link(oauth, volunteer.user)

    assert second.pk == first.pk
    assert decrypt_token(second.access_token_encrypted) != decrypt_token(
        first.access_token_encrypted
    )
    assert LinkedXAccount.objects.count() == 1


@pytest.mark.django_db
def test_linking_needs_the_desks_oauth_client(settings: Any, volunteer: Any) -> None:
    settings.X_OAUTH_CLIENT_ID = ""
    request = request_for(volunteer.user)

    with pytest.raises(linking.LinkError) as refused:
        linking.start_link(request)

    assert str(refused.value) == "Linking an X account is not set up on this desk."
    assert linking.SESSION_KEY not in request.session


# --- Using the link: refresh ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_fresh_token_is_handed_out_without_asking_x(
    oauth: Any, volunteer: Any, time_machine: TimeMachineFixture
) -> None:
    # Given a link made an hour and 54 minutes ago (six minutes of validity left)
    time_machine.move_to(NOW, tick=False)
    linked = link(oauth, volunteer.user)
    token_calls = oauth.world.requests["oauth2_token"]
    time_machine.move_to(NOW + timedelta(hours=1, minutes=54), tick=False)

    # When a token is asked for
    token = linking.valid_access_token(volunteer.user)

    # Then it is the stored one, and X was not asked for another
    assert token == decrypt_token(linked.access_token_encrypted)
    assert oauth.world.requests["oauth2_token"] == token_calls
    linked.refresh_from_db()
    assert linked.refreshed_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "later",
    [timedelta(hours=1, minutes=56), timedelta(hours=3)],
    ids=["within-five-minutes-of-expiry", "expired"],
)
def test_a_token_near_or_past_expiry_is_refreshed_and_the_new_tokens_stored(
    later: timedelta, oauth: Any, volunteer: Any, time_machine: TimeMachineFixture
) -> None:
    # Given a link whose access token expires within five minutes, or has expired
    time_machine.move_to(NOW, tick=False)
    linked = link(oauth, volunteer.user)
    old_access = decrypt_token(linked.access_token_encrypted)
    old_refresh = decrypt_token(linked.refresh_token_encrypted)
    time_machine.move_to(NOW + later, tick=False)

    # When a token is asked for
    token = linking.valid_access_token(volunteer.user)

    # Then X gave new tokens, which are stored encrypted, with the new expiry
    linked.refresh_from_db()
    assert token != old_access
    assert decrypt_token(linked.access_token_encrypted) == token
    assert linked.access_token_encrypted != token
    assert decrypt_token(linked.refresh_token_encrypted) not in (old_refresh, token)
    assert linked.expires_at == NOW + later + timedelta(hours=2)
    assert linked.refreshed_at == NOW + later
    assert gateway.get_me_with_user_token(token)["username"] == "vol_alex"
    event = AuditEvent.objects.get(kind="x_account.token_refreshed")
    assert event.actor == volunteer.user


@pytest.mark.django_db
def test_a_refused_refresh_says_to_link_again_and_changes_nothing(
    oauth: Any, volunteer: Any, time_machine: TimeMachineFixture
) -> None:
    # Given an expired link whose refresh token X no longer honours (it was rotated away)
    time_machine.move_to(NOW, tick=False)
    linked = link(oauth, volunteer.user)
    gateway.refresh_oauth2_token(decrypt_token(linked.refresh_token_encrypted))
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)
    before = programme_rows()

    # When a token is asked for
    with pytest.raises(linking.LinkError) as refused:
        linking.valid_access_token(volunteer.user)

    # Then the person is told to link again, and the stored link is unchanged
    assert str(refused.value) == "X refused to renew the link to your account; link it again."
    assert programme_rows() == before


@pytest.mark.django_db
def test_no_token_without_a_link(volunteer: Any) -> None:
    with pytest.raises(linking.LinkError) as refused:
        linking.valid_access_token(volunteer.user)

    assert str(refused.value) == "No X account is linked."


@pytest.mark.django_db
def test_unlinking_forgets_the_account(oauth: Any, volunteer: Any) -> None:
    link(oauth, volunteer.user)

    assert linking.unlink(volunteer.user) is True

    assert not LinkedXAccount.objects.exists()
    event = AuditEvent.objects.get(kind="x_account.unlinked")
    assert event.data == {"x_user_id": oauth.alex_id, "username": "vol_alex"}
    assert linking.unlink(volunteer.user) is False
    assert AuditEvent.objects.filter(kind="x_account.unlinked").count() == 1


# --- Token encryption ----------------------------------------------------------------------


def test_tokens_round_trip_and_do_not_show_in_the_ciphertext(settings: Any) -> None:
    settings.TOKEN_ENCRYPTION_KEY = ""

    encrypted = encrypt_token("access-token-123")

    assert "access-token-123" not in encrypted
    assert encrypted != encrypt_token("access-token-123")  # a fresh IV each time
    assert decrypt_token(encrypted) == "access-token-123"


def test_a_tampered_token_raises_a_clear_error(settings: Any) -> None:
    settings.TOKEN_ENCRYPTION_KEY = ""
    encrypted = encrypt_token("access-token-123")
    flipped = encrypted[:20] + ("A" if encrypted[20] != "A" else "B") + encrypted[21:]

    with pytest.raises(TokenDecryptionError) as raised:
        decrypt_token(flipped)
    with pytest.raises(TokenDecryptionError):
        decrypt_token("not a token at all")

    assert str(raised.value) == (
        "the stored token cannot be decrypted: it was altered or encrypted under another key"
    )


def test_the_derived_key_depends_on_the_secret_key(settings: Any) -> None:
    settings.TOKEN_ENCRYPTION_KEY = ""
    settings.SECRET_KEY = "first-secret"
    encrypted = encrypt_token("access-token-123")

    settings.SECRET_KEY = "second-secret"

    with pytest.raises(TokenDecryptionError):
        decrypt_token(encrypted)


def test_a_configured_key_is_used_instead_of_the_derived_one(settings: Any) -> None:
    key = Fernet.generate_key()
    settings.TOKEN_ENCRYPTION_KEY = key.decode()

    encrypted = encrypt_token("access-token-123")

    assert Fernet(key).decrypt(encrypted.encode()) == b"access-token-123"
    settings.TOKEN_ENCRYPTION_KEY = ""
    with pytest.raises(TokenDecryptionError):
        decrypt_token(encrypted)


@pytest.mark.parametrize("bad_key", ["short", "!" * 44])
def test_a_malformed_configured_key_fails_loudly(settings: Any, bad_key: str) -> None:
    settings.TOKEN_ENCRYPTION_KEY = bad_key

    with pytest.raises(ImproperlyConfigured) as raised:
        encrypt_token("x")

    assert "HELPFORCE_TOKEN_KEY must be a Fernet key" in str(raised.value)
