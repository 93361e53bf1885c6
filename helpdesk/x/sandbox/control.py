"""The control API under ``/_sandbox/``: set the world up, inject traffic and faults, inspect.

No authentication: it answers loopback clients only.
"""

from __future__ import annotations

from typing import Protocol

from . import render
from .errors import ApiError, bad_request, forbidden, page_not_found
from .limits import Fault
from .records import JSON, SandboxAccount, Tweet, User, parse_time
from .storm import LANGUAGES, raise_storm
from .wire import Reply, Request, text_field
from .world import World

ACCOUNT_FIELDS = (
    "bearer_token",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
    "language",
)


class Traffic(Protocol):
    @property
    def rate(self) -> float: ...

    @property
    def generated(self) -> int: ...

    def set_rate(self, rate: float) -> None: ...


def _is_loopback(host: str) -> bool:
    return host.startswith("127.") or host in ("::1", "localhost") or host.startswith("::ffff:127.")


def _value_error(error: ValueError) -> ApiError:
    return bad_request(str(error))


def add_account(world: World, body: JSON) -> Reply:
    username = text_field(body, "username")
    user_id = text_field(body, "user_id")
    assert username is not None and user_id is not None
    fields = {name: text_field(body, name, required=False) or "" for name in ACCOUNT_FIELDS}
    try:
        user = world.add_account(SandboxAccount(username, user_id, **fields))
    except ValueError as error:
        raise _value_error(error) from error
    return Reply(201, {"data": {"id": user.id, "username": user.username}})


def add_user(world: World, body: JSON) -> Reply:
    username = text_field(body, "username")
    assert username is not None
    try:
        user = world.add_user(
            username,
            name=text_field(body, "name", required=False),
            description=text_field(body, "description", required=False) or "",
            user_id=text_field(body, "id", required=False),
        )
    except ValueError as error:
        raise _value_error(error) from error
    return Reply(201, {"data": render.render_user(world, user, render.USER_FIELDS)})


def _author(world: World, item: JSON) -> User:
    author_id = text_field(item, "author_id", required=False)
    if author_id is not None:
        user = world.user(author_id)
        if user is None:
            raise bad_request(f"unknown author_id {author_id}")
        return user
    username = text_field(item, "author_username")
    assert username is not None
    try:
        return world.add_user(username, origin="auto")
    except ValueError as error:
        raise _value_error(error) from error


def inject_tweets(world: World, body: JSON) -> Reply:
    items = body.get("tweets", [body])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise bad_request("`tweets` must be a list of objects")
    ids: list[str] = []
    with world.lock:
        for index, item in enumerate(items):
            try:
                ids.append(_inject_one(world, item).id)
            except ApiError as error:
                error.body["index"] = index
                error.body["created_ids"] = ids
                raise
    return Reply(201, {"ids": ids})


def _inject_one(world: World, item: JSON) -> Tweet:
    author = _author(world, item)
    retweet_of = text_field(item, "retweet_of", required=False)
    text = text_field(item, "text", required=retweet_of is None) or ""
    raw_time = text_field(item, "created_at", required=False)
    created_at = parse_time(raw_time) if raw_time is not None else None
    if raw_time is not None and created_at is None:
        raise bad_request(f"created_at [{raw_time}] is not an RFC 3339 timestamp")
    return world.inject(
        author,
        text,
        in_reply_to=text_field(item, "in_reply_to_tweet_id", required=False),
        quote_of=text_field(item, "quote_tweet_id", required=False),
        retweet_of=retweet_of,
        lang=text_field(item, "lang", required=False),
        created_at=created_at,
    )


MAX_STORM = 1000


