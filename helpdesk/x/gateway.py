"""The X gateway: the only module that calls X, and it does so only through tweepy.

tweepy's ``Client`` always addresses https://api.twitter.com and sends through its
``requests`` session. We mount one transport adapter there: it gives every call a timeout
(tweepy sets none) and, when ``X_API_BASE_URL`` is set, sends the request to the X sandbox
instead. Everything else is tweepy as production uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import tweepy
from django.conf import settings
from oauthlib.oauth2 import OAuth2Error
from requests.adapters import HTTPAdapter

from helpdesk.models import XAccount
from helpdesk.x import metering

X_API_ORIGIN = "https://api.twitter.com"

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "lang",
    "entities",
    "public_metrics",
    "author_id",
]
USER_FIELDS = ["name", "username", "description", "public_metrics", "verified"]
EXPANSIONS = ["author_id", "referenced_tweets.id", "in_reply_to_user_id"]
PAGE_SIZE = 100
# What every timeline read asks for: full pages, the authors, and the fields that thread
# and route a question.
_READ_PARAMS: dict[str, Any] = {
    "max_results": PAGE_SIZE,
    "expansions": EXPANSIONS,
    "tweet_fields": TWEET_FIELDS,
    "user_fields": USER_FIELDS,
    "user_auth": False,
}

# Errors callers handle; re-exported so nothing else needs to import tweepy.
TooManyRequests = tweepy.TooManyRequests
TwitterServerError = tweepy.TwitterServerError
Unauthorized = tweepy.Unauthorized
Forbidden = tweepy.Forbidden
BadRequest = tweepy.BadRequest
NotFound = tweepy.NotFound
HTTPException = tweepy.HTTPException
TransportError = requests.exceptions.RequestException
# X refused an OAuth 2.0 exchange (bad code, verifier, state or refresh token).
OAuth2Refused: type[Exception] = OAuth2Error


class XTransportAdapter(HTTPAdapter):
    """Gives every request a timeout and, for the sandbox, rewrites the X origin; counts
    every call for the X bill, on behalf of ``account`` (see ``helpdesk.x.metering``)."""

    def __init__(self, base_url: str, timeout: float, account: XAccount | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.account = account

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        counted = request.copy()
        if self.base_url and request.url and request.url.startswith(X_API_ORIGIN + "/"):
            request.url = self.base_url + request.url[len(X_API_ORIGIN) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        try:
            response = super().send(request, **kwargs)
        except requests.exceptions.RequestException as error:
            metering.record_call(self.account, counted, None, f"{type(error).__name__}")
            raise
        metering.record_call(self.account, counted, response)
        return response


def mount_transport(
    session: requests.Session, base_url: str | None = None, account: XAccount | None = None
) -> None:
    """Route ``session``'s X calls through our adapter (used for OAuth2 handlers too);
    ``account`` is the care account whose brand the calls are billed to, if any."""
    adapter = XTransportAdapter(
        settings.X_API_BASE_URL if base_url is None else base_url,
        settings.X_HTTP_TIMEOUT_SECONDS,
        account,
    )
    session.mount(X_API_ORIGIN + "/", adapter)


def client_for(account: XAccount) -> tweepy.Client:
    """A tweepy client with the account's credentials that returns raw responses, so we
    can read X's rate-limit headers on success as well as on failure."""
    client = tweepy.Client(
        bearer_token=account.bearer_token or None,
        consumer_key=account.consumer_key or None,
        consumer_secret=account.consumer_secret or None,
        access_token=account.access_token or None,
        access_token_secret=account.access_token_secret or None,
        return_type=requests.Response,
        wait_on_rate_limit=False,
    )
    mount_transport(client.session, account=account)
    return client


@dataclass(frozen=True)
class RateLimit:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None

    @classmethod
    def from_headers(cls, headers: Any) -> RateLimit:
        def number(name: str) -> int | None:
            value = headers.get(name)
            try:
                return int(value) if value is not None else None
            except (TypeError, ValueError):
                return None

        reset = number("x-rate-limit-reset")
        return cls(
            limit=number("x-rate-limit-limit"),
            remaining=number("x-rate-limit-remaining"),
            reset_at=datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None,
        )


