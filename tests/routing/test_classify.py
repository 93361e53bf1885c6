"""Classification: language, rules of every kind, priority factors, noise and its reasons."""

from __future__ import annotations

from typing import Any

import pytest

from routing.classify import Classification, classify, compile_rules
from routing.classify.language import detect_language
from routing.classify.rules import CompiledRules, compile_rule_rows
from routing.models import RoutingRule, RuleEffect, RuleKind, Topic

NO_RULES = CompiledRules(brand_id=0, version="")
CARE = frozenset({"northwindhelp"})


def rules(*specs: tuple[str, str, str, int | None]) -> CompiledRules:
    """Rules as (kind, pattern, effect, topic id or boost), in position order."""
    rows = []
    for n, (kind, pattern, effect, value) in enumerate(specs, start=1):
        topic = value if effect == RuleEffect.TOPIC else None
        boost = value if effect == RuleEffect.PRIORITY and value is not None else 1
        rows.append((n, f"rule {n}", kind, pattern, effect, topic, boost, "", n))
    return compile_rule_rows(rows, brand_id=1, version="test")


def run(text: str, compiled: CompiledRules = NO_RULES, **kwargs: Any) -> Classification:
    kwargs.setdefault("mentioned_handles", CARE if "@northwindhelp" in text.lower() else None)
    if kwargs["mentioned_handles"] is None:
        kwargs["mentioned_handles"] = frozenset()
    return classify(text, compiled=compiled, **kwargs)


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hint", "expected"), [("en", "en"), ("fr", "fr"), ("pt", "pt"), ("en-gb", "en")]
)
def test_x_lang_is_taken_as_given(hint: str, expected: str) -> None:
    assert run("@NorthwindHelp ma commande n'est pas arrivée", lang_hint=hint).language == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@NorthwindHelp my order has not arrived yet, can you check the tracking?", "en"),
        ("@NorthwindHelp ma commande n'est toujours pas arrivée, vous pouvez vérifier ?", "fr"),
        ("@NorthwindHelp mi pedido no ha llegado todavía, ¿pueden ayudarme?", "es"),
        ("@NorthwindHelp meine Bestellung ist immer noch nicht angekommen", "de"),
    ],
)
@pytest.mark.parametrize("hint", ["", "und", "qme", "zxx", "qct", "qst", "0", "<b>", " é "])
def test_without_a_usable_lang_the_detector_decides(text: str, expected: str, hint: str) -> None:
    assert run(text, lang_hint=hint).language == expected


def test_a_text_without_words_has_no_language() -> None:
    assert detect_language("@NorthwindHelp 🔥🔥 https://t.co/abc") == ""


def test_an_underscored_lang_gives_its_primary_language_as_eligibility_reads_it() -> None:
    assert run("@NorthwindHelp where is my order?", lang_hint="en_GB").language == "en"


def test_a_lone_surrogate_does_not_stop_the_detector() -> None:
    assert detect_language("\ud800 where is my order, it has not arrived yet", "und") == "en"


# --- rules ------------------------------------------------------------------------------------


def test_a_keyword_matches_a_whole_word_whatever_its_case_and_accents() -> None:
    compiled = rules((RuleKind.KEYWORD, "remboursement", RuleEffect.TOPIC, 7))

    assert run("@NorthwindHelp REMBOURSEMENT svp", compiled).topic_id == 7
    assert run("@NorthwindHelp le rembôursement ?", compiled).hits == ["rule 1"]
    assert run("@NorthwindHelp remboursements ?", compiled).topic_id is None


def test_a_phrase_matches_its_words_in_order() -> None:
    compiled = rules((RuleKind.PHRASE, "gift card", RuleEffect.TOPIC, 3))

    assert run("@NorthwindHelp my Gift  Card is blocked", compiled).topic_id == 3
    assert run("@NorthwindHelp a card as a gift?", compiled).topic_id is None


