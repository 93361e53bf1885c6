"""The X API v2 endpoints the desk uses, with X's authentication, limits and errors."""

from __future__ import annotations

import base64
import hmac
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from . import render
from .auth import Principal, oauth1_signature, parse_oauth1_header
from .errors import (
    NOT_FOUND_TYPE,
    ApiError,
    forbidden,
    invalid_request,
    oauth_error,
    page_not_found,
    service_unavailable,
    too_many_requests,
    unauthorized,
    unsupported_authentication,
)
from .limits import DEFAULT_LIMITS
from .query import compile_query
from .records import JSON, Tweet, x_escaped
from .wire import Reply, Request, text_field
from .world import World

logger = logging.getLogger("helpdesk.x.sandbox")

X_ORIGIN = "https://api.twitter.com"
SEARCH_WINDOW = timedelta(days=7)


@dataclass
class Context:
    world: World
    request: Request
    principal: Principal | None
    args: tuple[str, ...]

    @property
    def user_id(self) -> str:
        assert self.principal is not None and self.principal.user_id is not None
        return self.principal.user_id


Handler = Callable[[Context], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str
    handler: Handler
    auth: str  # "none", "any" (app or user) or "user"
    scope: str = ""


def _user_missing(user_id: str) -> Reply:
    error = {
        "value": user_id,
        "detail": f"Could not find user with id: [{user_id}].",
        "title": "Not Found Error",
        "resource_type": "user",
        "parameter": "id",
        "resource_id": user_id,
        "type": NOT_FOUND_TYPE,
    }
    return Reply(200, {"errors": [error]})


def users_me(ctx: Context) -> Reply:
    params = render.single_params(ctx.request.query, render.SHAPE_PARAMS)
    shape = render.Shape.from_params(params)
    user = ctx.world.user(ctx.user_id)
    if user is None:
        raise unauthorized()
    with ctx.world.lock:
        return Reply(200, {"data": render.render_user(ctx.world, user, shape.user_fields)})


def _timeline(
    ctx: Context,
    source: str,
    key: str,
    params: dict[str, str],
    *,
    cursor_param: str = "pagination_token",
    low: int = 5,
    predicate: Callable[[Tweet], bool] | None = None,
) -> Reply:
    shape = render.Shape.from_params(params)
    earliest = ctx.world.now() - SEARCH_WINDOW if source == "all" else None
    page = render.paging(params, low=low, high=100, cursor_param=cursor_param, earliest=earliest)

    def wanted(tweet: Tweet) -> bool:
        return page.admits(tweet) and (predicate is None or predicate(tweet))

    tweets, more = ctx.world.timeline(
        source,
        key=key,
        since_id=page.since_id,
        before=page.before,
        limit=page.limit,
        predicate=wanted,
    )
    return Reply(200, render.render_page(ctx.world, tweets, more, shape, page.since_id))


def mentions(ctx: Context) -> Reply:
    params = render.single_params(ctx.request.query, render.TIMELINE_PARAMS)
    user_id = ctx.args[0]
    if ctx.world.user(user_id) is None:
        return _user_missing(user_id)
    return _timeline(ctx, "mentions", user_id, params)


def user_tweets(ctx: Context) -> Reply:
    params = render.single_params(ctx.request.query, render.TIMELINE_PARAMS | {"exclude"})
    user_id = ctx.args[0]
    if ctx.world.user(user_id) is None:
        return _user_missing(user_id)
    excluded = {v.strip() for v in params.get("exclude", "").split(",") if v.strip()}
    if excluded - {"retweets", "replies"}:
        raise invalid_request(
            f"The `exclude` query parameter value [{params['exclude']}] is not one of "
            "[replies,retweets]",
            "exclude",
            params["exclude"],
        )
    kinds = {"retweeted" if e == "retweets" else "replied_to" for e in excluded}

    def keep(tweet: Tweet) -> bool:
        return not any(tweet.referenced_id(kind) for kind in kinds)

    return _timeline(ctx, "author", user_id, params, predicate=keep)


def search_recent(ctx: Context) -> Reply:
    allowed = (render.TIMELINE_PARAMS - {"pagination_token"}) | {
        "query",
        "next_token",
        "sort_order",
    }
    params = render.single_params(ctx.request.query, allowed)
    if "query" not in params:
        raise invalid_request("The `query` query parameter can not be empty", "query", "")
    matches = compile_query(params["query"])
    return _timeline(ctx, "all", "", params, cursor_param="next_token", low=10, predicate=matches)


def _lookup_error(tweet_id: str) -> JSON:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with id: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "id",
        "resource_id": tweet_id,
        "type": NOT_FOUND_TYPE,
    }


