"""Is the customer unhappy? Negative sentiment in English and French, for monitoring's share
of negative questions and its spike alerts.

English is scored by VADER (``vaderSentiment``, a maintained lexicon and rule set built for
social-media text). Out of the box it reads most care tweets as positive: "please", "help",
"thanks" and "hello" are positive words to it, and a customer who writes "please help, this is
very frustrating" asks politely *and* is unhappy. So those courtesy words are removed before
scoring (what is left carries the mood), and the cues VADER does not weigh are added from our
own lexicon, in both languages:

* anger and scorn words (the classifier's urgency words: "unacceptable", "ridiculous",
  "inadmissible", "arnaque" ...) and the words below (``NEGATIVE_WORDS_*``: "frustrating",
  "annoying", "déçu", "blague", "marre" ...);
* swearing ("wtf", "fucking", "merde", "putain" ...);
* unhappy emoji and emoticons (😡 😤 😩 😞 🙄 ... ``:(``);
* shouting: three or more words in capitals, or ``!!``/``??``/``?!`` runs.

French has no VADER of its own here, so a French tweet is negative when it carries one of
those cues. Each cue counts for ``CUE_WEIGHT`` on VADER's scale (-1 … 1); a tweet is negative
when its score is at most ``NEGATIVE_AT``. ``bench/sentiment.py`` measures both languages on
the hand-labelled questions in ``tests/data/sentiment_labelled.jsonl``; docs/benchmarks.md
has the figures.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, NamedTuple

from routing.classify.words import MENTION, URGENCY_WORDS, URL, WORD, fold, vocabulary

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

NEGATIVE_AT = -0.3
CUE_WEIGHT = 0.5

# Politeness that VADER counts as positive, and that says nothing about the customer's mood.
COURTESY = re.compile(
    r"\b(?:please|pls|plz|help|helps|helping|thanks?|thank you|thx|ty|hello|hi|hey|dear|"
    r"kindly|appreciated?|sincerely|regards|good (?:morning|afternoon|evening))\b",
    re.IGNORECASE,
)
# What a care question is about, which VADER reads as mood: "I lost my phone, error 1006" is a
# report, not a complaint. The report's tone is left to the other words.
PROBLEM_WORDS = re.compile(
    r"\b(?:problems?|issues?|errors?|lost|lose|losing|fail(?:s|ed|ing|ure)?|stuck|"
    r"crash(?:es|ed|ing)?|hacked|disabled|bugs?|lag|cancell?ed|cancel|missing|locked|broken?|"
    r"bad|trouble|no|not|don'?t|doesn'?t|didn'?t|can'?t|cannot|won'?t)\b"
    # and numbers: order numbers and amounts carry no mood, but VADER's slang reads a few
    # ("143" is "I love you")
    r"|\b\d+\b",
    re.IGNORECASE,
)

NEGATIVE_WORDS_EN = vocabulary(
    """frustrating frustrated frustration annoying annoyed annoys irritating irritated
    disappointed disappointing disappointment terrible horrible awful
    worst crap crappy garbage rubbish joke ridiculous absurd ludicrous nonsense
    pathetic shameful shame disgrace disgusting disgusted unacceptable outrageous outraged
    scam scammers crooks thieves rip ripoff robbery useless incompetent hopeless clueless
    greedy gouging gougers profiteering nightmare daymare mess clusterfuck sucks sucked
    hate hated hating angry furious livid upset"""
)
NEGATIVE_WORDS_FR = vocabulary(
    """decu decue decus decues decevant decevante decevoir decoit deception blague
    honte honteux honteuse scandale scandaleux scandaleuse inadmissible inacceptable
    lamentable pitoyable minable nul nuls nulle nulles marre ras bol enerve enervee
    enervant agace agacee agacant furieux furieuse colere degoute degoutee degoutant
    arnaque arnaques arnaqueurs escroquerie escrocs voleurs incompetent incompetents
    incompetence cauchemar catastrophe catastrophique inadmissible foutage foutent fout
    galere galerer saoule soule marre insupportable n'importe"""
)
SWEARING = vocabulary(
    """fuck fucking fucked fucks fuckin fuk fck wtf ffs shit shitty bullshit damn dammit
    goddamn crap bs stfu pieceoshit scum
    merde putain bordel chier chie fait-chier emmerde emmerdes connards connard conneries
    foutage purée pff pfff"""
)
# VADER reads emoji through their names; these are the unhappy ones, for French too.
NEGATIVE_EMOJI = frozenset("😡😠🤬😤😩😫😞😔😟😕🙁☹😢😭😒🙄😣😖🤦👎💩😪😓")
NEGATIVE_EMOTICONS = re.compile(r"(?<!\w)(?::-?\(+|:'\(|>:\(|D:)(?!\w)")
SHOUTING_RUN = re.compile(r"[!?]*(?:!!|\?\?|\?!|!\?)[!?]*")
CAPITALS = re.compile(r"\b[A-Z]{3,}\b")
SHOUTED_WORDS = 3  # and at least a quarter of the words: not a list of product acronyms
SHOUTED_SHARE = 0.25
# Phrases whose words are neutral one by one.
NEGATIVE_PHRASES = re.compile(
    r"(?<!\w)(?:merci pour rien|c'est une blague|n'importe quoi|ras le bol|j'en ai marre"
    r"|foutez? de|se fout|no thanks|not right|so done|fed up|sick of|tired of|rip off"
    r"|never again|do better|still nothing|toujours rien"
    r"|what the hell)(?!\w)"
)
_NEGATIVE_WORDS = (
    NEGATIVE_WORDS_EN
    | NEGATIVE_WORDS_FR
    | SWEARING
    | (
        URGENCY_WORDS
        - {
            # urgency words that are about time, not mood
            "urgent",
            "urgently",
            "asap",
            "immediately",
            "emergency",
            "urgence",
            "immediatement",
            "lawyer",
            "avocat",
            "plainte",
        }
    )
)

