"""What the linter returns: severities, findings and results."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is, ordered ``ok < advice < review < block`` (not alphabetically:
    the comparisons below use that order)."""

    OK = "ok"
    ADVICE = "advice"
    REVIEW = "review"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self.value]

    def __lt__(self, other: str) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: str) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: str) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: str) -> bool:
        return self.rank >= _rank_of(other)


_RANK = {"ok": 0, "advice": 1, "review": 2, "block": 3}


def _rank_of(value: str) -> int:
    try:
        return _RANK[str(value)]
    except KeyError:
        raise TypeError(f"{value!r} is not a severity") from None


@dataclass(frozen=True)
class Finding:
    """One rule's objection to a span of the draft.

    ``start`` and ``end`` are Python ``str`` indexes (code points, not UTF-16 units) into the
    original text, start inclusive and end exclusive. A finding about something missing (a
    signature, a hashtag) has the empty span ``(len(text), len(text))``: where to add it.
    """

    rule: str
    severity: Severity
    start: int
    end: int
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


@dataclass(frozen=True)
class LintResult:
    """A draft, its verdict (its most severe finding, or ``ok``), its weighted length as X
    counts it, and its findings sorted by start."""

    text: str
    verdict: Severity
    weighted_length: int
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        """The shape ``manage.py lint_draft`` writes, one JSON object per draft."""
        return {
            "text": self.text,
            "verdict": self.verdict.value,
            "weighted_length": self.weighted_length,
            "findings": [finding.as_json() for finding in self.findings],
        }

    @property
    def rules(self) -> frozenset[str]:
        return frozenset(finding.rule for finding in self.findings)
