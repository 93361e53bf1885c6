"""The ``unqualified_claim`` heuristic (TwelpForce: "use qualifiers such as 'approximately'").

A sentence gets the advice when it is not a question, holds a number (outside links,
mentions, hashtags, personal data and the signature) or a claim word ("will", "sera",
"tomorrow", a month...), and has no qualifier ("approximately", "usually", "should",
"environ", "normalement"...). "we will" / "I will" (the volunteer's own next step) is not a
claim. A product's number ("PlayStation 4") counts as a number: it is advice, and cheap to
ignore. The word lists are in ``terms.py``.
"""

from __future__ import annotations

import re

from charter.linter import terms
from charter.linter.detectors import Span, blank, overlaps

_CLAIM = re.compile(terms.word_pattern(terms.CLAIM), re.IGNORECASE)
_QUALIFIER = re.compile(terms.word_pattern(terms.QUALIFIER), re.IGNORECASE)
# A number standing alone, with an optional unit of time ("5", "1.5", "24/7", "10am", "48h");
# not the digits of a product name or a code ("PS4", "2SV", "WS-37368-7").
_NUMBER = re.compile(
    r"(?<![\w.,-])\d+(?:[.,:/h-]\d+)*(?:am|pm|h|hrs?|mins?|j)?(?![\w-])", re.IGNORECASE
)
# A sentence: a run without . ! ? or newline, except . ! ? inside a word ("1.5", "e.g"),
# then its closing punctuation.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*")


def unqualified_claims(text: str, folded: str, skip: list[Span], signature: str) -> list[Span]:
    """The spans of the sentences of ``text`` that state a fact without a qualifier.
    ``folded`` is ``text.fold(text)``; numbers inside ``skip`` spans do not count."""
    found: list[Span] = []
    if signature:
        at = text.casefold().rfind(signature.casefold())
        if at >= 0:
            skip = [*skip, (at, at + len(signature))]
    words = blank(text, skip)
    for sentence in _SENTENCE.finditer(text):
        start, end = sentence.span()
        body = sentence.group()
        start += len(body) - len(body.lstrip())
        end -= len(body) - len(body.rstrip())
        if start >= end or text[start:end].endswith("?"):
            continue
        if not any(char.isalpha() for char in words[start:end]):
            continue  # no words besides mentions, links, signature: "@ann 2/2", "^AB 2/2"
        spans = [m.span() for m in _NUMBER.finditer(text, start, end)]
        spans += [m.span() for m in _CLAIM.finditer(folded, start, end)]
        if not any(not overlaps(span, skip) for span in spans):
            continue
        if _QUALIFIER.search(folded, start, end) is not None:
            continue
        found.append((_after_leading(text, skip, start, end), end))
    return found


def _after_leading(text: str, skip: list[Span], start: int, end: int) -> int:
    """Move ``start`` past the mentions or links that open a sentence ("@ann Your...")."""
    moved = True
    while moved:
        moved = False
        for s, e in skip:
            if s == start and e < end:
                start, moved = e, True
                while start < end and text[start].isspace():
                    start += 1
    return start
