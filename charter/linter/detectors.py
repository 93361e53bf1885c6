"""Finders for the things the rules look at: personal data, links, mentions and prices.

Every finder returns ``(start, end)`` spans (code-point indexes into the text it was given,
end exclusive). They are compiled once, at import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers

from charter.linter.text import url_entities

Span = tuple[int, int]

# Regions whose national formats the phone finder knows; "+<country code>" works for any.
PHONE_REGIONS = ("US", "GB", "FR", "CA")
# One pass per country code: Canada shares +1 and the national format with the US, and a
# number found with either region is checked against its own area code's region.
_PHONE_PASSES: tuple[str, ...] = ()
for _region in PHONE_REGIONS:
    if all(
        phonenumbers.country_code_for_region(_region) != phonenumbers.country_code_for_region(r)
        for r in _PHONE_PASSES
    ):
        _PHONE_PASSES += (_region,)

_BUSINESS_LINES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.UAN,
    }
)

EMAIL = re.compile(
    r"(?<![\w.%+-])[\w%+-]+(?:\.[\w%+-]+)*@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}(?!\w)"
)

# A mention as twitter-text sees one: not after a letter, digit or symbol that would make it
# part of a word or an email, at most 15 characters, not followed by more handle characters.
MENTION = re.compile(
    r"(?<![A-Za-z0-9_!@#$%&*\uff20])[@\uff20]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@\uff20]|://)"
)
# The mentions X's reply box puts first: "@a @b text".
REPLY_PREFIX = re.compile(r"\A\s*(?:[@\uff20][A-Za-z0-9_]{1,15}\s+)+")

HASHTAG = re.compile(r"(?<![\w&])[#\uff03][\w]+")

# Candidate card numbers: 13 to 19 digits, single spaces or dashes allowed between them.
CARD_CANDIDATE = re.compile(r"(?<![\d.,])\d(?:[ -]?\d){12,18}(?![\d]|[.,]\d)")

# At least 8 digits close together: where the (slower) phone matcher needs to look. The
# margin takes in a leading "+" or "(" and the letters the matcher checks on either side.
PHONE_CANDIDATE = re.compile(r"\d(?:[\s().\-/]{0,3}\d){7,}")
_WINDOW_MARGIN = 4

_AMOUNT = r"\d{1,3}(?:[ ,.]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_SYMBOL = r"[$\u20ac\u00a3\u00a5]"
_PERCENT = r"\d+(?:[.,]\d+)? ?(?:%|(?:per ?cent|pour ?cent|percent)(?!\w))"
PRICE = re.compile(
    rf"(?:(?<![\w$])(?:[A-Z]{{1,2}})?{_SYMBOL} ?(?:{_AMOUNT})"
    rf"|(?<![\w.,])(?:usd|eur|cad|gbp|chf) ?(?:{_AMOUNT})(?![\w])"
    rf"|(?<![\w.,])(?:{_AMOUNT}) ?(?:{_SYMBOL}|(?:euros?|dollars?|usd|eur|cad|gbp|chf|bucks)(?!\w))"
    # A percentage off: "-20%", "20% off", "20 % de remise" (not "battery at 20%").
    rf"|(?<![\w.,])-{_PERCENT}"
    rf"|(?<![\w.,]){_PERCENT} ?(?:off|de (?:remise|reduction|rabais))(?!\w))",
    re.IGNORECASE,
)

# Built-in order/account number: a keyword, an optional "number"/"n°"/"#", then a token of
# at least 5 letters, digits or dashes holding at least three digits.
ORDER_NUMBER = re.compile(
    r"(?<!\w)(?:order|orders|commande|account|acct|compte|confirmation|reservation|booking"
    r"|dossier|invoice|facture|membership|adherent)"
    r"(?:\s+(?:number|no\.?|num(?:ber|ero)|n[°º]|#)|\s*[#°º])?\s*(?:[:#°º]\s*)?"
    r"(?P<number>(?=(?:[A-Z-]*\d){3})[A-Z0-9][A-Z0-9-]{4,})(?!\w)",
    re.IGNORECASE,
)


def overlaps(span: Span, others: Iterable[Span]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def emails(text: str) -> list[tuple[Span, str]]:
    """Email addresses, each with its lower-cased domain."""
    if "@" not in text:
        return []
    return [
        (match.span(), match.group().rsplit("@", 1)[1].lower()) for match in EMAIL.finditer(text)
    ]


def urls(text: str) -> list[tuple[Span, str]]:
    """Links as X finds them (with or without a scheme), each with its lower-cased host."""
    return [((start, end), host_of(url)) for start, end, url in url_entities(text)]


def host_of(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.rstrip(".").lower()


def is_allowed_host(host: str, allowed: Iterable[str]) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in allowed)


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_numbers(text: str) -> list[Span]:
    found = []
    for match in CARD_CANDIDATE.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and digits.strip("0") and luhn_ok(digits):
            found.append(match.span())
    return found


def phone_numbers(text: str) -> list[Span]:
    """Numbers ``phonenumbers`` finds valid in one of ``PHONE_REGIONS`` (or international),
    except business lines: toll-free, shared-cost, premium-rate and universal access numbers
    (1-800..., 0800..., 08 9x...) are a company's, not a person's.

    The matcher only looks at windows around runs of 8 or more digits (with the characters
    around them, which it checks), not at the whole draft: same numbers, far less work.
    """
    spans: set[Span] = set()
    for candidate in PHONE_CANDIDATE.finditer(text):
        low = max(0, candidate.start() - _WINDOW_MARGIN)
        window = text[low : candidate.end() + _WINDOW_MARGIN]
        for region in _PHONE_PASSES:
            for match in phonenumbers.PhoneNumberMatcher(
                window, region, leniency=phonenumbers.Leniency.VALID
            ):
                if phonenumbers.number_type(match.number) not in _BUSINESS_LINES:
                    spans.add((low + match.start, low + match.end))
    # Keep the widest of overlapping matches ("+1 415..." and "415..." for other regions).
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not overlaps(span, kept):
            kept.append(span)
    return kept


def prices(text: str) -> list[Span]:
    return [match.span() for match in PRICE.finditer(text)]


def order_numbers(
    folded: str, text: str, brand_patterns: Iterable[re.Pattern[str]] = ()
) -> list[Span]:
    """The built-in patterns run on the folded text ("numéro" is "numero"); the brand's own
    patterns on the text as written."""
    spans = [m.span("number") for m in ORDER_NUMBER.finditer(folded)]
    for pattern in brand_patterns:
        spans += [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
    return spans


def mentions(text: str) -> list[tuple[Span, str]]:
    if "@" not in text and "\uff20" not in text:
        return []
    return [(match.span(), match.group(1)) for match in MENTION.finditer(text)]


def hashtags(text: str) -> list[Span]:
    return [match.span() for match in HASHTAG.finditer(text)]


def blank(text: str, spans: list[Span]) -> str:
    """``text`` with ``spans`` replaced by spaces: same length, same indexes."""
    if not spans:
        return text
    pieces, position = [], 0
    for start, end in sorted(spans):
        start = max(start, position)
        if end > start:
            pieces += [text[position:start], " " * (end - start)]
            position = end
    pieces.append(text[position:])
    return "".join(pieces)