def tweet_lookup(ctx: Context) -> Reply:
    single = bool(ctx.args)
    params = render.single_params(
        ctx.request.query, render.SHAPE_PARAMS | (frozenset() if single else {"ids"})
    )
    shape = render.Shape.from_params(params)
    ids = list(ctx.args) if single else [i for i in params.get("ids", "").split(",") if i]
    if not ids or len(ids) > 100:
        raise invalid_request("The `ids` query parameter must hold 1 to 100 ids", "ids", "")
    found = [t for t in (ctx.world.tweet(i) for i in ids) if t is not None]
    body = render.render_tweets(ctx.world, found, shape) if found else {}
    if single and found:
        body["data"] = body["data"][0]
    missing = [_lookup_error(i) for i in ids if ctx.world.tweet(i) is None]
    if missing:
        body["errors"] = missing
    return Reply(200, body)


def create_tweet(ctx: Context) -> Reply:
    body = ctx.request.json()
    text = text_field(body, "text", required=False) or ""
    reply = body.get("reply")
    in_reply_to = None
    if reply is not None:
        if not isinstance(reply, dict):
            raise invalid_request("The `reply` field must be an object", "reply", str(reply))
        in_reply_to = text_field(reply, "in_reply_to_tweet_id")
    quote_of = text_field(body, "quote_tweet_id", required=False)
    tweet = ctx.world.post(ctx.user_id, text, in_reply_to=in_reply_to, quote_of=quote_of)
    data = {"id": tweet.id, "text": x_escaped(tweet.text), "edit_history_tweet_ids": [tweet.id]}
    return Reply(201, {"data": data})


def delete_tweet(ctx: Context) -> Reply:
    ctx.world.delete(ctx.user_id, ctx.args[0])
    return Reply(200, {"data": {"deleted": True}})


def retweet(ctx: Context) -> Reply:
    if ctx.args[0] != ctx.user_id:
        raise forbidden("You are not permitted to perform this action.")
    tweet_id = text_field(ctx.request.json(), "tweet_id")
    assert tweet_id is not None
    ctx.world.retweet(ctx.user_id, tweet_id)
    return Reply(200, {"data": {"retweeted": True}})


def oauth2_authorize(ctx: Context) -> Reply:
    """Approve at once, as the user named by ``as_user`` (default: the first registered
    customer, else the first care account), and redirect back with the code."""
    query = {name: values[-1] for name, values in ctx.request.query.items()}
    for name in ("client_id", "redirect_uri", "code_challenge", "state", "scope"):
        if not query.get(name):
            raise oauth_error(f"Missing required parameter [{name}].")
    if query.get("response_type") != "code":
        raise oauth_error("Unsupported response_type.", "unsupported_response_type")
    method = query.get("code_challenge_method", "plain")
    if method not in ("S256", "plain"):
        raise oauth_error("Unsupported code_challenge_method.")
    world = ctx.world
    if query.get("as_user"):
        user = world.user_named(query["as_user"])
        if user is None:
            raise oauth_error(f"Unknown user [{query['as_user']}].")
    else:
        users = world.users()
        user = next((u for u in users if u.origin == "control"), None) or next(
            (u for u in users if u.is_account), None
        )
        if user is None:
            raise oauth_error("No user is registered to approve the request.")
    code = world.oauth2.issue_code(
        client_id=query["client_id"],
        redirect_uri=query["redirect_uri"],
        challenge=query["code_challenge"],
        method=method,
        scope=query["scope"],
        user_id=user.id,
    )
    parts = urlsplit(query["redirect_uri"])
    pairs = [*parse_qsl(parts.query, keep_blank_values=True), ("state", query["state"])]
    pairs.append(("code", code))
    location = urlunsplit(parts._replace(query=urlencode(pairs)))
    return Reply(302, None, {"Location": location})


