"""The sandbox's records (accounts, users, tweets) and the text helpers that fill them in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

TWITTER_EPOCH_MS = 1288834974657
USERNAME_RE = re.compile(r"[A-Za-z0-9_]{1,15}")

# X's rules, simplified: a mention is not glued to a preceding word, e-mail or another @,
# and a handle is at most 15 characters.
MENTION_RE = re.compile(
    r"(?<![A-Za-z0-9_!@#$%&*\uFF20])[@\uFF20]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@\uFF20])"
)
HASHTAG_RE = re.compile(r"(?<![\w&#\uFF03])[#\uFF03](\w*[^\W\d]\w*)")
URL_RE = re.compile(r"https?://[^\s<>\"]+")
_URL_TRAILING = ".,;:!?)]}'\""

_X_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_X_UNESCAPED = {"amp": "&", "lt": "<", "gt": ">"}


def x_escaped(text: str) -> str:
    """Tweet text as X sends it in v2 and v1.1 payloads: ``&``, ``<`` and ``>`` as the
    entities ``&amp;``, ``&lt;`` and ``&gt;``, nothing else escaped. The world keeps what
    the author wrote; only what goes out on the wire is escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def x_unescaped(text: str) -> str:
    """The inverse of ``x_escaped``, in one pass (``&amp;lt;`` is ``&lt;``): for text
    recorded from X, such as the corpus, before it goes into the world."""
    return _X_ENTITY_RE.sub(lambda match: _X_UNESCAPED[match[1]], text)


_FRENCH_WORDS = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "de",
        "du",
        "est",
        "et",
        "pas",
        "je",
        "j",
        "ai",
        "mon",
        "ma",
        "mes",
        "vous",
        "votre",
        "vos",
        "nous",
        "bonjour",
        "merci",
        "commande",
        "pour",
        "avec",
        "sur",
        "dans",
        "qui",
        "que",
        "quoi",
        "mais",
        "toujours",
        "encore",
        "depuis",
        "livraison",
        "magasin",
        "rien",
        "aucun",
        "aucune",
        "été",
        "ça",
        "c",
        "n",
        "ne",
        "plus",
        "il",
        "elle",
    ]
)
_ENGLISH_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "is",
        "are",
        "and",
        "to",
        "of",
        "my",
        "me",
        "i",
        "you",
        "your",
        "we",
        "it",
        "this",
        "that",
        "not",
        "for",
        "with",
        "on",
        "in",
        "can",
        "please",
        "help",
        "why",
        "what",
        "how",
        "have",
        "has",
        "just",
        "from",
        "be",
        "was",
        "but",
        "get",
    ]
)


@dataclass
class SandboxAccount:
    """A care account the sandbox knows, with the credentials it accepts for it."""

    username: str
    user_id: str
    bearer_token: str = ""
    consumer_key: str = ""
    consumer_secret: str = ""
    access_token: str = ""
    access_token_secret: str = ""
    language: str = ""


@dataclass
class User:
    id: str
    username: str
    name: str
    created_at: datetime
    description: str = ""
    is_account: bool = False
    # "account", "control" (registered through the control API or world.add_user),
    # "auto" (created by injecting a tweet for an unknown author) or "traffic".
    origin: str = "control"


@dataclass
class Tweet:
    id: str
    text: str
    author_id: str
    author_username: str
    created_at: datetime
    conversation_id: str
    in_reply_to_user_id: str | None = None
    in_reply_to_username: str | None = None
    referenced: list[tuple[str, str]] = field(default_factory=list)
    lang: str = "en"
    mentions: list[JSON] = field(default_factory=list)
    hashtags: list[JSON] = field(default_factory=list)
    urls: list[JSON] = field(default_factory=list)
    via_api: bool = False

    @property
    def number(self) -> int:
        return int(self.id)

    @property
    def mention_names(self) -> set[str]:
        return {str(m["username"]).lower() for m in self.mentions}

    def referenced_id(self, kind: str) -> str | None:
        return next((ref_id for ref_kind, ref_id in self.referenced if ref_kind == kind), None)


class IdGenerator:
    """Snowflake-style ids: milliseconds since the Twitter epoch shifted left 22 bits, made
    strictly increasing so that a timeline sorted by id is sorted by arrival."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, epoch_seconds: float) -> int:
        candidate = (int(epoch_seconds * 1000) - TWITTER_EPOCH_MS) << 22
        self._last = max(candidate, self._last + 1)
        return self._last


def format_time(moment: datetime) -> str:
    """X's timestamp format: ``2026-01-01T12:00:00.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(value: str) -> datetime | None:
    """Parse an ISO 8601 / RFC 3339 timestamp; naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def extract_entities(text: str) -> tuple[list[JSON], list[JSON], list[JSON]]:
    """Mentions, hashtags and URLs with code-point offsets, as X computes them."""
    urls: list[JSON] = []
    for match in URL_RE.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        if len(url) <= len("https://"):
            continue
        start = match.start()
        display = re.sub(r"^https?://(www\.)?", "", url)
        urls.append(
            {
                "start": start,
                "end": start + len(url),
                "url": url,
                "expanded_url": url,
                "display_url": display if len(display) <= 27 else display[:26] + "…",
            }
        )

    def inside_url(position: int) -> bool:
        return any(u["start"] <= position < u["end"] for u in urls)

    mentions: list[JSON] = [
        {"start": m.start(), "end": m.end(), "username": m.group(1)}
        for m in MENTION_RE.finditer(text)
        if not inside_url(m.start())
    ]
    hashtags: list[JSON] = [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)}
        for m in HASHTAG_RE.finditer(text)
        if not inside_url(m.start())
    ]
    return mentions, hashtags, urls


def guess_lang(text: str) -> str:
    """A crude language guess (fr/en), good enough for ``lang:`` and the ``lang`` field."""
    stripped = URL_RE.sub(" ", MENTION_RE.sub(" ", text))
    words = re.findall(r"[^\W\d_]+", stripped.lower())
    if not words:
        return "zxx"
    french = sum(word in _FRENCH_WORDS for word in words)
    french += sum(ch in "éèêàçùâîôœ" for ch in stripped.lower())
    english = sum(word in _ENGLISH_WORDS for word in words)
    return "fr" if french > english else "en"


def display_name(username: str) -> str:
    """A plausible display name from a handle: ``CinVakas99`` -> ``Cin Vakas``."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", username)
    name = " ".join(word.capitalize() if word.islower() else word for word in words)
    return name or username