def storm(world: World, body: JSON) -> Reply:
    """``{"account": <care username>, "count": n, "language": "en" | "fr" | "mixed",
    "start": k}``: n angry mentions of the account at once (``storm``)."""
    account = text_field(body, "account")
    assert account is not None
    count, start = body.get("count", 30), body.get("start", 0)
    language = body.get("language", "mixed")
    for name, value in (("count", count), ("start", start)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad_request(f"`{name}` must be a whole number, 0 or more")
    if not 1 <= count <= MAX_STORM:
        raise bad_request(f"`count` must be between 1 and {MAX_STORM}")
    if language not in LANGUAGES:
        raise bad_request("`language` must be 'en', 'fr' or 'mixed'")
    if not any(known.username.lower() == account.lower() for known in world.accounts()):
        raise bad_request(f"unknown care account {account!r}")
    tweets = raise_storm(world, account, count, language, start)
    return Reply(201, {"ids": [tweet.id for tweet in tweets]})


def list_tweets(world: World, request: Request) -> Reply:
    query = {name: values[-1] for name, values in request.query.items()}
    tweets = world.find(
        author=query.get("author"),
        in_reply_to=query.get("in_reply_to"),
        conversation_id=query.get("conversation_id"),
    )
    shape = render.Shape(render.TWEET_FIELDS, render.USER_FIELDS, frozenset({"author_id"}))
    body = render.render_tweets(world, tweets, shape) if tweets else {"data": []}
    for data, tweet in zip(body["data"], tweets, strict=True):
        data["author_username"] = tweet.author_username
        data["via_api"] = tweet.via_api
    body["meta"] = {"result_count": len(tweets)}
    return Reply(200, body)


def add_fault(world: World, body: JSON) -> Reply:
    try:
        count = int(body.get("count", 1))
        seconds = float(body.get("seconds", 0.0))
        fault = Fault(str(body.get("endpoint", "*")), str(body.get("kind", "")), count, seconds)
        world.faults.add(fault)
    except (TypeError, ValueError) as error:
        raise bad_request(str(error)) from error
    return Reply(201, {"data": _faults(world)})


def _faults(world: World) -> list[JSON]:
    return [vars(fault) for fault in world.faults.pending()]


def set_limit(world: World, body: JSON) -> Reply:
    limit = body.get("limit")
    try:
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ValueError("`limit` must be an integer or null")
        world.limits.set_limit(str(body.get("endpoint", "")), limit)
    except ValueError as error:
        raise bad_request(str(error)) from error
    return Reply(200, {"data": {"endpoint": body.get("endpoint"), "limit": limit}})


def set_traffic(traffic: Traffic, body: JSON) -> Reply:
    rate = body.get("rate")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1000:
        raise bad_request("`rate` must be a number of tweets per second between 0 and 1000")
    traffic.set_rate(float(rate))
    return Reply(200, {"data": {"rate": traffic.rate}})


def set_access(world: World, body: JSON) -> Reply:
    tier = body.get("tier")
    if tier not in ("self_serve", "enterprise"):
        raise bad_request("`tier` must be 'self_serve' or 'enterprise'")
    world.enterprise_access = tier == "enterprise"
    return Reply(200, {"data": {"tier": tier}})


def handle(world: World, traffic: Traffic, request: Request) -> Reply:
    """Answer one control request (errors come back as X-style problem JSON)."""
    if not _is_loopback(request.client_host):
        return Reply.from_error(forbidden("The sandbox control API answers loopback only."))
    key = (request.method, request.path.rstrip("/"))
    try:
        if request.method == "GET":
            if key[1] == "/_sandbox/tweets":
                return list_tweets(world, request)
            if key[1] == "/_sandbox/stats":
                stats = world.stats()
                stats["traffic"] = {"rate": traffic.rate, "generated": traffic.generated}
                return Reply(200, stats)
            if key[1] == "/_sandbox/faults":
                return Reply(200, {"data": _faults(world)})
            if key[1] == "/_sandbox/calls":
                return Reply(200, {"data": world.call_log()})
            return Reply.from_error(page_not_found())
        if key == ("DELETE", "/_sandbox/faults"):
            world.faults.clear()
            return Reply(200, {"data": []})
        posts = {
            "/_sandbox/accounts": add_account,
            "/_sandbox/users": add_user,
            "/_sandbox/tweets": inject_tweets,
            "/_sandbox/storm": storm,
            "/_sandbox/faults": add_fault,
            "/_sandbox/limits": set_limit,
            "/_sandbox/access": set_access,
        }
        if request.method != "POST" or (
            key[1] not in posts and key[1] not in ("/_sandbox/traffic", "/_sandbox/reset")
        ):
            return Reply.from_error(page_not_found())
        body = request.json() if request.body.strip() or key[1] != "/_sandbox/reset" else {}
        if key[1] == "/_sandbox/traffic":
            return set_traffic(traffic, body)
        if key[1] == "/_sandbox/reset":
            world.reset(keep_accounts=body.get("keep_accounts", True) is not False)
            return Reply(200, {"data": {"reset": True}})
        return posts[key[1]](world, body)
    except ApiError as error:
        return Reply.from_error(error)
