"""Turn X payloads (v2 responses, v2 tweet objects, v1.1 Account Activity events) into plain
records the ingester stores. Pure functions: no database, no network.

Every record is checked here; a bad one becomes a ``Rejected`` entry with a reason, and the
good ones around it are kept. A tweet's ``text`` is what its author wrote (X's ``&amp;``,
``&lt;`` and ``&gt;`` undone once, see ``unescape_x_text``); its ``raw`` is the payload as X
sent it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from charter.linter.text import unescape_x_text

# X's ids are 64-bit signed integers written in decimal: 1 to 2**63 - 1, ASCII digits, no sign
# and no leading zero. "017" is refused rather than read as "17": X never writes an id that
# way, so such a record is forged or corrupted, and normalising it would let it pass for (and
# be deduplicated against) the real tweet 17.
# ``fullmatch``, not ``match`` with ``$``: ``$`` also matches before a final newline, and
# "12\n" stored beside "12" would be the same tweet twice.
_TWEET_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_X_ID = 2**63 - 1
# X's longest post (Premium's long posts) is 25,000 characters; nothing longer comes from X.
MAX_TEXT_CHARS = 25_000
# One tweet object as X sends it (entities, expansions of a v1.1 status, a quoted status) is
# tens of kilobytes at most; a bigger record is not from X and would weigh on every read.
MAX_RECORD_BYTES = 1024 * 1024
# Characters that show nothing: a text made only of these (and whitespace) is blank.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_V11_DATE = "%a %b %d %H:%M:%S %z %Y"


class RecordError(ValueError):
    """A record that cannot be ingested, with the reason in plain words."""


@dataclass(frozen=True)
class XUser:
    id: str
    username: str = ""
    name: str = ""
    description: str = ""
    followers_count: int | None = None


@dataclass(frozen=True)
class XTweet:
    id: str
    text: str
    raw: dict[str, Any]
    author_id: str | None = None
    created_at: datetime | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    in_reply_to_tweet_id: str | None = None
    lang: str = ""
    is_retweet: bool = False


@dataclass(frozen=True)
class Rejected:
    position: int
    reason: str
    tweet_id: str = ""


@dataclass
class Batch:
    tweets: list[XTweet] = field(default_factory=list)
    users: dict[str, XUser] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.tweets.extend(other.tweets)
        self.users.update(other.users)
        self.rejected.extend(other.rejected)


def _id(value: Any, what: str) -> str:
    if value is None or value == "":
        raise RecordError(f"{what} is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(f"{what} must be a string of digits")
    text = str(value)
    if not text.isascii() or not text.isdigit():
        raise RecordError(f"{what} must be a string of digits, not {text[:40]!r}")
    if not _TWEET_ID.fullmatch(text) or int(text) > MAX_X_ID:
        if text.startswith("0"):
            raise RecordError(f"{what} {text[:40]!r} has a leading zero, which X never sends")
        raise RecordError(f"{what} {text[:40]!r} is outside X's 64-bit id range")
    return text


def _text(value: Any) -> str:
    """The tweet's text, refused when X could not have sent it: missing, blank, or longer
    than X's longest post. Counted after X's three escapes are undone, as the author wrote it."""
    if not isinstance(value, str):
        raise RecordError("text is missing or not a string")
    text = unescape_x_text(value)
    if all(char.isspace() or char in _INVISIBLE for char in text):
        raise RecordError("text is empty or blank")
    if len(text) > MAX_TEXT_CHARS:
        raise RecordError(
            f"text is {len(text):,} characters, over X's longest post ({MAX_TEXT_CHARS:,})"
        )
    return text


def _optional_id(value: Any, what: str) -> str | None:
    return None if value in (None, "") else _id(value, what)


def _check_storable(raw: dict[str, Any]) -> None:
    # PostgreSQL text and jsonb cannot hold NUL, and lone surrogates are not UTF-8: X never
    # sends either, so such a record is forged or corrupt and is refused rather than mangled.
    try:
        encoded = json.dumps(raw, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("text is not valid Unicode (lone surrogate)") from None
    except ValueError:
        raise RecordError("NaN or Infinity is not valid JSON") from None
    if len(encoded) > MAX_RECORD_BYTES:
        raise RecordError(
            f"the record is {len(encoded):,} bytes, over {MAX_RECORD_BYTES:,}: not a tweet X sends"
        )
    if re.search(rb"(?<!\\)(?:\\\\)*\\u0000", encoded):  # an escaped NUL, not "\\" "u0000"
        raise RecordError("text contains a NUL character")


def parse_v2_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError("created_at must be a string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RecordError(f"created_at is not a timestamp: {value[:40]!r}") from None
    return _in_utc(parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed, value)


def _in_utc(moment: datetime, written: str) -> datetime:
    # A moment at the calendar's ends with an offset (0001-01-01T00:00+01:00) has no UTC
    # time, and the database stores UTC: refused here, or it would fail the whole page.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise RecordError(f"created_at is out of range: {written[:40]!r}") from None


def parse_v2_tweet(obj: Any) -> XTweet:
    """One v2 tweet object; only ``id`` and ``text`` are required."""
    if not isinstance(obj, dict):
        raise RecordError("a tweet must be a JSON object")
    tweet_id = _id(obj.get("id"), "id")
    text = _text(obj.get("text"))
    _check_storable(obj)
    in_reply_to_tweet_id = None
    is_retweet = False
    refs = obj.get("referenced_tweets") or []
    if not isinstance(refs, list):
        raise RecordError("referenced_tweets must be a list")
    for ref in refs:
        if not isinstance(ref, dict):
            raise RecordError("referenced_tweets entries must be objects")
        if ref.get("type") == "replied_to":
            in_reply_to_tweet_id = _id(ref.get("id"), "referenced_tweets.id")
        elif ref.get("type") == "retweeted":
            is_retweet = True
    if not refs and text.startswith("RT @"):
        # The bare shape (no tweet.fields) still shows a plain retweet by its text.
        is_retweet = True
    lang = obj.get("lang") or ""
    return XTweet(
        id=tweet_id,
        text=text,
        raw=obj,
        author_id=_optional_id(obj.get("author_id"), "author_id"),
        created_at=parse_v2_datetime(obj.get("created_at")),
        conversation_id=_optional_id(obj.get("conversation_id"), "conversation_id"),
        in_reply_to_user_id=_optional_id(obj.get("in_reply_to_user_id"), "in_reply_to_user_id"),
        in_reply_to_tweet_id=in_reply_to_tweet_id,
        lang=lang[:16] if isinstance(lang, str) else "",
        is_retweet=is_retweet,
    )


# The customer's column is a PositiveIntegerField: PostgreSQL's integer, 0 to 2**31 - 1.
_MAX_FOLLOWERS = 2_147_483_647


def _followers(value: Any) -> int | None:
    """A followers count a row can hold, or None (unknown): a negative, boolean or huge
    count is forged, and would fail the insert of the whole page."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= _MAX_FOLLOWERS else None


