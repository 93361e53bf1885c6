"""A question's language: X's ``lang`` when it names one, else lingua's guess over the
configured languages."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from django.conf import settings

from routing.classify.words import MENTION, URL, WORD

if TYPE_CHECKING:
    from lingua import LanguageDetector

# Below this many words the detector's guess is noise ("Ps4" reads as German, "on PC" as
# Spanish): the question takes the language around it instead.
MIN_DETECT_WORDS = 5

# X's codes for a tweet without a language: undetermined, media, no linguistic content,
# mentions, cashtags, hashtags only, and text too short to tell.
UNDETERMINED_LANGS = frozenset({"", "und", "qme", "zxx", "qam", "qct", "qht", "qst"})
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_detector: LanguageDetector | None = None
_detector_lock = threading.Lock()


def detect_languages() -> tuple[str, ...]:
    """ISO 639-1 codes the detector chooses among (``ROUTING_DETECT_LANGUAGES``)."""
    return tuple(settings.ROUTING_DETECT_LANGUAGES)


def _get_detector() -> LanguageDetector:
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

                languages = [
                    Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
                    for code in detect_languages()
                ]
                _detector = LanguageDetectorBuilder.from_languages(*languages).build()
    return _detector


def language_tag(value: str) -> str:
    """X's ``lang`` as a lower-case tag with ``-`` (``pt_BR`` gives ``pt-br``), or ``""``
    when it is not a language tag at all (``"0"``, ``"<b>"``: X never sends those)."""
    tag = (value or "").strip().lower().replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else ""


def detect_language(text: str, lang_hint: str = "", fallback: str = "") -> str:
    """X's ``lang`` when it names a language (its primary subtag, ``en`` for ``en-GB``);
    otherwise the detector's guess over the configured languages on the text without
    mentions, links and ``#``; ``""`` if unsure.

    With fewer than ``MIN_DETECT_WORDS`` words there is too little text to tell: the answer
    is ``fallback`` (the conversation's or the care account's language, or ``""``, which any
    volunteer may take)."""
    hint = language_tag(lang_hint)
    if hint not in UNDETERMINED_LANGS:
        return hint.split("-")[0]
    clean = URL.sub(" ", MENTION.sub(" ", text[:1000])).replace("#", " ")
    if not clean.isascii():
        # The detector encodes the text as UTF-8, which a lone surrogate is not.
        clean = clean.encode("utf-8", "ignore").decode("utf-8")
    if len(WORD.findall(clean)) < MIN_DETECT_WORDS:
        return fallback
    found = _get_detector().detect_language_of(clean)
    return "" if found is None else found.iso_code_639_1.name.lower()
