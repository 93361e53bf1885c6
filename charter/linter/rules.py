"""The rules themselves: ``lint`` runs every enabled rule over one draft.

How the text is read:

- Spans are code-point indexes into the original text (see ``Finding``).
- Words are matched case- and accent-insensitively, as whole words, on the folded text
  (``text.fold``: same length, so spans carry over). Text in decomposed form (a letter then
  a combining accent) is not folded; browsers send composed text.
- Personal data inside a link, an email address or a mention is not reported twice: digits in
  a URL are not a phone number, an email's domain is not a link.
- The brand's own contact points are not personal data: an email address at an allowed
  domain, a toll-free or shared-cost phone number (1-800..., 0800...).
- The leading "@a @b" of a reply (the thread's participants) is not another customer, there
  or later in the text, when ``customer_handle`` is not known; when it is, only that handle
  and the brand's may appear.
- ``unqualified_claim`` is a heuristic; see ``claims.py``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from twitter_text.regexp.invalid_chars import invalid_chars as _INVALID_CHARS

from charter.linter import detectors as find
from charter.linter import profanity, terms
from charter.linter.claims import unqualified_claims
from charter.linter.config import LintConfig
from charter.linter.messages import language_of, message, quoted
from charter.linter.registry import ALWAYS_ON, BRAND_SEVERITY, RULES
from charter.linter.results import Finding, LintResult, Severity
from charter.linter.text import MAX_WEIGHTED_LENGTH, fold, measure

Span = find.Span

_PROMISE = re.compile(terms.word_pattern(terms.PROMISE), re.IGNORECASE)
_DISCOUNT = re.compile(terms.word_pattern(terms.DISCOUNT), re.IGNORECASE)
_LEGAL_SAFETY = re.compile(terms.word_pattern(terms.LEGAL_SAFETY), re.IGNORECASE)
_OTHER_CUSTOMER = re.compile(terms.word_pattern(terms.OTHER_CUSTOMER), re.IGNORECASE)


@dataclass(frozen=True)
class _Compiled:
    """What a configuration needs at lint time, compiled once per configuration."""

    enabled: frozenset[str]
    severities: dict[str, Severity]
    profanity: _TermList | None
    competitors: re.Pattern[str] | None
    blocked: re.Pattern[str] | None
    review: re.Pattern[str] | None
    orders: tuple[re.Pattern[str], ...]
    allowed_domains: tuple[str, ...]
    known_handles: frozenset[str]
    customer_known: bool
    hashtag: re.Pattern[str] | None
    hashtag_text: str


def _terms_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    parts = [r"\s+".join(map(re.escape, fold(p).split())) for p in phrases if p.split()]
    if not parts:
        return None
    parts.sort(key=len, reverse=True)  # the longest phrase wins where several start
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class _TermList:
    """A long list of words as one pattern, and a quick check of what a text must hold for
    the pattern to have a chance: every word of some entry (each a whole word), keyed by
    the entry's longest word; or the first character of an entry that does not start with
    a word character. Most drafts hold no entry's words and are spared the scan of a
    400-way alternation at every position."""

    pattern: re.Pattern[str]
    needs: dict[str, tuple[frozenset[str], ...]]
    first_marks: frozenset[str]

    def may_match(self, folded: str) -> bool:
        if any(mark in folded for mark in self.first_marks):
            return True
        words = set(_WORD.findall(folded.lower()))
        return any(
            needed <= words for key in words & self.needs.keys() for needed in self.needs[key]
        )


_WORD = re.compile(r"\w+")


@lru_cache(maxsize=32)
def _profanity_list(allowed: tuple[str, ...]) -> _TermList | None:
    """The shipped lists less the brand's accepted entries (compared folded, any case)."""
    accepted = {" ".join(fold(word).casefold().split()) for word in allowed}
    kept = tuple(
        word
        for word in profanity.all_words()
        if " ".join(fold(word).casefold().split()) not in accepted
    )
    pattern = _terms_pattern(kept)
    if pattern is None:
        return None
    needs: dict[str, list[frozenset[str]]] = {}
    marks = set()
    for word in kept:
        folded = fold(word).strip().lower()
        words = _WORD.findall(folded)
        if not words or _WORD.match(folded) is None:
            marks.add(folded[0])
            continue
        key = max(reversed(words), key=len)  # the longest, the last of equals
        needs.setdefault(key, []).append(frozenset(words))
    return _TermList(pattern, {key: tuple(sets) for key, sets in needs.items()}, frozenset(marks))


def _brand_severities(config: LintConfig) -> tuple[dict[str, Severity], frozenset[str]]:
    """The severities the brand chose for ``BRAND_SEVERITY`` rules, and the ones it
    turned off. An unknown value keeps the rule's default."""
    chosen = {"profanity": config.profanity_verdict, "competitor": config.competitor_verdict}
    severities, off = {}, set()
    for rule in BRAND_SEVERITY:
        value = chosen[rule].strip().lower()
        if value == "off":
            off.add(rule)
        elif value in {Severity.ADVICE, Severity.REVIEW, Severity.BLOCK}:
            severities[rule] = Severity(value)
    return severities, frozenset(off)