def test_a_hashtag_rule_matches_the_hashtag_only() -> None:
    compiled = rules((RuleKind.HASHTAG, "#outage", RuleEffect.TOPIC, 4))

    assert run("@NorthwindHelp site down #Outage", compiled).topic_id == 4
    assert run("@NorthwindHelp is there an outage?", compiled).topic_id is None


def test_a_regex_rule_matches_the_original_text() -> None:
    compiled = rules((RuleKind.REGEX, r"order\s*#?\d{5}", RuleEffect.TOPIC, 5))

    result = run("@NorthwindHelp where is ORDER #48213?", compiled)

    assert result.topic_id == 5
    assert result.rule_hits[0].matched == "ORDER #48213"


def test_a_handle_rule_matches_the_care_handle_mentioned() -> None:
    compiled = rules((RuleKind.HANDLE, "@NorthwindAide", RuleEffect.TOPIC, 9))

    french = run(
        "@NorthwindAide ma commande ?", compiled, mentioned_handles=frozenset({"northwindaide"})
    )
    english = run("@NorthwindHelp my order?", compiled)

    assert (french.topic_id, french.hits) == (9, ["rule 1"])
    assert french.rule_hits[0].matched == "@NorthwindAide"
    assert (english.topic_id, english.hits) == (None, [])


def test_the_first_topic_rule_by_position_wins_and_every_hit_is_listed() -> None:
    compiled = rules(
        (RuleKind.KEYWORD, "tv", RuleEffect.TOPIC, 1),
        (RuleKind.KEYWORD, "delivery", RuleEffect.TOPIC, 2),
        (RuleKind.KEYWORD, "broken", RuleEffect.PRIORITY, 1),
    )

    result = run("@NorthwindHelp delivery of my tv: it arrived broken", compiled)

    assert (result.topic_id, result.hits) == (1, ["rule 1", "rule 2", "rule 3"])
    assert [hit.matched for hit in result.rule_hits] == ["tv", "delivery", "broken"]
    assert [hit.span for hit in result.rule_hits] == [(30, 32), (15, 23), (45, 51)]


def test_a_noise_rule_dismisses_with_its_reason() -> None:
    rows = [
        (1, "job ads", RuleKind.PHRASE, "we are hiring", RuleEffect.NOISE, None, 1, "job ad", 1)
    ]
    compiled = compile_rule_rows(rows)

    result = run("@NorthwindHelp we are hiring in Lyon, how to apply?", compiled)

    assert (result.is_noise, result.noise_reason, result.hits) == (True, "job ad", ["job ads"])


def test_a_regex_that_does_not_compile_is_skipped() -> None:
    compiled = rules((RuleKind.REGEX, "order(", RuleEffect.TOPIC, 1))

    assert run("@NorthwindHelp order( ?", compiled).hits == []


@pytest.mark.django_db
def test_compiled_rules_are_cached_until_a_rule_changes(brand: Any) -> None:
    topic = Topic.objects.create(brand=brand, slug="tv", name="TV")
    rule = RoutingRule.objects.create(
        brand=brand, name="tv", kind=RuleKind.KEYWORD, pattern="tv", effect="topic", topic=topic
    )

    first = compile_rules(brand.pk)
    assert compile_rules(brand.pk) is first

    rule.pattern = "television"
    rule.save()
    second = compile_rules(brand.pk)

    assert second is not first
    assert run("@NorthwindHelp my television?", second).topic_id == topic.pk
    assert run("@NorthwindHelp my tv?", second).topic_id is None
    rule.is_active = False
    rule.save()
    assert compile_rules(brand.pk).rules == ()


# --- priority ---------------------------------------------------------------------------------

QUESTION = "@NorthwindHelp my order has not arrived, can you help?"


def test_a_plain_question_has_normal_priority() -> None:
    assert run(QUESTION).priority == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"customer_reach": 10_000},
        {"returning_unanswered": True},
        {"waited_minutes": 60},
    ],
)
def test_each_factor_raises_the_priority_by_one(kwargs: dict[str, Any]) -> None:
    assert run(QUESTION, **kwargs).priority == 1


