"""Token authentication for the reporting API: ``Authorization: Bearer <token>``.

A token is ``hf_<prefix>_<secret>``; the prefix finds the row, and the SHA-256 of the whole
token, compared in constant time, proves it. Only the hash is stored, so a leaked database
gives no usable token. Revoked tokens and people who left the programme are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from helpdesk.reports.models import ApiToken

TOKEN_PREFIX = "hf_"  # noqa: S105 - a marker in front of every token, not a secret
TOKEN_SHAPE = re.compile(r"hf_(?P<prefix>[0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")
# last_used_at is written at most this often per token (a busy integration polls often).
TOUCH_SECONDS = 60


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the token itself, which is never stored and
    is shown to the person once."""
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=user, name=name.strip(), prefix=prefix, key_hash=hash_token(token)
    )
    return row, token


def token_user(token: str) -> User | None:
    """The active user behind ``token``, or None. Only the shape ``make_token`` gives is
    looked up: anything else (a NUL, other characters, another length) never reaches the
    database."""
    shape = TOKEN_SHAPE.fullmatch(token)
    if shape is None:
        return None
    prefix = shape["prefix"]
    row = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.key_hash, hash_token(token)):
        return None
    if not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > TOUCH_SECONDS:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        # Read as sent: DRF's helper encodes the header as Latin-1 and fails on the rest.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        if not header.isascii() or not header.isprintable():
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        user = token_user(token.strip())
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return user, None

    def authenticate_header(self, request: Any) -> str:
        return f'{self.keyword} realm="api"'