def _user_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error:  # an invalid pattern matches as literal text (config.pattern_errors)
        return re.compile(re.escape(pattern), re.IGNORECASE)


def _domain(value: str) -> str:
    """A configured domain as a bare host: "https://www.Example.com/" and "*.example.com"
    both mean example.com (and so its subdomains)."""
    return find.host_of(value.strip()).removeprefix("*.").removeprefix("www.").lstrip(".")


@lru_cache(maxsize=256)
def _compile(config: LintConfig) -> _Compiled:
    hashtag = config.disclosure_hashtag.strip()
    if hashtag and not hashtag.startswith("#"):
        hashtag = "#" + hashtag
    handles = {h.strip().lstrip("@").lower() for h in config.brand_handles}
    customer = config.customer_handle.strip().lstrip("@").lower()
    severities, off = _brand_severities(config)
    return _Compiled(
        enabled=frozenset(RULES) - ((config.disabled_rules | off) - ALWAYS_ON),
        severities=severities,
        profanity=_profanity_list(config.profanity_allowed),
        competitors=_terms_pattern(config.competitor_names),
        blocked=_terms_pattern(config.blocked_terms),
        review=_terms_pattern(config.extra_review_terms),
        orders=tuple(_user_pattern(p) for p in config.order_number_patterns),
        allowed_domains=tuple(d for d in map(_domain, config.allowed_domains) if d),
        known_handles=frozenset(handles | ({customer} if customer else set())),
        customer_known=bool(customer),
        hashtag=(
            re.compile(r"(?<!\w)" + re.escape(fold(hashtag)) + r"(?!\w)", re.IGNORECASE)
            if len(hashtag) > 1
            else None
        ),
        hashtag_text=hashtag,
    )


class _Draft:
    """One lint run: the text, its folded twin, and the findings so far."""

    def __init__(self, text: str, language: str, compiled: _Compiled) -> None:
        self.text = text
        self.folded = fold(text)
        self.language = language
        self.compiled = compiled
        self.findings: list[Finding] = []

    def enabled(self, rule: str) -> bool:
        return rule in self.compiled.enabled

    def add(self, rule: str, span: Span, **values: object) -> None:
        if rule not in self.compiled.enabled:
            return
        start, end = span
        values.setdefault("term", quoted(self.text[start:end], self.language))
        severity = self.compiled.severities.get(rule, RULES[rule].severity)
        self.findings.append(
            Finding(rule, severity, start, end, message(rule, self.language, **values))
        )

    def add_words(self, rule: str, pattern: re.Pattern[str] | None, skip: list[Span]) -> None:
        """A finding for each match of ``pattern`` in the folded text outside ``skip``."""
        if pattern is None or rule not in self.compiled.enabled:
            return
        for match in pattern.finditer(self.folded):
            if not find.overlaps(match.span(), skip):
                self.add(rule, match.span())


def lint(text: str, config: LintConfig, *, language: str = "en", signature: str = "") -> LintResult:
    """Run the brand's enabled rules over ``text``.

    Messages are in French when ``language`` is French (``fr``, ``fr-CA``...), else English.
    ``signature`` is the volunteer's (e.g. ``^AB``); without one, ``missing_signature`` does
    not run. Findings come sorted by start; the verdict is the most severe finding's
    severity, or ``ok``.
    """
    compiled = _compile(config)
    draft = _Draft(text, language_of(language), compiled)

    measured = measure(text)
    if measured.over_limit_start is not None:
        draft.add(
            "over_length",
            (measured.over_limit_start, len(text)),
            length=measured.weighted_length,
            limit=MAX_WEIGHTED_LENGTH,
        )
    if not text.isascii():
        for match in _INVALID_CHARS.finditer(text):
            draft.add("invalid_character", match.span(), codepoint=f"U+{ord(match.group()):04X}")

    emails = find.emails(text)
    email_spans = [span for span, _ in emails]
    links = [(s, host) for s, host in find.urls(text) if not find.overlaps(s, email_spans)]
    link_spans = [span for span, _ in links]
    mentions = find.mentions(text)
    opaque = email_spans + link_spans + [span for span, _ in mentions]

    personal = _personal_data(draft, emails, opaque)
    _links(draft, links)

    words_skip = email_spans + link_spans
    draft.add_words("blocked_term", compiled.blocked, [])
    # Addresses are not the volunteer's words; a competitor's site or handle still counts.
    if compiled.profanity is not None and compiled.profanity.may_match(draft.folded):
        draft.add_words("profanity", compiled.profanity.pattern, opaque)
    draft.add_words("competitor", compiled.competitors, [])
    draft.add_words("promise", _PROMISE, words_skip)
    if draft.enabled("price"):
        for span in find.prices(draft.folded):
            if not find.overlaps(span, opaque):
                draft.add("price", span)
    draft.add_words("price", _DISCOUNT, words_skip)
    draft.add_words("legal_safety", _LEGAL_SAFETY, words_skip)
    draft.add_words("review_term", compiled.review, [])
    _other_customer(draft, mentions, words_skip)

    end = (len(text), len(text))
    sig = signature.strip()
    if not _has_words(text, opaque + find.hashtags(text), sig):
        draft.add("no_words", end)
    if sig and config.require_signature and sig.casefold() not in text.casefold():
        draft.add("missing_signature", end, signature=sig)
    if compiled.hashtag is not None and compiled.hashtag.search(draft.folded) is None:
        draft.add("missing_disclosure", end, hashtag=compiled.hashtag_text)
    if draft.enabled("unqualified_claim"):
        skip = opaque + personal + find.hashtags(text)
        for span in unqualified_claims(text, draft.folded, skip, sig):
            draft.add("unqualified_claim", span)

    findings = tuple(sorted(draft.findings, key=_order))
    verdict = max((f.severity for f in findings), default=Severity.OK)
    return LintResult(text, verdict, measured.weighted_length, findings)


