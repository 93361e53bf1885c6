"""Classifying a new question: language, topic, priority, and question or noise.

Pure functions over a brand's compiled rules; the only database access is
:func:`compile_rules`, which reads the brand's rules once per call and recompiles them only
when they changed (a fingerprint of the rule rows is the rule set's version, so an edit in the
admin of any process is seen by the next batch everywhere, with no signal and no TTL).

Matching works on words, not on one regular expression per rule: the text is split into
accent-folded, lower-case words once, and keyword, phrase, hashtag and handle rules are
dictionary look-ups, so the cost grows with the length of the tweet, not with the number of
rules. Only ``regex`` rules run one by one.

Built-in heuristics (documented here because supervisors see their reasons):

* **Chatter.** A tweet is a question when it has a question mark, or a question or problem
  word in English or French ("how", "refund", "broken", "commande", "panne", "marche pas"
  ...), or it hits a topic rule or an urgency word. One without any of these is *chatter* only
  when it is recognisably so: nothing but reaction emoji ("@Brand 🔥🔥🔥"), only small-talk
  words ("@Brand good morning", "lol @Brand at it again", "@Brand thanks!"), or a chatter
  marker ("lol", "nice one", "love it"), and no link (a link may be the screenshot that shows
  the problem). Anything else gets the benefit of the doubt and is queued: a volunteer
  glancing at a stray tweet costs less than a customer ignored.
* **Spam and ads.** Five or more hashtags; giveaway, crypto and follow-back phrases ("follow
  back", "follow + RT", "giveaway", "bitcoin", "500% gains"); or nothing but links and
  mentions (nothing else, not even an emoji).
* **A reply to another customer.** The tweet answers someone who is not one of the brand's
  accounts and does not mention a care handle.
* **Priority.** Normal (2) to start; a brand rule with the effect "priority" raises it by its
  ``priority_boost``; urgency or anger words (EN/FR) raise it by one; a customer with at least
  10,000 followers by one; a customer whose earlier question is still unanswered by one; a
  tweet that waited an hour or more before reaching the desk by one. Clamped to 0..3 (lower is
  more urgent).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings

from routing.models import Priority, RoutingRule, RuleEffect, RuleKind

if TYPE_CHECKING:
    from lingua import LanguageDetector

DEFAULT_DETECT_LANGUAGES = ("en", "fr", "es", "de")
UNDETERMINED_LANGS = frozenset({"", "und", "qme", "zxx", "qam", "qct", "qht", "qst"})
REACH_FOLLOWERS = 10_000
WAITED_MINUTES = 60
SPAM_HASHTAGS = 5


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


# Length-preserving fold (case and accents) for Latin letters, so spans found in the folded
# text are spans of the original.
_FOLD = {code: _fold_char(chr(code)) for code in range(0x41, 0x250)}
_FOLD.update({0x2019: "'", 0x02BC: "'"})


def fold(text: str) -> str:
    """Lower-case and strip accents from Latin letters, keeping every character's position."""
    return text.translate(_FOLD)


_WORD = re.compile(r"[^\W_]+")
_HASHTAG = re.compile(r"(?<![\w&])#(\w+)")
_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_NOT_PUNCTUATION = re.compile(r"[^\s!-/:-@\[-`{-~\u2000-\u206f]")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def vocabulary(words: str) -> frozenset[str]:
    """A word list written as text, one or more words a line."""
    return frozenset(words.split())


# --- built-in vocabularies (folded: no accents, lower case) -----------------------------------