def _v2_user(obj: Any) -> XUser:
    if not isinstance(obj, dict):
        raise RecordError("a user must be a JSON object")
    _check_storable(obj)
    metrics = obj.get("public_metrics") or {}
    followers = _followers(metrics.get("followers_count") if isinstance(metrics, dict) else None)
    return XUser(
        id=_id(obj.get("id"), "user id"),
        username=str(obj.get("username") or "")[:64],
        name=str(obj.get("name") or "")[:200],
        description=str(obj.get("description") or ""),
        followers_count=followers,
    )


def parse_v2_response(payload: Any) -> Batch:
    """A v2 response body: ``data`` (one tweet or a list), ``includes.users``, ``meta``."""
    if not isinstance(payload, dict):
        raise RecordError("a v2 response must be a JSON object")
    batch = Batch()
    includes = payload.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    for user_obj in users if isinstance(users, list) else []:
        try:
            user = _v2_user(user_obj)
        except RecordError:
            continue  # an unusable expansion only costs us the customer's name
        batch.users[user.id] = user
    data = payload.get("data")
    if data is None:
        return batch
    items = data if isinstance(data, list) else [data]
    for position, obj in enumerate(items):
        try:
            batch.tweets.append(parse_v2_tweet(obj))
        except RecordError as error:
            batch.rejected.append(Rejected(position, str(error), _raw_id(obj)))
    return batch


