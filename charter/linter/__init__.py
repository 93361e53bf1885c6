"""The charter's draft linter: the rules a reply must pass before it goes out.

    from charter.linter import LintConfig, lint
    result = lint("@ann Your refund is on its way ^AB", LintConfig(), signature="^AB")
    result.verdict        # Severity.REVIEW ("refund" is a promise)
    result.as_json()      # the shape ``manage.py lint_draft`` writes

Severities, from least to most severe: ``ok < advice < review < block``. ``block``: the
reply cannot be sent (over 280 weighted characters, personal data, a link outside the
brand's domains, a forbidden term, no words of its own besides mentions, the signature,
hashtags and links -- a rule no brand can turn off); ``review``: sent only after a
supervisor approves it (promises, prices, legal or safety words, another customer);
``advice``: shown to the volunteer (signature, disclosure hashtag, qualifiers, the cost of a
link). ``RULES`` lists every rule with its severity and a description in English and
French. The severities of ``profanity`` and ``competitor`` are the brand's to choose.

Spans (``Finding.start``/``end``) are Python ``str`` indexes -- code points, not UTF-16
units -- into the original text, start inclusive, end exclusive; a finding about something
missing has the empty span at the end of the text. The weighted length is X's (NFC, URLs 23,
emoji and CJK 2), computed as ``twitter_text.parse_tweet`` does.

This package imports nothing of the project's but ``charter`` modules, and needs no database
or Django settings: it can run in a benchmark, a worker or the admin alike.
"""

from charter.linter.config import LintConfig, pattern_errors
from charter.linter.registry import RULES, RuleInfo
from charter.linter.results import Finding, LintResult, Severity
from charter.linter.rules import lint

__all__ = [
    "RULES",
    "Finding",
    "LintConfig",
    "LintResult",
    "RuleInfo",
    "Severity",
    "lint",
    "pattern_errors",
]
