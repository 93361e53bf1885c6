"""Properties of routing's classification (``routing.classify``) over any tweet text, any
``lang`` X (or a forger) sends and any rules a brand wrote: it never raises, the priority
stays within 0..3, the language is a language code or empty, a question no language could
be told for is open to everyone, and the same question gets the same verdict."""

from __future__ import annotations

import math
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from routing.classify import classify
from routing.classify.language import language_tag
from routing.classify.rules import CompiledRules, compile_rule_rows
from routing.eligibility import primary_language
from routing.models import RuleEffect, RuleKind
from tests.properties.strategies import AWKWARD_PIECES, awkward_text

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")

# X's lang: BCP 47 tags and its own codes for text without a language.
X_LANGS = ["en", "fr", "es", "de", "pt-BR", "zh-Hant", "und", "qme", "zxx", "qam", "qct"]
X_LANGS += ["qht", "qst", "in", "iw", "", "EN", "en_GB"]

TWEET_WORDS = [
    "@NorthwindHelp",
    "@someone",
    "where is my order",
    "refund",
    "remboursement",
    "ma commande",
    "urgent",
    "lol",
    "thanks!",
    "giveaway",
    "follow back",
    "#deal",
    "#a #b #c #d #e",
    "https://t.co/abc",
    "🔥🔥",
    "?",
    "panne",
    " ",
]

tweets = (
    st.lists(
        st.one_of(st.sampled_from(TWEET_WORDS + AWKWARD_PIECES), st.text(max_size=15)), max_size=25
    ).map("".join)
    | awkward_text
)

rule_rows = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**6),
        st.text(min_size=1, max_size=20),
        st.sampled_from(list(RuleKind.values)),
        st.sampled_from(["refund", "ma commande", "#deal", "@NorthwindHelp", "NorthwindHelp"])
        | st.sampled_from([r"(", r"[a-", r"\d{3,}", r"(a+)+$", r"", "é"])
        | st.text(max_size=12),
        st.sampled_from(list(RuleEffect.values)),
        st.one_of(st.none(), st.integers(min_value=1, max_value=50)),
        st.integers(min_value=0, max_value=32767),  # a PositiveSmallIntegerField
        st.text(max_size=30),
        st.integers(min_value=0, max_value=100),
    ),
    max_size=8,
)


@st.composite
def questions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "text": draw(tweets),
        "lang_hint": draw(st.sampled_from(X_LANGS) | st.text(max_size=10)),
        "mentioned_handles": draw(
            st.frozensets(st.sampled_from(["northwindhelp", "", "é", "x" * 15]), max_size=2)
        ),
        "customer_reach": draw(st.one_of(st.none(), st.integers(min_value=-1, max_value=10**12))),
        "returning_unanswered": draw(st.booleans()),
        "replies_to_other": draw(st.booleans()),
        "waited_minutes": draw(st.floats(allow_nan=True, allow_infinity=True)),
    }


def _compiled(rows: list[Any]) -> CompiledRules:
    return compile_rule_rows(rows, brand_id=1, version="test")


@given(questions(), rule_rows)
def test_classification_never_raises_and_stays_in_its_ranges(
    question: dict[str, Any], rows: list[Any]
) -> None:
    result = classify(**question, compiled=_compiled(rows))

    assert 0 <= result.priority <= 3
    assert result.language == "" or LANGUAGE_CODE.fullmatch(result.language), result.language
    assert result.is_noise == bool(result.noise_reason)
    text = question["text"]
    for hit in result.rule_hits:
        assert 0 <= hit.span[0] <= hit.span[1] <= len(text), hit
    topic_ids = {row[5] for row in rows if row[4] == RuleEffect.TOPIC}
    assert result.topic_id is None or result.topic_id in topic_ids


@given(questions(), rule_rows)
def test_a_question_whose_language_is_unknown_is_open_to_every_language(
    question: dict[str, Any], rows: list[Any]
) -> None:
    # Routing keeps X's lang when it could not tell one and X's lang is a language tag
    # (routing.actions._apply), and eligibility reads the question's language from it.
    result = classify(**question, compiled=_compiled(rows))

    kept = result.language or language_tag(question["lang_hint"])

    if not result.language:
        assert primary_language(kept) == "", kept
    else:
        assert primary_language(kept) == result.language


@given(questions(), rule_rows)
def test_the_same_question_gets_the_same_verdict(question: dict[str, Any], rows: list[Any]) -> None:
    first = classify(**question, compiled=_compiled(rows))

    classify(**{**question, "text": question["text"] + " autre"}, compiled=_compiled(rows))
    again = classify(**question, compiled=_compiled(rows))

    assert again == first or _both_nan(question["waited_minutes"])


def _both_nan(value: float) -> bool:
    return math.isnan(value)