QUESTION_WORDS_EN = vocabulary(
    """how why what when where which who whom whose can could would should does isnt doesnt
    didnt wont cant cannot couldnt anyone anybody question questions
    help helps helping assist assistance support please pls plz need needed want trying tried
    issue issues problem problems broken broke break error errors fail failed failing fails
    failure bug bugs crash crashed crashes crashing freeze freezes frozen stuck slow glitch
    refund refunded refunds return returned returns cancel cancelled canceled cancellation
    order ordered orders delivery delivered deliver shipping shipped shipment package parcel
    tracking track arrived arrive arriving missing lost late delay delayed waiting wait waited
    still never nobody noone account password login log locked suspended banned hacked
    charged charge charges bill billing billed payment paid pay invoice subscription warranty
    repair repaired replace replacement damaged defective faulty stopped keeps unable fix
    fixed resolve resolved update install download outage down offline appeal reset verify
    verification code email mail contact reply respond response answer told supposed
    complaint complain disappointed wrong working work works worked available
    stock ship ships"""
)
QUESTION_WORDS_FR = vocabulary(
    """comment pourquoi quand quel quelle quels quelles combien quoi pouvez pourriez
    peux puis pourrais savoir aide aidez aider besoin svp stp question questions probleme
    problemes panne pannes bug bugs erreur erreurs bloque bloquee plante marche fonctionne
    commande commandes commander livraison livre livree livrer colis suivi transporteur
    rembourse remboursement rembourser annuler annulation annule retour retourner compte
    identifiant connexion connecter facture facturation facture paiement paye payer preleve
    prelevement abonnement garantie reparation reparer remplacer echange echanger casse
    cassee defectueux manquant manque perdu retard attente attends attendre toujours jamais
    rien personne impossible disponible dispo stock magasin rupture reponse repondez
    reclamation joindre contacter recu recois"""
)
QUESTION_PHRASES = (
    "not working",
    "doesn't work",
    "does not work",
    "won't",
    "can't",
    "no one",
    "ne marche pas",
    "marche pas",
    "ne fonctionne pas",
    "fonctionne pas",
    "est-ce que",
    "n'arrive pas",
    "j'arrive pas",
)
URGENCY_WORDS = vocabulary(
    """urgent urgently asap immediately emergency furious angry livid unacceptable ridiculous
    disgusted disgusting disgrace outrageous pathetic worst terrible horrible awful scam
    scammed fraud lawyer lawsuit sue useless incompetent joke appalling
    urgence immediatement inadmissible inacceptable scandaleux scandale honteux honte furieux
    furieuse enerve enervee arnaque arnaques escroquerie escrocs nul nuls lamentable
    avocat plainte degoute degoutee"""
)
URGENCY_PHRASES = ("right now", "as soon as possible", "n'importe quoi", "au plus vite", "!!!")
SPAM_PHRASES = re.compile(
    r"follow\s*(?:back|4\s*follow|for\s*follow)|\bf4f\b|follow\s*(?:\+|&|and)\s*(?:rt|retweet)"
    r"|\bgiveaway\b|\bwin\s+an?\s+free\b|\bfree\s+(?:iphone|followers|money)\b|\bcrypto\b"
    r"|\bbitcoin\b|\bbtc\b|\bairdrop\b|\bnft\b|\bforex\b|\d{2,}\s*%\s*gains?\b"
    r"|\bcheck\s+out\s+my\b|\bpromo\s+code\b|\bconcours\b|\bgagne[rz]?\b",
    re.IGNORECASE,
)
CHATTER_WORDS = vocabulary(
    """lol lmao lmfao rofl haha hahaha hahahaha hehe xd omg wow yay yass first good morning
    night evening afternoon everyone everybody all love loved loving nice cool great awesome
    amazing best thanks thank thx ty you u ur merci bravo super genial top trop mdr ptdr bisous
    bonjour bonsoir bonne journee soiree salut coucou hi hello hey yo happy birthday congrats
    congratulations felicitations again at it it's its the a an and to of for on so just too
    very my me i we our your yes ok okay oui oh ah"""
)
# Chatter even among other words ("Just saw the new ad from @Brand on TV, nice one").
_CHATTER_MARKERS = re.compile(
    r"(?<!\w)(?:lol|lmao|haha\w*|mdr|ptdr|nice one|love (?:it|this|you)|good morning|first!)"
)
REACTIONS = frozenset("🔥😂🤣😍❤♥👍👏🙏💯😭😊🥰😘💕💖✨🎉🙌😎👌💪😁😆😅🤩🥳☀\ufe0f\u200d!. \t\n")
_QUESTION_PHRASES = re.compile(
    "|".join(r"(?<!\w)" + re.escape(fold(p)) + r"(?!\w)" for p in QUESTION_PHRASES)
)
_URGENCY_PHRASES = re.compile("|".join(re.escape(p) for p in URGENCY_PHRASES))