# What counts as the reply's own words: letters, digits and pictographs (an emoji answers
# too); not punctuation, spaces, invisible characters or modifiers.
_WORD_CATEGORIES = ("L", "N", "So")


def _has_words(text: str, skip: list[Span], signature: str) -> bool:
    """Whether ``text`` says something besides mentions, links, emails, hashtags and the
    volunteer's signature (every place it appears, in any case)."""
    spans = list(skip)
    if signature:
        lowered, needle = text.casefold(), signature.casefold()
        if len(lowered) == len(text):  # casefold kept the indexes ("ß" would not)
            at = lowered.find(needle)
            while at >= 0:
                spans.append((at, at + len(needle)))
                at = lowered.find(needle, at + len(needle))
    rest = find.blank(text, spans)
    return any(unicodedata.category(char).startswith(_WORD_CATEGORIES) for char in rest)


def _personal_data(draft: _Draft, emails: list[tuple[Span, str]], opaque: list[Span]) -> list[Span]:
    """Emails, card, order and phone numbers; returns the numbers' spans. Each kind of
    number is looked for outside the ones before it, so one run of digits is one finding."""
    for span, domain in emails:
        # The brand's own addresses (at an allowed domain) are not personal data.
        if not find.is_allowed_host(domain, draft.compiled.allowed_domains):
            draft.add("email_address", span)
    # Digits in links, emails and mentions (timestamps, ids) are not personal data; blanking
    # them also keeps the slower phone matcher from running on every link.
    masked = find.blank(draft.text, opaque)
    cards = find.card_numbers(masked)
    for span in cards:
        draft.add("card_number", span)
    found = find.order_numbers(draft.folded, draft.text, draft.compiled.orders)
    orders = _distinct([s for s in found if not find.overlaps(s, opaque + cards)])
    for span in orders:
        draft.add("order_number", span)
    phones = []
    if draft.enabled("phone_number") or draft.enabled("unqualified_claim"):
        phones = find.phone_numbers(find.blank(masked, cards + orders))
    for span in phones:
        draft.add("phone_number", span)
    return cards + orders + phones


def _links(draft: _Draft, links: list[tuple[Span, str]]) -> None:
    allowed = draft.compiled.allowed_domains
    if allowed:  # no list configured: links are not restricted
        for span, host in links:
            if not find.is_allowed_host(host, allowed):
                draft.add("link_domain", span, host=host, domains=", ".join(allowed))
    if links:  # the price is per post, whatever the number of links
        draft.add("link_cost", links[0][0])


def _order(finding: Finding) -> tuple[int, int, int, str]:
    return (finding.start, finding.end, -finding.severity.rank, finding.rule)


def _distinct(spans: list[Span]) -> list[Span]:
    """Spans without the ones inside another (the built-in and a brand pattern may both
    match the same number)."""
    ordered = sorted(set(spans), key=lambda s: (s[0], -s[1]))
    kept: list[Span] = []
    for span in ordered:
        if not any(s <= span[0] and span[1] <= e for s, e in kept):
            kept.append(span)
    return kept


def _other_customer(draft: _Draft, mentions: list[tuple[Span, str]], skip: list[Span]) -> None:
    known = draft.compiled.known_handles
    if not draft.compiled.customer_known:
        # The customer is not named: the handles the reply opens with are the thread's
        # participants, and naming them again later is fine too.
        prefix = find.REPLY_PREFIX.match(draft.text)
        prefix_end = prefix.end() if prefix else 0
        known = known | {handle.lower() for span, handle in mentions if span[1] <= prefix_end}
    for span, handle in mentions:
        if handle.lower() not in known:
            draft.add("other_customer", span)
    draft.add_words("other_customer", _OTHER_CUSTOMER, skip)