def test_below_the_thresholds_nothing_is_raised() -> None:
    assert run(QUESTION, customer_reach=9_999, waited_minutes=59).priority == 2


@pytest.mark.parametrize(
    "text",
    [
        "@NorthwindHelp this is UNACCEPTABLE, where is my order",
        "@NorthwindHelp c'est inadmissible, toujours pas de colis",
        "@NorthwindHelp urgent: ma commande ?",
        "@NorthwindHelp where is my order!!!",
    ],
)
def test_urgency_or_anger_in_english_or_french_raises_by_one(text: str) -> None:
    result = run(text)
    assert (result.priority, "urgency" in result.signals) == (1, True)


def test_a_priority_rule_raises_by_its_boost() -> None:
    compiled = rules((RuleKind.KEYWORD, "fire", RuleEffect.PRIORITY, 2))

    assert run("@NorthwindHelp my charger caught fire", compiled).priority == 0


def test_priority_is_clamped_to_urgent() -> None:
    compiled = rules((RuleKind.KEYWORD, "fire", RuleEffect.PRIORITY, 5))

    result = run(
        "@NorthwindHelp URGENT my charger caught fire",
        compiled,
        customer_reach=50_000,
        returning_unanswered=True,
    )

    assert result.priority == 0


# --- question or noise ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        QUESTION,
        "@NorthwindHelp question number 1",
        "@NorthwindHelp still broken",
        "@NorthwindHelp Bonjour, ma commande n°48213 devait arriver hier. Vous pouvez vérifier ?",
        "@NorthwindHelp mon compte est bloqué depuis ce matin",
        "@NorthwindHelp la télé ne marche pas",
        "@NorthwindHelp https://t.co/screenshot this again",
        "@NorthwindHelp {% debug %}",
    ],
)
def test_real_questions_are_not_noise(text: str) -> None:
    result = run(text)
    assert (result.is_noise, result.noise_reason) == (False, "")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@NorthwindHelp good morning everyone ☀️", "chatter: no question or problem"),
        ("lol @NorthwindHelp at it again", "chatter: no question or problem"),
        ("@NorthwindHelp merci, bonne journée !", "chatter: no question or problem"),
        ("@NorthwindHelp 🔥🔥🔥", "chatter: reactions only"),
        ("@NorthwindHelp #a #b #c #d #e", "spam or ad: many hashtags"),
        ("@NorthwindHelp follow back pls", "spam or ad: 'follow back'"),
        ("Win a FREE iPhone 💸 follow + RT @NorthwindHelp", "spam or ad: 'Win a FREE'"),
        ("🚀 Crypto signals @NorthwindHelp", "spam or ad: 'Crypto'"),
        ("GIVEAWAY time @NorthwindHelp", "spam or ad: 'GIVEAWAY'"),
        ("@NorthwindHelp https://t.co/abc https://t.co/def", "spam or ad: links only"),
    ],
)
def test_noise_is_recognised_with_a_reason(text: str, reason: str) -> None:
    result = run(text)
    assert (result.is_noise, result.noise_reason) == (True, reason)


def test_a_reply_to_another_customer_is_noise_unless_it_mentions_a_care_handle() -> None:
    aside = run("@someone my order never arrived either", replies_to_other=True)
    addressed = run("@someone @NorthwindHelp my order never arrived either", replies_to_other=True)

    assert (aside.is_noise, aside.noise_reason) == (True, "a reply to another customer")
    assert addressed.is_noise is False


def test_a_topic_rule_hit_makes_a_terse_tweet_a_question() -> None:
    compiled = rules((RuleKind.HASHTAG, "panne", RuleEffect.TOPIC, 1))

    assert run("@NorthwindHelp #panne", compiled).is_noise is False
    assert run("@NorthwindHelp #panne").is_noise is False  # no problem word, but not chatter
