"""Credentials: OAuth 1.0a signatures, and the OAuth 2.0 (PKCE) codes and tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote

from .errors import oauth_error

ACCESS_TOKEN_SECONDS = 7200
CODE_SECONDS = 300


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: an app (bearer token) or a user (OAuth 1.0a or OAuth 2.0)."""

    user_id: str | None
    bucket: str
    scopes: frozenset[str] | None = None  # None: not an OAuth 2.0 token, so no scopes apply

    @property
    def is_app(self) -> bool:
        return self.user_id is None

    def has_scope(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


def parse_oauth1_header(value: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization: OAuth k="v", ...`` header."""
    if value[:6].lower() != "oauth ":
        return None
    params: dict[str, str] = {}
    for part in value[6:].split(","):
        key, sep, raw = part.strip().partition("=")
        if not sep:
            continue
        params[unquote(key.strip())] = unquote(raw.strip().strip('"'))
    return params


def _enc(value: str) -> str:
    return quote(value, safe="~-._")


def oauth1_signature(
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """HMAC-SHA1 signature of a request per RFC 5849 section 3.4."""
    pairs = sorted((_enc(k), _enc(v)) for k, v in params if k not in ("oauth_signature", "realm"))
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join((method.upper(), _enc(url), _enc(normalized)))
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}".encode()
    digest = hmac.new(key, base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    scope: str
    user_id: str
    expires: float


@dataclass
class _Token:
    user_id: str
    client_id: str
    scope: str
    expires: float


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    scope: str

    def as_json(self) -> dict[str, str | int]:
        body: dict[str, str | int] = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "access_token": self.access_token,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        return body


class OAuth2Store:
    """Authorization codes, access tokens and refresh tokens of the PKCE flow."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        challenge: str,
        method: str,
        scope: str,
        user_id: str,
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            expires = self._clock() + CODE_SECONDS
            grant = _Code(client_id, redirect_uri, challenge, method, scope, user_id, expires)
            self._codes[code] = grant
        return code

    def exchange_code(
        self, *, code: str, verifier: str, redirect_uri: str, client_id: str
    ) -> TokenSet:
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires < self._clock():
            raise oauth_error("Value passed for the authorization code was invalid.")
        if client_id and client_id != grant.client_id:
            raise oauth_error("Value passed for the client id was invalid.")
        if redirect_uri != grant.redirect_uri:
            raise oauth_error(
                "Value passed for the redirect uri did not match the uri of the authorization code."
            )
        expected = s256(verifier) if grant.method.upper() == "S256" else verifier
        if not verifier or not hmac.compare_digest(expected, grant.challenge):
            raise oauth_error(
                "Value passed for the code verifier did not match the code challenge."
            )
        return self._issue(grant.user_id, grant.client_id, grant.scope)

    def refresh(self, *, refresh_token: str, client_id: str) -> TokenSet:
        with self._lock:
            grant = self._refresh.pop(refresh_token, None)
        if grant is None or (client_id and client_id != grant.client_id):
            raise oauth_error("Value passed for the token was invalid.")
        return self._issue(grant.user_id, grant.client_id, grant.scope)

    def _issue(self, user_id: str, client_id: str, scope: str) -> TokenSet:
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48) if "offline.access" in scope.split() else None
        with self._lock:
            token = _Token(user_id, client_id, scope, self._clock() + ACCESS_TOKEN_SECONDS)
            self._access[access] = token
            if refresh:
                self._refresh[refresh] = token
        return TokenSet(access, refresh, scope)

    def lookup(self, access_token: str) -> Principal | None:
        with self._lock:
            token = self._access.get(access_token)
        if token is None or token.expires < self._clock():
            return None
        return Principal(token.user_id, f"user:{token.user_id}", frozenset(token.scope.split()))

    def clear(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()
