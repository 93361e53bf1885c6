"""Properties of the charter's draft linter (``charter.linter``) on any text the desk
accepts (up to ``MAX_TEXT_CHARS``, 10,000 characters) and any brand configuration: it
never raises, its findings' spans lie within the text, it is deterministic, and its
weighted length is ``twitter_text.parse_tweet``'s."""

from __future__ import annotations

from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import strategies as st
from twitter_text import parse_tweet

from charter.linter import RULES, LintConfig, Severity, lint
from charter.linter.text import measure
from tests.properties.strategies import AWKWARD_PIECES, awkward_text, printable_text

MAX_TEXT_CHARS: int = django_settings.MAX_TEXT_CHARS

# What volunteers type: words the rules look for, beside the awkward pieces.
RULE_WORDS = [
    "refund",
    "remboursement",
    "free",
    "$19.99",
    "19,99 €",
    "guarantee",
    "lawyer",
    "order 123456",
    "commande 998877",
    "ann@example.com",
    "+33 6 12 34 56 78",
    "4111 1111 1111 1111",
    "www.northwind.example",
    "https://evil.example/x",
    "@someone",
    "^AB",
    "#NorthwindHelp",
    "damn",
    "Amazon",
    " ",
    "\n",
]

drafts = st.lists(
    st.one_of(st.sampled_from(RULE_WORDS + AWKWARD_PIECES), st.text(max_size=20)), max_size=40
).map("".join)

long_drafts = st.builds(
    lambda piece, times, tail: (piece * times + tail)[:MAX_TEXT_CHARS],
    drafts.filter(bool),
    st.integers(min_value=1, max_value=MAX_TEXT_CHARS),
    drafts,
)
"""Drafts up to the 10,000 characters the desk accepts."""

words = st.one_of(st.sampled_from(RULE_WORDS), st.text(min_size=1, max_size=15))
verdicts = st.sampled_from(["block", "review", "advice", "off", "", "nonsense"])

configs = st.builds(
    LintConfig,
    allowed_domains=st.lists(
        st.sampled_from(["northwind.example", "", ".", "é.fr"]), max_size=3
    ).map(tuple),
    disclosure_hashtag=st.sampled_from(["", "#NorthwindHelp", "#", "#é"]),
    require_signature=st.booleans(),
    # Patterns a brand typed, valid or not (an invalid one is matched as literal text).
    order_number_patterns=st.lists(
        st.sampled_from([r"NW-\d{6}", r"(", r"[", r"a{2,1}", r"\d+", r"(?i)x"])
        | st.text(max_size=8),
        max_size=3,
    ).map(tuple),
    extra_review_terms=st.lists(words, max_size=3).map(tuple),
    blocked_terms=st.lists(words, max_size=3).map(tuple),
    profanity_verdict=verdicts,
    profanity_allowed=st.lists(words, max_size=2).map(tuple),
    competitor_names=st.lists(words, max_size=3).map(tuple),
    competitor_verdict=verdicts,
    disabled_rules=st.frozensets(st.sampled_from(sorted(RULES)) | st.text(max_size=5), max_size=3),
    customer_handle=st.sampled_from(["", "someone", "@someone", "é"]),
    brand_handles=st.lists(st.sampled_from(["NorthwindHelp", "", "@x"]), max_size=2).map(tuple),
)

languages = st.sampled_from(["en", "fr", "fr-CA", "", "xx", "FR"]) | st.text(max_size=6)
signatures = st.sampled_from(["", "^AB", "^", "—Zoë"]) | st.text(max_size=6)


def _assert_well_formed(text: str, config: LintConfig, language: str, signature: str) -> None:
    result = lint(text, config, language=language, signature=signature)

    assert result.text == text
    for finding in result.findings:
        assert 0 <= finding.start <= finding.end <= len(text), finding
        assert finding.rule in RULES
        assert finding.message
        assert finding.rule not in config.disabled_rules
    assert [f.start for f in result.findings] == sorted(f.start for f in result.findings)
    worst = max((f.severity for f in result.findings), default=Severity.OK, key=lambda s: s.rank)
    assert result.verdict == worst
    assert result.weighted_length >= 0


@given(drafts | awkward_text, configs, languages, signatures)
def test_lint_never_raises_and_its_spans_lie_within_the_text(
    text: str, config: LintConfig, language: str, signature: str
) -> None:
    _assert_well_formed(text, config, language, signature)


@given(long_drafts, configs)
def test_lint_handles_every_length_the_desk_accepts(text: str, config: LintConfig) -> None:
    _assert_well_formed(text, config, "en", "^AB")


@given(drafts | awkward_text, configs, languages, signatures)
def test_lint_is_deterministic(
    text: str, config: LintConfig, language: str, signature: str
) -> None:
    first = lint(text, config, language=language, signature=signature)

    lint(text + " other draft", config, language=language, signature=signature)  # caches

    assert lint(text, config, language=language, signature=signature) == first


# X counts text it can hold: parse_tweet cannot encode a lone surrogate, and the desk never
# posts one (the linter's ``invalid_character`` blocks it).
countable = (drafts | printable_text).map(lambda t: t.encode("utf-8", "ignore").decode())


@given(countable)
def test_the_weighted_length_is_parse_tweets(text: str) -> None:
    assert measure(text).weighted_length == parse_tweet(text).weightedLength


@given(countable)
def test_over_length_is_found_exactly_when_parse_tweet_says_the_text_does_not_fit(
    text: str,
) -> None:
    result = lint(text, LintConfig(), signature="")

    parsed = parse_tweet(text)
    assert ("over_length" in result.rules) == (parsed.weightedLength > 280)
