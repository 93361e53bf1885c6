"""Query parameters in, X v2 JSON out: fields, expansions, paging."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import invalid_request
from .records import JSON, Tweet, User, format_time, parse_time, x_escaped
from .world import World

TWEET_FIELDS = frozenset(
    [
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    ]
)
USER_FIELDS = frozenset(
    [
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    ]
)
EXPANSIONS = frozenset(
    [
        "article.cover_media",
        "article.media_entities",
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
        "pinned_tweet_id",
        "most_recent_tweet_id",
    ]
)
SHAPE_PARAMS = frozenset(
    {"tweet.fields", "user.fields", "expansions", "media.fields", "place.fields", "poll.fields"}
)
TIMELINE_PARAMS = SHAPE_PARAMS | {
    "max_results",
    "since_id",
    "until_id",
    "start_time",
    "end_time",
    "pagination_token",
}
_ID_RE = re.compile(r"[0-9]{1,19}")


def single_params(query: dict[str, list[str]], allowed: frozenset[str]) -> dict[str, str]:
    """One value per parameter; parameters X does not know for the endpoint are a 400."""
    params: dict[str, str] = {}
    for name, values in query.items():
        if name not in allowed:
            known = ",".join(sorted(allowed))
            raise invalid_request(
                f"The query parameter [{name}] is not one of [{known}]", name, values[0]
            )
        params[name] = values[-1]
    return params


def _field_list(params: dict[str, str], name: str, known: frozenset[str]) -> frozenset[str]:
    raw = params.get(name, "")
    values = frozenset(v.strip() for v in raw.split(",") if v.strip())
    for value in values:
        if value not in known:
            raise invalid_request(
                f"The `{name}` query parameter value [{value}] is not one of "
                f"[{','.join(sorted(known))}]",
                name,
                value,
            )
    return values


@dataclass(frozen=True)
class Shape:
    tweet_fields: frozenset[str] = frozenset()
    user_fields: frozenset[str] = frozenset()
    expansions: frozenset[str] = frozenset()

    @classmethod
    def from_params(cls, params: dict[str, str]) -> Shape:
        return cls(
            _field_list(params, "tweet.fields", TWEET_FIELDS),
            _field_list(params, "user.fields", USER_FIELDS),
            _field_list(params, "expansions", EXPANSIONS),
        )


ALL_FIELDS = Shape(TWEET_FIELDS, USER_FIELDS, frozenset())


@dataclass(frozen=True)
class Paging:
    limit: int
    since_id: int | None
    before: int | None
    start_time: datetime | None
    end_time: datetime | None

    def admits(self, tweet: Tweet) -> bool:
        if self.start_time is not None and tweet.created_at < self.start_time:
            return False
        return self.end_time is None or tweet.created_at < self.end_time


def encode_token(before: int, since_id: int | None) -> str:
    raw = f"{before}:{since_id or 0}".encode()
    return base64.b32encode(raw).decode().rstrip("=").lower()


def decode_token(token: str) -> tuple[int, int | None] | None:
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        before, _, since = base64.b32decode(padded).decode().partition(":")
        return int(before), (int(since) or None)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _id_param(params: dict[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not _ID_RE.fullmatch(value):
        raise invalid_request(
            f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
            name,
            value,
        )
    return int(value)


def _time_param(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    moment = parse_time(value)
    if moment is None:
        raise invalid_request(
            f"Invalid '{name}':'{value}'. '{name}' must be a valid RFC 3339 date.", name, value
        )
    return moment


def paging(
    params: dict[str, str],
    *,
    low: int,
    high: int,
    cursor_param: str,
    earliest: datetime | None = None,
) -> Paging:
    """Validate max_results, since/until ids, start/end times and the page token."""
    raw = params.get("max_results", "10")
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_request(
            f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
            "max_results",
            raw,
        )
    since_id = _id_param(params, "since_id")
    until_id = _id_param(params, "until_id")
    before = until_id
    token = params.get(cursor_param)
    if token is not None:
        decoded = decode_token(token)
        if decoded is None:
            raise invalid_request(
                f"The `{cursor_param}` query parameter value [{token}] is not valid",
                cursor_param,
                token,
            )
        before = decoded[0] if before is None else min(before, decoded[0])
        since_id = since_id if since_id is not None else decoded[1]
    start_time = _time_param(params, "start_time")
    if earliest is not None:
        if start_time is not None and start_time < earliest:
            raise invalid_request(
                f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be on or "
                f"after {format_time(earliest)}",
                "start_time",
                params["start_time"],
            )
        start_time = start_time or earliest
    return Paging(int(raw), since_id, before, start_time, _time_param(params, "end_time"))


def render_user(world: World, user: User, fields: frozenset[str]) -> JSON:
    data: JSON = {"id": user.id, "name": user.name, "username": user.username}
    if "created_at" in fields:
        data["created_at"] = format_time(user.created_at)
    if "description" in fields:
        data["description"] = user.description
    if "protected" in fields:
        data["protected"] = False
    if "verified" in fields:
        data["verified"] = False
    if "verified_type" in fields:
        data["verified_type"] = "none"
    if "url" in fields:
        data["url"] = ""
    if "profile_image_url" in fields:
        data["profile_image_url"] = (
            "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
        )
    if "public_metrics" in fields:
        tweets, _ = world.timeline("author", key=user.id, limit=3200)
        data["public_metrics"] = {
            "followers_count": 12000 if user.is_account else int(user.id) % 900,
            "following_count": 10 if user.is_account else int(user.id) % 400,
            "tweet_count": len(tweets),
            "listed_count": 0,
            "like_count": 0,
            "media_count": 0,
        }
    return data


def render_tweet(world: World, tweet: Tweet, fields: frozenset[str]) -> JSON:
    data: JSON = {
        "id": tweet.id,
        "text": x_escaped(tweet.text),
        "edit_history_tweet_ids": [tweet.id],
    }
    if "author_id" in fields:
        data["author_id"] = tweet.author_id
    if "created_at" in fields:
        data["created_at"] = format_time(tweet.created_at)
    if "conversation_id" in fields:
        data["conversation_id"] = tweet.conversation_id
    if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
        data["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    if "referenced_tweets" in fields and tweet.referenced:
        data["referenced_tweets"] = [{"type": kind, "id": ref} for kind, ref in tweet.referenced]
    if "lang" in fields:
        data["lang"] = tweet.lang
    if "entities" in fields:
        entities = {
            name: [dict(entity) for entity in values]
            for name, values in (
                ("mentions", tweet.mentions),
                ("hashtags", tweet.hashtags),
                ("urls", tweet.urls),
            )
            if values
        }
        if entities:
            data["entities"] = entities
    if "public_metrics" in fields:
        data["public_metrics"] = {
            "retweet_count": world.retweet_counts[tweet.id],
            "reply_count": world.reply_counts[tweet.id],
            "like_count": 0,
            "quote_count": world.quote_counts[tweet.id],
            "bookmark_count": 0,
            "impression_count": 0,
        }
    if "possibly_sensitive" in fields:
        data["possibly_sensitive"] = False
    if "reply_settings" in fields:
        data["reply_settings"] = "everyone"
    if "edit_controls" in fields:
        data["edit_controls"] = {
            "edits_remaining": 5,
            "is_edit_eligible": True,
            "editable_until": format_time(tweet.created_at + timedelta(hours=1)),
        }
    return data


def render_tweets(world: World, tweets: list[Tweet], shape: Shape) -> JSON:
    """``data`` and ``includes`` for a list of tweets, as X answers them."""
    with world.lock:
        body: JSON = {"data": [render_tweet(world, t, shape.tweet_fields) for t in tweets]}
        wanted = shape.expansions
        included: list[Tweet] = []
        if "referenced_tweets.id" in wanted or "referenced_tweets.id.author_id" in wanted:
            seen: set[str] = set()
            for tweet in tweets:
                for _, ref_id in tweet.referenced:
                    ref = world.tweet(ref_id)
                    if ref is not None and ref.id not in seen:
                        seen.add(ref.id)
                        included.append(ref)
        user_ids: list[str] = []
        for tweet in tweets:
            if "author_id" in wanted:
                user_ids.append(tweet.author_id)
            if "in_reply_to_user_id" in wanted and tweet.in_reply_to_user_id:
                user_ids.append(tweet.in_reply_to_user_id)
            if "entities.mentions.username" in wanted:
                user_ids.extend(str(m["id"]) for m in tweet.mentions if "id" in m)
        if "referenced_tweets.id.author_id" in wanted:
            user_ids.extend(t.author_id for t in included)
        users = [u for u in (world.user(i) for i in dict.fromkeys(user_ids)) if u is not None]
        includes: dict[str, Any] = {}
        if users:
            includes["users"] = [render_user(world, u, shape.user_fields) for u in users]
        if "referenced_tweets.id" in wanted and included:
            includes["tweets"] = [render_tweet(world, t, shape.tweet_fields) for t in included]
        if includes:
            body["includes"] = includes
        return body


def render_page(
    world: World, tweets: list[Tweet], more: bool, shape: Shape, since_id: int | None
) -> JSON:
    """A timeline page: data, includes and meta (with a next_token when more remain)."""
    if not tweets:
        return {"meta": {"result_count": 0}}
    body = render_tweets(world, tweets, shape)
    meta: JSON = {
        "result_count": len(tweets),
        "newest_id": tweets[0].id,
        "oldest_id": tweets[-1].id,
    }
    if more:
        meta["next_token"] = encode_token(tweets[-1].number, since_id)
    body["meta"] = meta
    return body
