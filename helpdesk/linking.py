"""Linking a volunteer's own X account with OAuth 2.0 (authorization code with PKCE).

``start_link`` keeps the ``state`` and the code verifier in the person's session and sends
them to X; ``finish_link`` checks the ``state`` X sends back (ourselves, in constant time),
trades the code for tokens, asks X who the tokens belong to and stores the link with its
tokens encrypted. ``valid_access_token`` hands out a usable access token, refreshing it
shortly before it expires (X's access tokens last two hours).
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.models import LinkedXAccount
from helpdesk import audit
from helpdesk.crypto import TokenDecryptionError, decrypt_token, encrypt_token
from helpdesk.models import Volunteer
from helpdesk.x import gateway

log = logging.getLogger(__name__)

SESSION_KEY = "x_link"
REFRESH_MARGIN = timedelta(minutes=5)
DEFAULT_EXPIRES_IN = 7200  # X's access tokens last two hours when it does not say


class LinkError(RuntimeError):
    """Linking, or using a linked account, failed; the message says why in plain words."""


def _brand_id(user_id: int) -> int | None:
    return Volunteer.objects.filter(user_id=user_id).values_list("brand_id", flat=True).first()


def _signed_in(user: User | AnonymousUser) -> User:
    if not isinstance(user, User) or not user.is_authenticated:
        raise LinkError(_("Sign in first."))
    return user


def callback_url(request: HttpRequest) -> str:
    """Where X sends the person back; registered with X as the app's callback."""
    return request.build_absolute_uri(reverse("charter_pages:x-link-callback"))


def start_link(request: HttpRequest) -> str:
    """Begin linking the signed-in person's X account: the URL of X's consent page.

    The ``state`` and the PKCE code verifier stay in the session, for ``finish_link``.
    """
    _signed_in(request.user)
    redirect_uri = callback_url(request)
    try:
        handler = gateway.oauth2_handler(redirect_uri)
    except gateway.OAuth2NotConfigured as error:
        raise LinkError(_("Linking an X account is not set up on this desk.")) from error
    url = gateway.authorization_url(handler)
    request.session[SESSION_KEY] = {
        "state": handler._state,
        "verifier": handler._client.code_verifier,
        "redirect_uri": redirect_uri,
    }
    return url


def _expiry(token: dict[str, Any], now: datetime) -> datetime:
    try:
        seconds = int(token.get("expires_in") or DEFAULT_EXPIRES_IN)
    except (TypeError, ValueError):
        seconds = DEFAULT_EXPIRES_IN
    return now + timedelta(seconds=max(seconds, 0))


def finish_link(request: HttpRequest, callback_url: str) -> LinkedXAccount:
    """Complete the link from X's redirect back to us (``callback_url``, the full URL).

    Refuses (``LinkError``, nothing stored) when no link was started in this session, the
    ``state`` does not match, the person declined, or X refuses the code.
    """
    user = _signed_in(request.user)
    pending = request.session.pop(SESSION_KEY, None)
    if not isinstance(pending, dict) or not pending.get("state") or not pending.get("verifier"):
        raise LinkError(_("No link to X was started from this browser; start again."))
    query = parse_qs(urlsplit(callback_url).query)
    returned_state = (query.get("state") or [""])[-1]
    if not hmac.compare_digest(returned_state.encode(), str(pending["state"]).encode()):
        log.warning("X link refused for user %s: state mismatch", user.pk)
        raise LinkError(_("The answer from X does not match the link you started; start again."))
    if query.get("error"):
        raise LinkError(_("X did not authorise the link."))
    try:
        handler = gateway.oauth2_handler(str(pending["redirect_uri"]))
    except gateway.OAuth2NotConfigured as error:
        raise LinkError(_("Linking an X account is not set up on this desk.")) from error
    handler._client.code_verifier = str(pending["verifier"])
    handler._state = str(pending["state"])
    try:
        token = dict(handler.fetch_token(callback_url))
        me = gateway.get_me_with_user_token(str(token["access_token"]))
    except (
        gateway.OAuth2Refused,
        KeyError,
        ValueError,
        gateway.HTTPException,
        gateway.TransportError,
    ) as error:
        log.warning("X link failed for user %s: %s", user.pk, error)
        raise LinkError(_("X refused the link; start again.")) from error

    x_user_id = str(me["id"])
    username = str(me["username"])
    now = timezone.now()
    with transaction.atomic():
        taken = (
            LinkedXAccount.objects.select_for_update()
            .filter(x_user_id=x_user_id)
            .exclude(user=user)
            .exists()
        )
        if taken:
            raise LinkError(_("This X account is already linked to another person."))
        linked, _created = LinkedXAccount.objects.update_or_create(
            user=user,
            defaults={
                "x_user_id": x_user_id,
                "username": username,
                "access_token_encrypted": encrypt_token(str(token["access_token"])),
                "refresh_token_encrypted": encrypt_token(str(token["refresh_token"]))
                if token.get("refresh_token")
                else "",
                "expires_at": _expiry(token, now),
                "scope": " ".join(_scopes(token)),
                "linked_at": now,
                "refreshed_at": None,
            },
        )
        audit.record(
            "x_account.linked",
            actor=user,
            brand_id=_brand_id(user.pk),
            data={"x_user_id": x_user_id, "username": username},
        )
    return linked


