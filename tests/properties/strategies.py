"""Generators of hostile input shared by the property tests: the texts customers and
forgers send, X's ids, and v2 and v1.1 payloads in the shapes ``shared/fixtures/x-recorded``
shows (optional fields missing, as X omits them without ``tweet.fields``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

# Characters that have broken text handling somewhere: X's entities, markup, emoji and their
# joiners, right-to-left text and marks, CJK, combining accents, line endings, NUL, a lone
# surrogate, digits that ``str.isdigit`` accepts and ``int`` may not.
AWKWARD_PIECES = [
    "&amp;",
    "&lt;",
    "&gt;",
    "&amp;amp;",
    "&quot;",
    "&#60;",
    "&",
    "<",
    ">",
    "<script>alert(1)</script>",
    "😀",
    "👩‍👩‍👧",
    "1️⃣",
    "🇫🇷",
    "مرحبا",
    "שלום",
    "\u200f",
    "\u202e",
    "日本語",
    "e\u0301",
    "\r\n",
    "\r",
    "\n",
    "\x00",
    "\ud800",
    "²",
    "١٢٣",
    "https://example.com/a?b=c",
    "@NorthwindHelp",
    "#refund",
    "$AAPL",
    "?",
]

awkward_text = st.lists(
    st.one_of(st.sampled_from(AWKWARD_PIECES), st.text(max_size=12)), max_size=12
).map("".join)
"""Any text at all, lone surrogates and NUL included, rich in the pieces above."""

INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def _not_blank(text: str) -> bool:
    return any(not (c.isspace() or c in INVISIBLE) for c in text)


printable_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=300,
    )
    | awkward_text.map(lambda t: t.replace("\x00", "").encode("utf-8", "ignore").decode())
).filter(_not_blank)
"""Text a real tweet can hold: any Unicode but NUL and surrogates, not blank (X sends no
blank post, and ingestion refuses one)."""

tweet_ids = st.integers(min_value=1, max_value=2**63 - 1).map(str)
"""Ids X could send: 1 to 2**63 - 1 in ASCII digits, no leading zero."""

bad_ids = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(),
    st.integers(min_value=10**20),
    st.integers(max_value=-1),
    st.text(max_size=25).filter(lambda t: not (t.isascii() and t.isdigit())),
    st.sampled_from(["", "²", "١٢٣", "12\n", " 12", "1e5", "0x1F", "9" * 21, "017", "0"]),
    st.from_regex(r"\A0[0-9]{1,18}\Z"),  # leading zeros
    st.integers(min_value=2**63, max_value=10**20 - 1).map(str),  # beyond X's 64-bit ids
    st.lists(st.integers(), max_size=2),
)
"""Ids X never sends."""


def _with_offset(moment: datetime, minutes: int) -> str:
    if minutes == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z").rjust(24, "0")
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"{moment.isoformat(timespec='seconds')}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


v2_dates = st.one_of(
    st.builds(
        _with_offset,
        # The whole calendar, 0001 to 9999: its ends are the interesting part, and
        # ``st.datetimes`` seldom reaches them by itself.
        st.one_of(
            st.sampled_from([datetime.min, datetime.max]),  # noqa: DTZ901 - naive, offset below
            st.datetimes(),
        ),
        st.sampled_from([0, 0, 60, -60, 14 * 60, -12 * 60, 330]),
    ),
    st.sampled_from(["2026-02-30T00:00:00.000Z", "yesterday", "", "2026-11-20T10:00:00"]),
    st.text(max_size=30),
)
"""``created_at`` as X writes it (UTC, ``Z``), with other offsets, and not at all a date."""


def _maybe(
    draw: st.DrawFn, key: str, strategy: st.SearchStrategy[Any], body: dict[str, Any]
) -> None:
    if draw(st.booleans()):
        body[key] = draw(strategy)


junk = st.one_of(
    st.none(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=2)
)


@st.composite
def v2_tweets(draw: st.DrawFn, ids: st.SearchStrategy[str] = tweet_ids) -> dict[str, Any]:
    """A v2 tweet object: ``id`` and ``text`` always, the rest when ``tweet.fields`` asked."""
    tweet_id = draw(ids)
    body: dict[str, Any] = {
        "id": tweet_id,
        "text": draw(printable_text),
        "edit_history_tweet_ids": [tweet_id],
    }
    _maybe(draw, "author_id", tweet_ids, body)
    _maybe(draw, "created_at", v2_dates, body)
    _maybe(draw, "conversation_id", tweet_ids, body)
    _maybe(draw, "in_reply_to_user_id", tweet_ids, body)
    _maybe(draw, "lang", st.sampled_from(["en", "fr", "und", "qme", "zxx", "pt-BR", ""]), body)
    _maybe(
        draw,
        "referenced_tweets",
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["replied_to", "quoted", "retweeted"]), "id": tweet_ids}
            ),
            max_size=2,
        ),
        body,
    )
    return body


@st.composite
def hostile_v2_tweets(draw: st.DrawFn) -> Any:
    """A v2 tweet with any field replaced by something X never sends, or not a tweet."""
    body = draw(v2_tweets())
    for key in draw(
        st.lists(
            st.sampled_from(["id", "text", "author_id", "created_at", "lang", "referenced_tweets"]),
            max_size=3,
        )
    ):
        body[key] = draw(st.one_of(junk, bad_ids, awkward_text, v2_dates))
    if draw(st.booleans()):
        body["text"] = draw(awkward_text)
    return draw(st.one_of(st.just(body), junk))


followers_counts = st.one_of(
    st.integers(min_value=0, max_value=10**9),
    st.integers(),  # negative, beyond 32 and 64 bits: forged
    st.booleans(),
    st.floats(),
    st.text(max_size=5),
)


@st.composite
def v2_users(draw: st.DrawFn, user_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": user_id or draw(tweet_ids),
        "username": draw(st.from_regex(r"\A[A-Za-z0-9_]{1,15}\Z")),
        "name": draw(printable_text.map(lambda t: t[:50])),
    }
    _maybe(draw, "description", printable_text, body)
    _maybe(
        draw,
        "public_metrics",
        st.fixed_dictionaries({"followers_count": followers_counts}),
        body,
    )
    return body


@st.composite
def v2_responses(draw: st.DrawFn, hostile: bool = False) -> dict[str, Any]:
    """A v2 response body: ``data`` (a list, or one tweet), ``includes.users``, ``meta``."""
    tweets = draw(st.lists(hostile_v2_tweets() if hostile else v2_tweets(), max_size=6))
    authors: set[str] = {
        t["author_id"]
        for t in tweets
        if isinstance(t, dict) and isinstance(t.get("author_id"), str)
    }
    payload: dict[str, Any] = {"meta": {"result_count": len(tweets)}}
    if tweets:
        payload["data"] = tweets if len(tweets) > 1 or draw(st.booleans()) else tweets[0]
    with_users = draw(st.booleans())
    if authors and with_users:
        payload["includes"] = {"users": [draw(v2_users(author)) for author in sorted(authors)]}
    return payload


@st.composite
def v11_statuses(draw: st.DrawFn, hostile: bool = False) -> Any:
    """A v1.1 status as Account Activity delivers it in ``tweet_create_events``."""
    tweet_id = draw(tweet_ids)
    user_id = draw(tweet_ids)
    status: dict[str, Any] = {
        "id": int(tweet_id) if draw(st.booleans()) else tweet_id,
        "id_str": tweet_id,
        "text": draw(printable_text),
        "created_at": draw(
            st.datetimes(timezones=st.just(UTC)).map(
                lambda d: d.strftime("%a %b %d %H:%M:%S +0000 %Y")
            )
        ),
        "user": {
            "id": user_id,
            "id_str": user_id,
            "screen_name": draw(st.from_regex(r"\A[A-Za-z0-9_]{1,15}\Z")),
            "name": draw(printable_text.map(lambda t: t[:50])),
        },
    }
    _maybe(draw, "followers_count", followers_counts, status["user"])
    if draw(st.booleans()):
        status["extended_tweet"] = {"full_text": draw(printable_text)}
    _maybe(draw, "in_reply_to_status_id_str", st.one_of(st.none(), tweet_ids), status)
    _maybe(draw, "in_reply_to_user_id_str", st.one_of(st.none(), tweet_ids), status)
    _maybe(draw, "lang", st.sampled_from(["en", "fr", "und", "es"]), status)
    if hostile:
        for key in draw(
            st.lists(
                st.sampled_from(["id_str", "text", "created_at", "user", "extended_tweet"]),
                max_size=3,
            )
        ):
            status[key] = draw(st.one_of(junk, bad_ids, awkward_text))
        return draw(st.one_of(st.just(status), junk))
    return status


def x_escape(text: str) -> str:
    """What X does to a customer's text: ``&``, ``<`` and ``>`` as entities, nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
