"""A brand's routing rules compiled for matching, and matching them against a tweet."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from routing.classify.words import HASHTAG, WORD, fold, words_of
from routing.models import RoutingRule, RuleKind


@dataclass(frozen=True)
class CompiledRule:
    pk: int
    name: str
    kind: str
    effect: str
    topic_id: int | None
    priority_boost: int
    noise_reason: str


@dataclass(frozen=True)
class CompiledRules:
    """A brand's active rules in position order, indexed for matching."""

    brand_id: int
    version: str
    rules: tuple[CompiledRule, ...] = ()
    words: dict[str, tuple[int, ...]] = field(default_factory=dict)
    sequences: dict[str, tuple[tuple[tuple[str, ...], int], ...]] = field(default_factory=dict)
    hashtags: dict[str, tuple[int, ...]] = field(default_factory=dict)
    handles: dict[str, tuple[int, ...]] = field(default_factory=dict)
    regexes: tuple[tuple[re.Pattern[str], int], ...] = ()


_RULE_FIELDS = (
    "pk",
    "name",
    "kind",
    "pattern",
    "effect",
    "topic_id",
    "priority_boost",
    "noise_reason",
    "position",
)
_compiled: dict[int, CompiledRules] = {}
_compiled_lock = threading.Lock()


def compile_regex(pattern: str) -> re.Pattern[str]:
    """A regex rule's pattern as matched: case-insensitive, on the original text."""
    return re.compile(pattern, re.IGNORECASE)


def compile_rule_rows(
    rows: list[tuple[Any, ...]], *, brand_id: int = 0, version: str = ""
) -> CompiledRules:
    """Compile rule rows given as ``(pk, name, kind, pattern, effect, topic_id,
    priority_boost, noise_reason, position)`` in position order (benchmarks, tests)."""
    rules: list[CompiledRule] = []
    words: dict[str, list[int]] = {}
    sequences: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    hashtags: dict[str, list[int]] = {}
    handles: dict[str, list[int]] = {}
    regexes: list[tuple[re.Pattern[str], int]] = []
    for pk, name, kind, pattern, effect, topic_id, boost, noise_reason, _position in rows:
        index = len(rules)
        rules.append(CompiledRule(pk, name, kind, effect, topic_id, boost, noise_reason))
        if kind in (RuleKind.KEYWORD, RuleKind.PHRASE):
            tokens = tuple(words_of(pattern))
            if len(tokens) == 1:
                words.setdefault(tokens[0], []).append(index)
            elif tokens:
                sequences.setdefault(tokens[0], []).append((tokens, index))
        elif kind == RuleKind.HASHTAG:
            tag = fold(pattern.strip().lstrip("#"))
            if tag:
                hashtags.setdefault(tag, []).append(index)
        elif kind == RuleKind.HANDLE:
            handle = pattern.strip().lstrip("@").lower()
            if handle:
                handles.setdefault(handle, []).append(index)
        elif kind == RuleKind.REGEX:
            try:
                regexes.append((compile_regex(pattern), index))
            except re.error:
                continue  # the admin refuses these; an old bad row must not stop routing
    return CompiledRules(
        brand_id=brand_id,
        version=version,
        rules=tuple(rules),
        words={k: tuple(v) for k, v in words.items()},
        sequences={k: tuple(v) for k, v in sequences.items()},
        hashtags={k: tuple(v) for k, v in hashtags.items()},
        handles={k: tuple(v) for k, v in handles.items()},
        regexes=tuple(regexes),
    )


def compile_rules(brand_id: int) -> CompiledRules:
    """The brand's active rules, compiled; recompiled only when a rule changed.

    One query per call (the rule rows, whose fingerprint is the version): call it once per
    batch, not once per question."""
    rows = list(
        RoutingRule.objects.filter(brand_id=brand_id, is_active=True)
        .order_by("position", "pk")
        .values_list(*_RULE_FIELDS)
    )
    version = hashlib.sha1(repr(rows).encode(), usedforsecurity=False).hexdigest()
    cached = _compiled.get(brand_id)
    if cached is not None and cached.version == version:
        return cached
    built = compile_rule_rows(rows, brand_id=brand_id, version=version)
    with _compiled_lock:
        _compiled[brand_id] = built
    return built


def match_rules(
    text: str,
    compiled: CompiledRules,
    mentioned_handles: frozenset[str] = frozenset(),
    *,
    folded: str | None = None,
) -> dict[int, tuple[int, int]]:
    """Rule index → the first span of ``text`` it matched (``folded``: ``fold(text)``, if
    the caller has it)."""
    if folded is None:
        folded = fold(text)
    found: dict[int, tuple[int, int]] = {}
    if compiled.words or compiled.sequences:
        tokens = [(m.group(), m.span()) for m in WORD.finditer(folded)]
        for position, (token, span) in enumerate(tokens):
            for index in compiled.words.get(token, ()):
                found.setdefault(index, span)
            for sequence, index in compiled.sequences.get(token, ()):
                end = position + len(sequence)
                if index not in found and tuple(t for t, _ in tokens[position:end]) == sequence:
                    found[index] = (span[0], tokens[end - 1][1][1])
    if compiled.hashtags:
        for match in HASHTAG.finditer(folded):
            for index in compiled.hashtags.get(match.group(1), ()):
                found.setdefault(index, match.span())
    if compiled.handles:
        for handle in mentioned_handles:
            for index in compiled.handles.get(handle.lower(), ()):
                at = folded.find("@" + handle.lower())
                found.setdefault(index, (at, at + len(handle) + 1) if at >= 0 else (0, 0))
    for pattern, index in compiled.regexes:
        regex_match = pattern.search(text)
        if regex_match is not None:
            found.setdefault(index, regex_match.span())
    return found