def _raw_id(obj: Any) -> str:
    if isinstance(obj, dict):
        for key in ("id_str", "id"):
            value = obj.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)[:32]
    return ""


def parse_v11_tweet(obj: Any) -> tuple[XTweet, XUser | None]:
    """One v1.1 status (as in ``tweet_create_events``) and its author."""
    if not isinstance(obj, dict):
        raise RecordError("a tweet must be a JSON object")
    tweet_id = _id(obj.get("id_str") or obj.get("id"), "id_str")
    extended = obj.get("extended_tweet")
    text = extended.get("full_text") if isinstance(extended, dict) else None
    if text is None:
        text = obj.get("full_text", obj.get("text"))
    text = _text(text)
    _check_storable(obj)
    created_raw = obj.get("created_at")
    created_at = None
    if created_raw:
        if not isinstance(created_raw, str):
            raise RecordError("created_at must be a string")
        try:
            parsed = datetime.strptime(created_raw, _V11_DATE)  # noqa: DTZ007 - %z in format
        except ValueError:
            raise RecordError(f"created_at is not a timestamp: {created_raw[:40]!r}") from None
        created_at = _in_utc(parsed, created_raw)
    user_obj = obj.get("user")
    user = None
    if isinstance(user_obj, dict):
        user = XUser(
            id=_id(user_obj.get("id_str") or user_obj.get("id"), "user.id_str"),
            username=str(user_obj.get("screen_name") or "")[:64],
            name=str(user_obj.get("name") or "")[:200],
            description=str(user_obj.get("description") or ""),
            followers_count=_followers(user_obj.get("followers_count")),
        )
    lang = obj.get("lang") or ""
    tweet = XTweet(
        id=tweet_id,
        text=text,
        raw=obj,
        author_id=user.id if user else None,
        created_at=created_at,
        conversation_id=None,  # v1.1 has none; the ingester derives it from the parent
        in_reply_to_user_id=_optional_id(
            obj.get("in_reply_to_user_id_str") or obj.get("in_reply_to_user_id"),
            "in_reply_to_user_id_str",
        ),
        in_reply_to_tweet_id=_optional_id(
            obj.get("in_reply_to_status_id_str") or obj.get("in_reply_to_status_id"),
            "in_reply_to_status_id_str",
        ),
        lang=lang[:16] if isinstance(lang, str) else "",
        is_retweet="retweeted_status" in obj,
    )
    return tweet, user


def parse_v11_payload(payload: Any) -> tuple[str | None, Batch]:
    """An Account Activity payload: ``for_user_id`` and its ``tweet_create_events``."""
    if not isinstance(payload, dict):
        raise RecordError("a webhook payload must be a JSON object")
    for_user_id = _optional_id(payload.get("for_user_id"), "for_user_id")
    batch = Batch()
    events = payload.get("tweet_create_events") or []
    if not isinstance(events, list):
        raise RecordError("tweet_create_events must be a list")
    for position, obj in enumerate(events):
        try:
            tweet, user = parse_v11_tweet(obj)
        except RecordError as error:
            batch.rejected.append(Rejected(position, str(error), _raw_id(obj)))
            continue
        batch.tweets.append(tweet)
        if user is not None:
            batch.users[user.id] = user
    return for_user_id, batch


def parse_any(payload: Any) -> tuple[str | None, Batch]:
    """Whatever one JSON document holds: a v2 response, a bare v2 tweet, or a v1.1 payload.

    Returns the ``for_user_id`` of a v1.1 payload (else None) and the batch.
    """
    if isinstance(payload, dict):
        if "tweet_create_events" in payload or "for_user_id" in payload:
            return parse_v11_payload(payload)
        if "data" in payload or "meta" in payload or "includes" in payload:
            return None, parse_v2_response(payload)
        if "id_str" in payload or "user" in payload:
            tweet, user = parse_v11_tweet(payload)
            batch = Batch(tweets=[tweet])
            if user is not None:
                batch.users[user.id] = user
            return None, batch
        return None, Batch(tweets=[parse_v2_tweet(payload)])
    raise RecordError("expected a JSON object")