@dataclass(frozen=True)
class Page:
    payload: dict[str, Any]
    rate_limit: RateLimit

    @property
    def next_token(self) -> str | None:
        meta = self.payload.get("meta") or {}
        token = meta.get("next_token")
        return token if isinstance(token, str) and token else None

    @property
    def newest_id(self) -> str | None:
        meta = self.payload.get("meta") or {}
        newest = meta.get("newest_id")
        return str(newest) if newest else None


def _page(response: requests.Response) -> Page:
    try:
        payload = response.json()
    except ValueError as error:
        raise TwitterServerError(response) from error
    if not isinstance(payload, dict):
        raise TwitterServerError(response)
    return Page(payload=payload, rate_limit=RateLimit.from_headers(response.headers))


def fetch_mentions(
    client: tweepy.Client, user_id: str, *, since_id: str | None, pagination_token: str | None
) -> Page:
    """One page (up to 100, newest first) of the account's mentions."""
    response = client.get_users_mentions(
        user_id,
        since_id=since_id or None,
        pagination_token=pagination_token or None,
        **_READ_PARAMS,
    )
    return _page(response)


def search_recent(
    client: tweepy.Client, query: str, *, since_id: str | None, next_token: str | None
) -> Page:
    """One page of a listening query's recent results."""
    response = client.search_recent_tweets(
        query,
        since_id=since_id or None,
        next_token=next_token or None,
        **_READ_PARAMS,
    )
    return _page(response)


def api_error_detail(error: Exception) -> str:
    """A short human-readable reason for an X or transport error."""
    if isinstance(error, tweepy.HTTPException):
        messages = [str(m) for m in error.api_messages] or [error.response.reason or ""]
        return f"{error.response.status_code} {'; '.join(m for m in messages if m)}".strip()
    return f"{type(error).__name__}: {error}"


# --- OAuth 2.0 (PKCE): a volunteer's own X account ------------------------------------------

OAUTH2_SCOPES = ["tweet.read", "tweet.write", "users.read", "offline.access"]
OAUTH2_TOKEN_URL = X_API_ORIGIN + "/2/oauth2/token"
X_AUTHORIZE_ORIGIN = "https://twitter.com"


class OAuth2NotConfigured(RuntimeError):
    """The desk has no OAuth 2.0 client id, so nobody can link an X account."""


def oauth2_handler(redirect_uri: str) -> tweepy.OAuth2UserHandler:
    """tweepy's PKCE handler for the desk's OAuth 2.0 client, sending through our transport.

    The handler is a ``requests`` session: its token calls to api.twitter.com go through the
    adapter like every other X call.
    """
    client_id = settings.X_OAUTH_CLIENT_ID
    if not client_id:
        raise OAuth2NotConfigured("X_OAUTH_CLIENT_ID is not set")
    handler = tweepy.OAuth2UserHandler(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=OAUTH2_SCOPES,
        client_secret=settings.X_OAUTH_CLIENT_SECRET or None,
    )
    mount_transport(handler)
    return handler


def authorization_url(handler: tweepy.OAuth2UserHandler) -> str:
    """The URL to send the person to; on the sandbox, its own authorize page."""
    url = str(handler.get_authorization_url())
    base = settings.X_API_BASE_URL.rstrip("/")
    if base and url.startswith(X_AUTHORIZE_ORIGIN + "/"):
        url = base + url[len(X_AUTHORIZE_ORIGIN) :]
    return url


def refresh_oauth2_token(refresh_token: str) -> dict[str, Any]:
    """A new token set for a refresh token (X rotates the refresh token too).

    Raises ``OAuth2Refused`` when X refuses, ``TransportError`` when it cannot be
    reached.
    """
    # The redirect URI plays no part in a refresh; the handler only wants one.
    handler = oauth2_handler(redirect_uri="")
    token = handler.refresh_token(
        OAUTH2_TOKEN_URL,
        refresh_token=refresh_token,
        auth=handler.auth,
        client_id=settings.X_OAUTH_CLIENT_ID,
    )
    return dict(token)


