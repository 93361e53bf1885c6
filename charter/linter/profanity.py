"""The profanity lists: English and French, from a maintained list, for the ``profanity`` rule.

The words are LDNOOBW's ("List of Dirty, Naughty, Obscene, and Otherwise Bad Words", CC BY
4.0), shipped unchanged in ``wordlists/`` with their licence (``wordlists/LICENSE-ldnoobw``
says where they come from). To update them, replace the two files with the upstream ones.

Both lists apply to every draft, whatever its language: volunteers and customers mix
languages, and the ``language`` the linter is given only chooses the messages' language. So
the entries below are left out because they are ordinary words, in English or in French, in
a customer-service reply; a brand can leave out more (``LintConfig.profanity_allowed``) and
add its own words to ``blocked_terms``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from charter.linter.text import fold

WORDLISTS = Path(__file__).resolve().parent / "wordlists"
LANGUAGES = ("en", "fr")

NOT_PROFANE_HERE: frozenset[str] = frozenset(
    {
        # English entries that are ordinary words for a retailer's care team
        "butt",  # butt joint, butt hinge
        "cialis",  # a pharmacy's product
        "domination",
        "escort",  # Ford Escort
        "fecal",  # medical
        "genitals",  # medical
        "hard core",
        "hardcore",  # hardcore gamers
        "how to kill",  # how to kill an app
        "how to murder",
        "kinky",  # a kinky cable
        "lolita",  # a fashion style
        "nipple",  # a baby bottle's nipple
        "nipples",
        "nude",  # a colour
        "nudity",
        "octopussy",  # a film's title
        "panties",  # lingerie
        "panty",
        "penis",  # medical
        "playboy",  # a brand
        "poof",  # "poof, it's gone"
        "rape",  # the accent folding reads the French "râpe" (grater) as "rape"
        "rectum",  # medical
        "santorum",  # a surname
        "scat",  # jazz
        "semen",  # medical
        "sexual",  # harassment policies, sexual health products
        "sexuality",
        "sexually",
        "snatch",  # snatch a deal
        "spunk",  # courage, in British English
        "suck",  # a vacuum cleaner that does not suck up dirt
        "sucks",
        "swinger",  # golf
        "tied up",  # our lines are tied up
        "twinkie",  # a snack
        "vagina",  # medical
        "viagra",  # a pharmacy's product
        "vulva",  # medical
        "xx",  # XX-large
        # French entries that are ordinary words
        "bander",  # to bandage
        "bite",  # "a bite" in English
        "bourre",  # "bourré de fonctionnalités": packed with features
        "bourree",
        "caca",  # a child's word
        "folle",  # mad (a "folle journée")
        "gerbe",  # a wreath, a spray of flowers
        "jouir",  # "jouir de la garantie": to enjoy the warranty
        "meuf",  # slang for a woman, not an insult
        "pedale",  # a bicycle's pedal
        "peter",  # a name; "péter": to burst
        "pipi",  # a child's word
        "ramoner",  # to sweep a chimney
        "tanche",  # a fish
        "tapette",  # a mousetrap, a fly swatter
    }
)


@cache
def words(language: str) -> tuple[str, ...]:
    """The shipped list for ``language`` (``en`` or ``fr``), less ``NOT_PROFANE_HERE``;
    compared folded (case and accents off), as the rules match."""
    path = WORDLISTS / f"profanity-{language}.txt"
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.strip()
        if entry and not entry.startswith("#") and _key(entry) not in NOT_PROFANE_HERE:
            kept.append(entry)
    return tuple(kept)


def all_words() -> tuple[str, ...]:
    """Every language's list, in one tuple."""
    return tuple(word for language in LANGUAGES for word in words(language))


def _key(entry: str) -> str:
    return " ".join(fold(entry).casefold().split())