def _scopes(token: dict[str, Any]) -> list[str]:
    scope = token.get("scope") or []
    return scope.split() if isinstance(scope, str) else [str(s) for s in scope]


def unlink(user: User) -> bool:
    """Forget the person's linked X account; False when there was none."""
    with transaction.atomic():
        linked = LinkedXAccount.objects.select_for_update().filter(user=user).first()
        if linked is None:
            return False
        data = {"x_user_id": linked.x_user_id, "username": linked.username}
        linked.delete()
        audit.record("x_account.unlinked", actor=user, brand_id=_brand_id(user.pk), data=data)
    return True


def valid_access_token(user: User) -> str:
    """An access token of the person's linked X account that is good for at least five more
    minutes, refreshed (and the new tokens stored) when needed.

    Raises ``LinkError`` when there is no linked account or the refresh fails: the person
    must link their account again.
    """
    with transaction.atomic():
        # Locked across the refresh: X rotates the refresh token, so two refreshes at once
        # would leave one of them holding a dead token.
        linked = LinkedXAccount.objects.select_for_update().filter(user=user).first()
        if linked is None:
            raise LinkError(_("No X account is linked."))
        now = timezone.now()
        try:
            if linked.expires_at - now > REFRESH_MARGIN:
                return decrypt_token(linked.access_token_encrypted)
            if not linked.refresh_token_encrypted:
                raise LinkError(_("The X link has expired; link your account again."))
            refresh_token = decrypt_token(linked.refresh_token_encrypted)
        except TokenDecryptionError as error:
            log.error("linked X account of user %s: %s", user.pk, error)
            raise LinkError(_("The stored X link is unreadable; link your account again.")) from (
                error
            )
        try:
            token = gateway.refresh_oauth2_token(refresh_token)
            access_token = str(token["access_token"])
        except (
            gateway.OAuth2Refused,
            KeyError,
            gateway.HTTPException,
            gateway.TransportError,
        ) as error:
            log.warning("refreshing the X token of user %s failed: %s", user.pk, error)
            raise LinkError(
                _("X refused to renew the link to your account; link it again.")
            ) from error
        linked.access_token_encrypted = encrypt_token(access_token)
        if token.get("refresh_token"):
            linked.refresh_token_encrypted = encrypt_token(str(token["refresh_token"]))
        linked.expires_at = _expiry(token, now)
        linked.refreshed_at = now
        if token.get("scope"):
            linked.scope = " ".join(_scopes(token))
        linked.save()
        audit.record(
            "x_account.token_refreshed",
            actor=user,
            brand_id=_brand_id(user.pk),
            data={"x_user_id": linked.x_user_id, "expires_at": linked.expires_at.isoformat()},
        )
    return access_token