def get_me_with_user_token(access_token: str) -> dict[str, Any]:
    """``GET /2/users/me`` as the person whose OAuth 2.0 access token this is: their
    ``id``, ``username`` and ``name``."""
    client = tweepy.Client(bearer_token=access_token, return_type=dict, wait_on_rate_limit=False)
    mount_transport(client.session)
    payload = client.get_me(user_auth=False)
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not data.get("id") or not data.get("username"):
        raise ValueError("X answered users/me without an id and a username")
    return data


def client_for_user_token(access_token: str, account: XAccount | None = None) -> tweepy.Client:
    """A tweepy client acting as the person whose OAuth 2.0 access token this is (a
    volunteer's linked account), returning raw responses like :func:`client_for`. The desk's
    app pays for its calls: they are counted for ``account`` (the care account the reply
    belongs to)."""
    client = tweepy.Client(
        bearer_token=access_token, return_type=requests.Response, wait_on_rate_limit=False
    )
    mount_transport(client.session, account=account)
    return client


def _signs_as_user(client: tweepy.Client) -> bool:
    """OAuth 1.0a user context (a care account) signs the request; otherwise the bearer
    token is an OAuth 2.0 user token (a linked account), sent as it is."""
    return bool(client.consumer_key and client.access_token)


# --- Posting as a care account (OAuth 1.0a) or a linked account (OAuth 2.0) ----------------

# How far back, in pages of 100 of the account's own posts, we look for an earlier attempt.
LOOKUP_PAGES = 20


def create_reply(
    client: tweepy.Client, text: str, in_reply_to_tweet_id: str
) -> tuple[str, RateLimit]:
    """Post ``text`` in reply to a tweet; the new tweet's id and X's rate-limit headers.

    Raises tweepy's errors (``Forbidden`` for duplicate content or a reply X does not allow,
    ``TooManyRequests``, ``TwitterServerError``...) and ``TransportError`` on a timeout: an
    error after the request left says nothing about whether X posted it.
    """
    response = client.create_tweet(
        text=text, in_reply_to_tweet_id=in_reply_to_tweet_id, user_auth=_signs_as_user(client)
    )
    page = _page(response)
    data = page.payload.get("data") or {}
    tweet_id = data.get("id") if isinstance(data, dict) else None
    if not tweet_id:
        raise TwitterServerError(response)
    return str(tweet_id), page.rate_limit


def find_posted_reply(
    client: tweepy.Client,
    account_user_id: str,
    in_reply_to_tweet_id: str,
    text: str,
    since: datetime | None,
    until: datetime | None = None,
) -> str | None:
    """The id of the account's reply to ``in_reply_to_tweet_id`` posted since ``since``, if
    X shows one among its posts between ``since`` and ``until`` (newest first; at X's
    posting limit a window of a few minutes is one page).

    A reply to that very tweet is what we look for; when several exist, the one with the
    same text wins (X may rewrite links, so the text alone would miss)."""
    params: dict[str, Any] = {
        "max_results": PAGE_SIZE,
        "tweet_fields": ["referenced_tweets", "created_at"],
        "user_auth": not client.bearer_token,
    }
    if since is not None:
        params["start_time"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if until is not None:
        # X takes whole seconds: round up so the window still holds ``until``.
        ceiling = until.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
        params["end_time"] = ceiling.strftime("%Y-%m-%dT%H:%M:%SZ")
    token: str | None = None
    found: list[tuple[str, str]] = []
    for _ in range(LOOKUP_PAGES):
        page = _page(client.get_users_tweets(account_user_id, pagination_token=token, **params))
        for tweet in page.payload.get("data") or []:
            refs = tweet.get("referenced_tweets") or []
            if any(
                r.get("type") == "replied_to" and str(r.get("id")) == in_reply_to_tweet_id
                for r in refs
            ):
                found.append((str(tweet["id"]), str(tweet.get("text", ""))))
        token = page.next_token
        if not token:
            break
    for tweet_id, posted in found:
        if posted.strip() == text.strip():
            return tweet_id
    return found[0][0] if found else None


def delete_tweet(client: tweepy.Client, tweet_id: str) -> None:
    """Delete one of the account's posts. A tweet X no longer has counts as deleted."""
    try:
        client.delete_tweet(tweet_id, user_auth=_signs_as_user(client))
    except tweepy.NotFound:
        return