def oauth2_token(ctx: Context) -> Reply:
    form = ctx.request.form()
    client_id = form.get("client_id", "")
    basic = ctx.request.header("authorization")
    if basic[:6].lower() == "basic ":
        try:
            client_id = base64.b64decode(basic[6:].strip()).decode().partition(":")[0]
        except ValueError as error:
            raise oauth_error("Malformed client credentials.", "invalid_client") from error
        client_id = unquote(client_id)
    if not client_id:
        raise oauth_error("Missing required parameter [client_id].")
    oauth2 = ctx.world.oauth2
    grant = form.get("grant_type")
    if grant == "authorization_code":
        tokens = oauth2.exchange_code(
            code=form.get("code", ""),
            verifier=form.get("code_verifier", ""),
            redirect_uri=form.get("redirect_uri", ""),
            client_id=client_id,
        )
    elif grant == "refresh_token":
        tokens = oauth2.refresh(refresh_token=form.get("refresh_token", ""), client_id=client_id)
    else:
        raise oauth_error("Missing or unsupported grant_type.", "unsupported_grant_type")
    return Reply(200, tokens.as_json())


def _route(method: str, path: str, endpoint: str, handler: Handler, auth: str, scope: str) -> Route:
    return Route(method, re.compile(f"^{path}$"), endpoint, handler, auth, scope)


ROUTES = [
    _route("GET", "/2/users/me", "users_me", users_me, "user", "users.read"),
    _route("GET", r"/2/users/(\d+)/mentions", "mentions", mentions, "any", "tweet.read"),
    _route("GET", r"/2/users/(\d+)/tweets", "user_tweets", user_tweets, "any", "tweet.read"),
    _route("POST", r"/2/users/(\d+)/retweets", "retweet", retweet, "user", "tweet.write"),
    _route("GET", "/2/tweets/search/recent", "search", search_recent, "any", "tweet.read"),
    _route("GET", r"/2/tweets/(\d+)", "tweet_lookup", tweet_lookup, "any", "tweet.read"),
    _route("GET", "/2/tweets", "tweet_lookup", tweet_lookup, "any", "tweet.read"),
    _route("POST", "/2/tweets", "create_tweet", create_tweet, "user", "tweet.write"),
    _route("DELETE", r"/2/tweets/(\d+)", "delete_tweet", delete_tweet, "user", "tweet.write"),
    _route("POST", "/2/oauth2/token", "oauth2_token", oauth2_token, "none", ""),
    _route("GET", "/i/oauth2/authorize", "oauth2_authorize", oauth2_authorize, "none", ""),
]


def _oauth1_principal(world: World, request: Request, header: str) -> Principal | None:
    params = parse_oauth1_header(header)
    if params is None:
        return None
    account = world.account_for_access_token(params.get("oauth_token", ""))
    if account is None or not account.consumer_key:
        return None
    if not hmac.compare_digest(params.get("oauth_consumer_key", ""), account.consumer_key):
        return None
    if world.verify_signatures:
        signed = [
            *params.items(),
            *((k, v) for k, vs in request.query.items() for v in vs),
            *request.form_pairs(),
        ]
        sent = params.get("oauth_signature", "")
        hosts = [X_ORIGIN, f"http://{request.header('host')}"]
        if not any(
            hmac.compare_digest(
                sent,
                oauth1_signature(
                    request.method,
                    origin + request.path,
                    signed,
                    account.consumer_secret,
                    account.access_token_secret,
                ),
            )
            for origin in hosts
        ):
            logger.debug("OAuth 1.0a signature mismatch for @%s", account.username)
            return None
    return Principal(account.user_id, f"user:{account.user_id}")


def authenticate(world: World, request: Request) -> Principal | None:
    header = request.header("authorization")
    if header[:7].lower() == "bearer ":
        return world.authenticate_bearer(header[7:].strip())
    return _oauth1_principal(world, request, header)