_analyzer: SentimentIntensityAnalyzer | None = None
_analyzer_lock = threading.Lock()


class Sentiment(NamedTuple):
    negative: bool
    score: float  # -1 (very negative) … 1 (very positive)
    cues: tuple[str, ...]


def _get_analyzer() -> SentimentIntensityAnalyzer:
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def vader_compound(text: str) -> float:
    """VADER's compound score of ``text`` as VADER reads it (-1 ... 1)."""
    return float(_get_analyzer().polarity_scores(text)["compound"])


def negative_cues(text: str) -> tuple[str, ...]:
    """The unhappy cues the text carries (words, phrases, emoji, shouting), in either
    language; what they matched, folded."""
    plain = MENTION.sub(" ", URL.sub(" ", text))
    folded = fold(plain)
    cues = [word for word in WORD.findall(folded) if word in _NEGATIVE_WORDS]
    cues += [match.group() for match in NEGATIVE_PHRASES.finditer(folded)]
    cues += [char for char in plain if char in NEGATIVE_EMOJI]
    cues += [match.group() for match in NEGATIVE_EMOTICONS.finditer(plain)]
    cues += [match.group() for match in SHOUTING_RUN.finditer(plain)]
    shouted = CAPITALS.findall(plain)
    if len(shouted) >= max(SHOUTED_WORDS, SHOUTED_SHARE * len(WORD.findall(plain))):
        cues.append(" ".join(shouted[:SHOUTED_WORDS]))
    return tuple(dict.fromkeys(cues))


def sentiment_of(text: str, language: str) -> Sentiment:
    """How unhappy the tweet reads: VADER's compound score (English, and text of unknown
    language) lowered by ``CUE_WEIGHT`` for each distinct cue of :func:`negative_cues`,
    clamped to -1 … 1; negative at ``NEGATIVE_AT`` or below."""
    cues = negative_cues(text)
    base = 0.0
    if language in ("en", ""):
        plain = PROBLEM_WORDS.sub(" ", COURTESY.sub(" ", MENTION.sub(" ", URL.sub(" ", text))))
        base = vader_compound(plain)
    score = max(-1.0, min(1.0, base - CUE_WEIGHT * len(cues)))
    return Sentiment(negative=score <= NEGATIVE_AT, score=round(score, 3), cues=cues)
