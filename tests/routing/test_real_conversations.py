"""Issue 15, items 2 and 3: urgency and noise on the kinds of real conversations that fooled
them (the texts are the issue's and the corpus's)."""

from __future__ import annotations

from typing import Any

import pytest

from routing.actions import names_the_brand
from routing.classify import Classification, classify
from routing.classify.rules import compile_rule_rows

NO_RULES = compile_rule_rows([])
CARE = frozenset({"northwindhelp"})


def run(text: str, **kwargs: Any) -> Classification:
    kwargs.setdefault("mentioned_handles", CARE if "@NorthwindHelp" in text else frozenset())
    return classify(text, lang_hint="en", compiled=NO_RULES, **kwargs)


@pytest.mark.parametrize(
    "text",
    [
        "@NorthwindHelp fraudulent company, you charged me 7 times",
        "@NorthwindHelp my account has been hacked",
        "@NorthwindHelp laptop overheating, shuts down",
        "@NorthwindHelp why is someone from russia logging into my account?? link",
        "@NorthwindHelp I cancelled the trial and I still got charged",
        "@NorthwindHelp just been in a meeting that was hijacked, please help",
        "@NorthwindHelp the offer ends tomorrow and I still don't have it",
        "@NorthwindHelp mon compte a été piraté",
        # issue 15's later corpus parts: the cues they showed missing
        "@NorthwindHelp it says my password was changed 43 days ago, BUT I DIDN'T",
        "@NorthwindHelp my account was recently attempted to signing in, what do I do",
        "@NorthwindHelp my password got changed and recovery doesn't recognise my device",
        "@NorthwindHelp why are you renewing products without my approval and charging me",
        "@NorthwindHelp it renewed although I only signed up for the FREE plan",
        "@NorthwindHelp I paid for the game, it came out twice in my bank, no code yet",
        "@NorthwindHelp all travel has been banned, if I don't fly back now I'm stranded",
        "@NorthwindHelp anyone else experience total service loss??? #outage",
        "@NorthwindHelp will you land at MDW or a nearby airport this evening?",
    ],
)
def test_what_cannot_wait_is_urgent_whatever_the_tone(text: str) -> None:
    result = run(text)
    assert (result.priority, "critical" in result.signals) == (0, True)


@pytest.mark.parametrize(
    "text",
    [
        "@NorthwindHelp it was a passing joke, never mind",
        "@NorthwindHelp rolling back immediately solved it, thanks",
        "@NorthwindHelp loved the show tonight!!! best band ever",
        "@NorthwindHelp my favourite pirate movie is on your app",
        "@NorthwindHelp I changed my plan last week, how do I see the new price?",
        "@NorthwindHelp the free plan renewed my storage quota, great",
        "@NorthwindHelp I tried logging in on the app and it's slow",
        "@NorthwindHelp I tried to log in but it says wrong password",
    ],
)
def test_words_that_only_sound_urgent_leave_the_priority_normal(text: str) -> None:
    assert run(text).priority == 2


def test_anger_still_raises_a_real_problem_by_one() -> None:
    assert run("@NorthwindHelp this is UNACCEPTABLE, where is my order").priority == 1
    assert run("@NorthwindHelp where is my order!!!").priority == 1


@pytest.mark.parametrize(
    "text",
    [
        "@NorthwindHelp this application sucks #fail #windows #pc #angry it shuts down my PC",
        "@NorthwindHelp my order is late #late #order #help #fail #sad",
    ],
)
def test_a_complaint_with_many_hashtags_is_not_an_ad(text: str) -> None:
    assert run(text).is_noise is False


def test_hashtags_with_nothing_asked_are_still_an_ad() -> None:
    result = run("@NorthwindHelp #deal #sale #today #shop #new")
    assert (result.is_noise, result.noise_reason) == (True, "spam or ad: many hashtags")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("@NorthwindHelp 😂 painful...", "chatter: a reaction"),
        (
            "@NorthwindHelp Thank you I will call this afternoon",
            "a closing: thanks, and what the customer will do",
        ),
        (
            "@NorthwindHelp It's sorted now, reinstalling didn't work so I reset it",
            "a closing: the customer says it is solved",
        ),
        ("@NorthwindHelp", "nothing but mentions"),
    ],
)
def test_closings_and_reactions_are_dismissed_with_a_reason(text: str, reason: str) -> None:
    result = run(text)
    assert (result.is_noise, result.noise_reason) == (True, reason)


@pytest.mark.parametrize(
    "text",
    [
        "@NorthwindHelp it's still not fixed",
        "@NorthwindHelp thanks, I will call, but what number?",
        "@NorthwindHelp 😂 my account got hacked",
    ],
)
def test_what_only_looks_like_a_closing_stays_queued(text: str) -> None:
    assert run(text).is_noise is False


def test_a_reply_to_another_user_that_names_the_brand_is_a_customer() -> None:
    # The customer writes in another user's thread, to the brand's main handle.
    text = "@someone @Northwind please cancel my subscription, I was charged again"
    assert names_the_brand(text, CARE) is True
    assert run(text, replies_to_other=False).is_noise is False
    assert names_the_brand("@someone same here, my order is late", CARE) is False