# --- language --------------------------------------------------------------------------------

_detector: LanguageDetector | None = None
_detector_lock = threading.Lock()


def detect_languages() -> tuple[str, ...]:
    """ISO 639-1 codes the detector chooses among (``ROUTING_DETECT_LANGUAGES``)."""
    configured = getattr(settings, "ROUTING_DETECT_LANGUAGES", None)
    return tuple(configured) if configured else DEFAULT_DETECT_LANGUAGES


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


def detect_language(text: str, lang_hint: str = "") -> str:
    """X's ``lang`` when it names a language; otherwise the detector's guess over the
    configured languages on the text without mentions, links and ``#``; ``""`` if unsure."""
    hint = (lang_hint or "").strip().lower()
    if hint not in UNDETERMINED_LANGS:
        return hint.split("-")[0][:8]
    clean = _URL.sub(" ", _MENTION.sub(" ", text[:1000])).replace("#", " ")
    if not _WORD.search(clean):
        return ""
    found = _get_detector().detect_language_of(clean)
    return "" if found is None else found.iso_code_639_1.name.lower()


# --- compiled rules --------------------------------------------------------------------------


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
            tokens = tuple(_words(pattern))
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


# --- classification --------------------------------------------------------------------------


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
        tokens = [(m.group(), m.span()) for m in _WORD.finditer(folded)]
        for position, (token, span) in enumerate(tokens):
            for index in compiled.words.get(token, ()):
                found.setdefault(index, span)
            for sequence, index in compiled.sequences.get(token, ()):
                end = position + len(sequence)
                if index not in found and tuple(t for t, _ in tokens[position:end]) == sequence:
                    found[index] = (span[0], tokens[end - 1][1][1])
    if compiled.hashtags:
        for match in _HASHTAG.finditer(folded):
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


def classify(
    text: str,
    *,
    lang_hint: str = "",
    mentioned_handles: frozenset[str] = frozenset(),
    customer_reach: int | None = None,
    returning_unanswered: bool = False,
    replies_to_other: bool = False,
    waited_minutes: float = 0.0,
    compiled: CompiledRules,
) -> Classification:
    """Classify one tweet.

    ``mentioned_handles``: the brand's care handles the tweet mentions (lower case);
    ``customer_reach``: the author's followers; ``returning_unanswered``: the author has an
    earlier question still unanswered; ``replies_to_other``: the tweet answers an X user who is
    not one of the brand's accounts; ``waited_minutes``: time between the tweet and its
    arrival at the desk."""
    language = detect_language(text, lang_hint)
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

    plain = _MENTION.sub(" ", _URL.sub(" ", text))
    words = set(_WORD.findall(fold(plain)))
    signals: list[str] = []
    is_urgent = bool(words & URGENCY_WORDS) or bool(_URGENCY_PHRASES.search(folded))
    if is_urgent:
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
    return Classification(
        language=language,
        topic_id=topic_id,
        priority=priority,
        is_noise=bool(noise_reason),
        noise_reason=noise_reason,
        hits=hits,
        signals=signals,
        rule_hits=rule_hits,
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
    if len(_HASHTAG.findall(text)) >= SPAM_HASHTAGS:
        return "spam or ad: many hashtags"
    spam = SPAM_PHRASES.search(text)
    if spam is not None:
        return f"spam or ad: {spam.group().strip()!r}"
    has_link = len(plain) != len(text) and bool(_URL.search(text))
    if has_link and not _NOT_PUNCTUATION.search(plain):
        return "spam or ad: links only"
    if replies_to_other and not mentioned_handles:
        return "a reply to another customer"
    is_question = (
        "?" in text
        or bool(words & QUESTION_WORDS_EN)
        or bool(words & QUESTION_WORDS_FR)
        or bool(_QUESTION_PHRASES.search(folded))
        or topic_id is not None
        or is_urgent
    )
    if is_question or has_link:  # a link may be the screenshot that shows the problem
        return ""
    if not words and plain.strip() and not set(plain) - REACTIONS:
        return "chatter: reactions only"
    if words and (words <= CHATTER_WORDS or _CHATTER_MARKERS.search(folded)):
        return "chatter: no question or problem"
    return ""