def dispatch(world: World, request: Request, stopping: threading.Event) -> Reply:
    """Answer one X API request: route, authenticate, inject faults, count limits, handle;
    then write it in the world's call log (what X would bill)."""
    seen: dict[str, Principal | None] = {}
    reply = _answer(world, request, stopping, seen)
    _log_call(world, request, reply, seen.get("principal"))
    return reply


_ID_SEGMENT = re.compile(r"(?<!^)/\d+(?=/|$)")


def _log_call(world: World, request: Request, reply: Reply, principal: Principal | None) -> None:
    """One row of the sandbox's own bill: the endpoint, who called, the posts it returned
    (reads), created (with a URL or not) or deleted; errors return none."""
    body = reply.body if isinstance(reply.body, dict) else {}
    data = body.get("data") if 200 <= reply.status < 300 else None
    endpoint = f"{request.method} {_ID_SEGMENT.sub('/:id', request.path)}"
    returned = created = deleted = 0
    created_with_url = False
    if request.method == "GET" and isinstance(data, list):
        returned = len(data)
    elif request.method == "GET" and isinstance(data, dict) and "text" in data:
        returned = 1
    elif endpoint == "POST /2/tweets" and isinstance(data, dict):
        created = 1
        tweet = world.tweet(str(data.get("id")))
        created_with_url = bool(tweet is not None and tweet.urls)
    elif endpoint == "DELETE /2/tweets/:id" and isinstance(data, dict):
        deleted = int(data.get("deleted") is True)
    account = principal.user_id if principal is not None else None
    if principal is not None and account is None:  # an app's bearer token
        app = world.account_for_bearer(principal.bucket.removeprefix("app:"))
        account = app.user_id if app is not None else None
    world.log_call(
        {
            "at": world.clock(),
            "endpoint": endpoint,
            "account": account,
            "status": reply.status,
            "posts_returned": returned,
            "posts_created": created,
            "created_with_url": created_with_url,
            "posts_deleted": deleted,
        }
    )


def _answer(
    world: World, request: Request, stopping: threading.Event, seen: dict[str, Principal | None]
) -> Reply:
    route = next(
        (r for r in ROUTES if r.method == request.method and r.pattern.match(request.path)), None
    )
    if route is None:
        return Reply.from_error(page_not_found())
    match = route.pattern.match(request.path)
    assert match is not None
    with world.lock:
        world.requests[route.endpoint] += 1
    principal = None
    if route.auth != "none":
        principal = authenticate(world, request)
        seen["principal"] = principal
        if principal is None:
            return Reply.from_error(unauthorized())
        if route.auth == "user" and principal.is_app:
            return Reply.from_error(unsupported_authentication())
        if not principal.has_scope(route.scope):
            return Reply.from_error(forbidden(f"Missing scope [{route.scope}]."))
    fault = world.faults.take(route.endpoint)
    if fault is not None:
        with world.lock:
            world.faults_served[fault.kind] += 1
        logger.debug("fault %s on %s", fault.kind, route.endpoint)
        if fault.kind == "latency":
            stopping.wait(fault.seconds)
        elif fault.kind == "5xx":
            return Reply.from_error(service_unavailable())
        elif fault.kind == "429":
            reset = int(world.clock() + fault.seconds)
            headers = {"x-rate-limit-limit": "0", "x-rate-limit-remaining": "0"}
            headers["x-rate-limit-reset"] = str(reset)
            return Reply.from_error(too_many_requests(headers))
    rate_headers: dict[str, str] = {}
    if principal is not None and route.endpoint in DEFAULT_LIMITS:
        status = world.limits.consume(route.endpoint, principal.bucket, principal.is_app)
        rate_headers = status.headers()
        if not status.allowed:
            return Reply.from_error(too_many_requests(rate_headers))
    try:
        reply = route.handler(Context(world, request, principal, match.groups()))
    except ApiError as error:
        reply = Reply.from_error(error)
    reply.headers.update(rate_headers)
    if fault is not None and fault.kind == "timeout_after_accept":
        reply.delay = fault.seconds
    return reply
