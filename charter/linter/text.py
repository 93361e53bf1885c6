"""Text helpers for the linter: X's weighted length and index-preserving folding.

``measure`` counts a draft exactly as ``twitter_text.parse_tweet`` does (NFC, line endings
made ``\\n``, URLs 23, emoji sequences 2, the package's weight ranges), using the package's own
URL extractor, emoji pattern and configuration. It differs in two ways only, for speed and
precision: it tries the package's emoji pattern (a 2,500-way alternation whose scan of every
position takes about 70% of ``parse_tweet``'s time) only where an emoji can start, and it
reports where the text goes over the limit as a code-point index into the original text
rather than ``parse_tweet``'s UTF-16 ``validRangeEnd``. ``tests/charter`` checks that its
length equals ``parse_tweet(text).weightedLength`` on the corpus and the length cases.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from twitter_text import extract_urls_with_indices
from twitter_text.config import config as _twitter_config
from twitter_text.extract_emojis import extract_emojis_with_indices
from twitter_text.regexp.emoji import emoji as _emoji_regex

_OPTIONS: dict[str, Any] = _twitter_config["defaults"]
SCALE: int = _OPTIONS["scale"]
MAX_WEIGHTED_LENGTH: int = _OPTIONS["max_weighted_tweet_length"]
URL_WEIGHT: int = _OPTIONS["transformed_url_length"] * SCALE
EMOJI_WEIGHT: int = _OPTIONS["default_weight"]
_RANGES: tuple[tuple[int, int, int], ...] = tuple(
    (r["start"], r["end"], r["weight"]) for r in _OPTIONS["ranges"]
)
# Characters outside every light range weigh the default weight (2 in X's counting).
_HEAVY = re.compile(
    "[^" + "".join(f"\\U{start:08x}-\\U{end:08x}" for start, end, _ in _RANGES) + "]"
)
_LINE_ENDING = re.compile(r"\r\n|\r|\n")


def _emoji_start_characters() -> frozenset[str]:
    """The characters an emoji match can begin with, read from the package's own pattern:
    literal sequences ``\\UXXXXXXXX...`` and one character class of single emoji."""
    starts: set[str] = set()
    escape = re.compile(r"\\U([0-9a-fA-F]{8})(?:-\\U([0-9a-fA-F]{8}))?")
    for alternative in _emoji_regex.pattern.split("|"):
        if alternative.startswith("["):
            for match in escape.finditer(alternative):
                low, high = int(match[1], 16), int(match[2] or match[1], 16)
                starts.update(map(chr, range(low, high + 1)))
        else:
            first = escape.match(alternative)
            if first is None:  # a pattern shape this reader does not know: always scan
                return frozenset()
            starts.add(chr(int(first[1], 16)))
    return frozenset(starts)


_EMOJI_STARTS = _emoji_start_characters()


_KEYCAP_FOLLOWERS = frozenset("\ufe0f\u20e3")


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """The emoji ``twitter_text.extract_emojis_with_indices`` finds, as (start, end).

    The package scans every position with its 2,500-way alternation; a match can only begin
    at an emoji's first character (a keycap's digit, ``#`` or ``*`` only when U+FE0F or
    U+20E3 follows), so trying the same pattern at those positions alone, left to right and
    past each match, finds the same emoji at a fraction of the cost.
    """
    if not _EMOJI_STARTS:  # a pattern this module cannot read: let the package scan
        return [(e["indices"][0], e["indices"][1]) for e in extract_emojis_with_indices(text)]
    if text.isascii():
        return []
    spans: list[tuple[int, int]] = []
    resume = 0
    for index, char in enumerate(text):
        if index < resume or char not in _EMOJI_STARTS:
            continue
        if char.isascii() and text[index + 1 : index + 2] not in _KEYCAP_FOLLOWERS:
            continue
        match = _emoji_regex.match(text, index)
        if match is not None:
            spans.append(match.span())
            resume = match.end()
    return spans


@lru_cache(maxsize=16)
def url_entities(text: str) -> tuple[tuple[int, int, str], ...]:
    """``twitter_text.extract_urls_with_indices`` as (start, end, url), remembered for the
    last few texts: the length count and the link rules both need them."""
    if "." not in text:
        return ()
    return tuple(
        (found["indices"][0], found["indices"][1], found["url"])
        for found in extract_urls_with_indices(text)
    )


def _weight(char: str) -> int:
    code = ord(char)
    for start, end, weight in _RANGES:
        if start <= code <= end:
            return weight
    return EMOJI_WEIGHT


@dataclass(frozen=True)
class Measure:
    """A draft's weighted length and, when it is too long, the index (into the original
    text) of the first character past the limit."""

    weighted_length: int
    over_limit_start: int | None


def normalize(text: str) -> str:
    """The text X counts: NFC, with every line ending made ``\\n``."""
    normalized = unicodedata.normalize("NFC", text)
    return _LINE_ENDING.sub("\n", normalized) if "\r" in normalized else normalized


def measure(text: str) -> Measure:
    """Count ``text`` as X does; see the module docstring."""
    normalized = normalize(text)
    entities: dict[int, tuple[int, int]] = {}  # start -> (length, weight); URLs win
    for start, end in emoji_spans(normalized):
        entities[start] = (end - start, EMOJI_WEIGHT)
    for start, _, url in url_entities(normalized):
        entities[start] = (len(url), URL_WEIGHT)

    total, position = 0, 0
    for start in sorted(entities):
        if start < position:  # inside a URL or emoji already counted
            continue
        plain = normalized[position:start]
        total += len(plain) * SCALE + len(_HEAVY.findall(plain)) * (EMOJI_WEIGHT - SCALE)
        length, weight = entities[start]
        total += weight
        position = start + max(length, 1)
    plain = normalized[position:]
    total += len(plain) * SCALE + len(_HEAVY.findall(plain)) * (EMOJI_WEIGHT - SCALE)

    weighted_length = total // SCALE
    if weighted_length <= MAX_WEIGHTED_LENGTH:
        return Measure(weighted_length, None)
    over = _first_over_limit(normalized, entities)
    return Measure(weighted_length, _original_index(text, normalized, over))


def _first_over_limit(normalized: str, entities: dict[int, tuple[int, int]]) -> int:
    """Index in ``normalized`` of the first character (or URL/emoji) past the limit."""
    limit = MAX_WEIGHTED_LENGTH * SCALE
    total, index = 0, 0
    while index < len(normalized):
        length, weight = entities.get(index, (1, 0))
        total += weight or _weight(normalized[index])
        if total > limit:
            return index
        index += max(length, 1)
    return len(normalized)


def _original_index(text: str, normalized: str, index: int) -> int:
    """Map an index of ``normalize(text)`` back to ``text``: the smallest original prefix
    whose normalisation reaches past ``index``, minus one."""
    if normalized == text:
        return index
    low, high = 0, len(text)
    while low < high:
        middle = (low + high) // 2
        if len(normalize(text[:middle])) > index:
            high = middle
        else:
            low = middle + 1
    return max(0, min(low - 1, len(text) - 1))


_FOLD_TABLE: dict[int, str] = {}
for _code in range(0xC0, 0x250):
    _base = unicodedata.normalize("NFD", chr(_code))[0]
    if _base.isascii() and _base.isalpha() and _base != chr(_code):
        _FOLD_TABLE[_code] = _base
_FOLD_TABLE.update(
    {
        ord("\u2019"): "'",
        ord("\u2018"): "'",
        ord("\u02bc"): "'",
        ord("\u201c"): '"',
        ord("\u201d"): '"',
        ord("\u00a0"): " ",
        ord("\u202f"): " ",
        ord("\u2009"): " ",
    }
)


def fold(text: str) -> str:
    """``text`` with accents taken off Latin letters and typographic apostrophes, quotes and
    non-breaking spaces made plain, one character for one: every index stays valid."""
    return text if text.isascii() else text.translate(_FOLD_TABLE)


_X_ENTITY = re.compile(r"&(amp|lt|gt);")
_X_ENTITY_TEXT = {"amp": "&", "lt": "<", "gt": ">"}


def unescape_x_text(text: str) -> str:
    """Tweet text as its author wrote it. X sends ``&``, ``<`` and ``>`` as ``&amp;``,
    ``&lt;`` and ``&gt;`` (v2 and v1.1 alike) and escapes nothing else, so exactly those three
    are undone, in one pass: ``&amp;lt;`` is the author's ``&lt;``, and ``&quot;`` or
    ``&#60;`` are what the author typed."""
    if "&" not in text:
        return text
    return _X_ENTITY.sub(lambda match: _X_ENTITY_TEXT[match[1]], text)
