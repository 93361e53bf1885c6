"""A storm: many unhappy customers mention one care account about the same trouble at once,
as when a payment system double-charges or an app update breaks. For the demo and the spike
alert's tests (``POST /_sandbox/storm``); the texts are written for the sandbox, in English
and French, angry in the ways customers are (words, capitals, "!!", emoji)."""

from __future__ import annotations

from .records import Tweet
from .world import World

STORM_EN = (
    "{handle} you charged my card TWICE for the same order. Ridiculous!!",
    "{handle} double charged again?! This is unacceptable, refund me now",
    "{handle} your app took my payment twice and nobody answers. Worst service ever 😡",
    "{handle} charged twice, order still not confirmed. What a joke",
    "{handle} seriously?? two payments taken for one order, I'm furious",
    "{handle} I was billed twice this morning, absolutely disgusting customer service",
)
STORM_FR = (
    "{handle} vous m'avez débité deux fois la même commande, c'est inadmissible !!",
    "{handle} paiement prélevé deux fois et aucune réponse, c'est une blague ? 😡",
    "{handle} double prélèvement sur ma carte, j'en ai marre de votre service",
    "{handle} débitée deux fois pour une seule commande. Scandaleux.",
)
LANGUAGES = ("en", "fr", "mixed")


def storm_texts(language: str) -> tuple[tuple[str, str], ...]:
    """The storm's (text, lang) pairs for ``language`` (``en``, ``fr`` or ``mixed``)."""
    english = tuple((text, "en") for text in STORM_EN)
    french = tuple((text, "fr") for text in STORM_FR)
    return {"en": english, "fr": french, "mixed": english + french}[language]


def raise_storm(world: World, handle: str, count: int, language: str, start: int) -> list[Tweet]:
    """``count`` angry mentions of ``@handle``, each from its own customer
    (``storm<n>``, ``n`` from ``start``), the texts taken in turn."""
    texts = storm_texts(language)
    tweets = []
    with world.lock:
        for n in range(start, start + count):
            author = world.add_user(f"storm{n}", origin="auto")
            text, lang = texts[n % len(texts)]
            tweets.append(
                world.inject(author, f"{text.format(handle='@' + handle)} #{n}", lang=lang)
            )
    return tweets
