"""The verdict on one tweet: language, topic, priority, and question or noise (with the
reasons supervisors see)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from routing.classify.language import detect_language
from routing.classify.rules import CompiledRule, CompiledRules, match_rules
from routing.classify.sentiment import sentiment_of
from routing.classify.words import (
    CHATTER_MARKERS,
    CHATTER_WORDS,
    CRITICAL_PATTERN,
    HASHTAG,
    LAUGHS,
    MENTION,
    NOT_PUNCTUATION,
    QUESTION_PHRASE_PATTERN,
    QUESTION_WORDS_EN,
    QUESTION_WORDS_FR,
    REACTIONS,
    SOLVED_PATTERN,
    SPAM_PHRASES,
    THANKS_PATTERN,
    URGENCY_MISFIRES,
    URGENCY_PHRASE_PATTERN,
    URGENCY_WORDS,
    URL,
    WILL_DO_PATTERN,
    WORD,
    fold,
)
from routing.models import Priority, RuleEffect

REACH_FOLLOWERS = 10_000
WAITED_MINUTES = 60
SPAM_HASHTAGS = 5


class RuleHit(NamedTuple):
    name: str
    kind: str
    effect: str
    span: tuple[int, int]
    matched: str


@dataclass(frozen=True)
class Classification:
    language: str
    topic_id: int | None
    priority: int
    is_noise: bool
    noise_reason: str
    hits: list[str]
    signals: list[str] = field(default_factory=list)
    rule_hits: list[RuleHit] = field(default_factory=list)
    # The customer reads unhappy (``routing.classify.sentiment``); score -1 … 1.
    negative: bool = False
    sentiment: float = 0.0


def classify(
    text: str,
    *,
    lang_hint: str = "",
    mentioned_handles: frozenset[str] = frozenset(),
    customer_reach: int | None = None,
    returning_unanswered: bool = False,
    replies_to_other: bool = False,
    waited_minutes: float = 0.0,
    fallback_language: str = "",
    compiled: CompiledRules,
) -> Classification:
    """Classify one tweet.

    ``mentioned_handles``: the brand's care handles the tweet mentions (lower case);
    ``customer_reach``: the author's followers; ``returning_unanswered``: the author has an
    earlier question still unanswered; ``replies_to_other``: the tweet answers an X user who is
    not one of the brand's accounts; ``waited_minutes``: time between the tweet and its
    arrival at the desk; ``fallback_language``: the language of a text too short to tell
    (its conversation's, else its care account's)."""
    language = detect_language(text, lang_hint, fallback_language)
    folded = fold(text)
    matched = match_rules(text, compiled, mentioned_handles, folded=folded)
    order = sorted(matched)
    rule_hits = [
        RuleHit(
            compiled.rules[i].name,
            compiled.rules[i].kind,
            compiled.rules[i].effect,
            matched[i],
            text[matched[i][0] : matched[i][1]],
        )
        for i in order
    ]
    hits = [hit.name for hit in rule_hits]
    topic_id: int | None = None
    boost = 0
    noise_rule: CompiledRule | None = None
    for index in order:
        rule = compiled.rules[index]
        if rule.effect == RuleEffect.TOPIC and topic_id is None and rule.topic_id is not None:
            topic_id = rule.topic_id
        elif rule.effect == RuleEffect.PRIORITY:
            boost += rule.priority_boost
        elif rule.effect == RuleEffect.NOISE and noise_rule is None:
            noise_rule = rule

    plain = MENTION.sub(" ", URL.sub(" ", text))
    words = set(WORD.findall(fold(plain)))
    signals: list[str] = []
    is_critical = bool(CRITICAL_PATTERN.search(fold(plain)))
    # Anger and "!!!" raise a question or a problem, not a fan's cheer or a passing remark.
    is_urgent = is_critical or (
        _asks_something(text, folded, words, topic_id)
        and (
            bool(words & (URGENCY_WORDS - URGENCY_MISFIRES))
            or bool(URGENCY_PHRASE_PATTERN.search(folded))
        )
    )
    if is_critical:
        signals.append("critical")
        boost += 2
    elif is_urgent:
        signals.append("urgency")
        boost += 1
    if customer_reach is not None and customer_reach >= REACH_FOLLOWERS:
        signals.append("reach")
        boost += 1
    if returning_unanswered:
        signals.append("returning-unanswered")
        boost += 1
    if waited_minutes >= WAITED_MINUTES:
        signals.append("waited")
        boost += 1
    priority = max(int(Priority.URGENT), min(int(Priority.LOW), int(Priority.NORMAL) - boost))

    noise_reason = ""
    if noise_rule is not None:
        noise_reason = noise_rule.noise_reason or f"rule: {noise_rule.name}"
    else:
        noise_reason = _builtin_noise(
            text, plain, folded, words, mentioned_handles, replies_to_other, topic_id, is_urgent
        )
    if noise_reason:
        signals.append("noise")
    mood = sentiment_of(text, language)
    if mood.negative:
        signals.append("negative")
    return Classification(
        language=language,
        topic_id=topic_id,
        priority=priority,
        is_noise=bool(noise_reason),
        noise_reason=noise_reason,
        hits=hits,
        signals=signals,
        rule_hits=rule_hits,
        negative=mood.negative,
        sentiment=mood.score,
    )


def _asks_something(text: str, folded: str, words: set[str], topic_id: int | None) -> bool:
    """A question mark, a question or problem word or phrase (EN/FR), or a topic rule hit."""
    return (
        "?" in text
        or bool(words & QUESTION_WORDS_EN)
        or bool(words & QUESTION_WORDS_FR)
        or bool(QUESTION_PHRASE_PATTERN.search(folded))
        or topic_id is not None
    )


def _builtin_noise(
    text: str,
    plain: str,
    folded: str,
    words: set[str],
    mentioned_handles: frozenset[str],
    replies_to_other: bool,
    topic_id: int | None,
    is_urgent: bool,
) -> str:
    spam = SPAM_PHRASES.search(text)
    if spam is not None:
        return f"spam or ad: {spam.group().strip()!r}"
    has_link = len(plain) != len(text) and bool(URL.search(text))
    if has_link and not NOT_PUNCTUATION.search(plain):
        return "spam or ad: links only"
    if not has_link and not NOT_PUNCTUATION.search(plain):
        return "nothing but mentions"
    # A reply in someone else's thread that asks a question may be asking the brand under a
    # handle the desk does not know ("@PrimeVideoIN Why it's not showing on my app ?"); one
    # that only agrees ("same here, my order is late") is the other customer's conversation.
    if replies_to_other and not mentioned_handles and "?" not in text and not is_urgent:
        return "a reply to another customer"
    is_question = _asks_something(text, folded, words, topic_id) or is_urgent
    # Hashtags make an ad only when nothing is asked or reported: a complaint may carry four.
    if len(HASHTAG.findall(text)) >= SPAM_HASHTAGS and not is_question:
        return "spam or ad: many hashtags"
    if "?" not in text and not is_urgent and not has_link:
        lowered = folded.lower()
        if SOLVED_PATTERN.search(lowered):
            return "a closing: the customer says it is solved"
        if THANKS_PATTERN.search(lowered) and WILL_DO_PATTERN.search(lowered):
            return "a closing: thanks, and what the customer will do"
        if set(text) & LAUGHS and len(words) <= 3:
            return "chatter: a reaction"
    if is_question or has_link:  # a link may be the screenshot that shows the problem
        return ""
    if not words and plain.strip() and not set(plain) - REACTIONS:
        return "chatter: reactions only"
    if words and (words <= CHATTER_WORDS or CHATTER_MARKERS.search(folded)):
        return "chatter: no question or problem"
    return ""
