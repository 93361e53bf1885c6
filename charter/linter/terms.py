"""The English and French words behind the review and advice rules.

Each entry is a regular-expression fragment written in folded form (lower case, no accents,
plain apostrophe): the rules match them case-insensitively, as whole words, against the draft
folded by ``text.fold`` -- so "Remboursé", "rembourse" and "REMBOURSE" all match
``rembours\\w*``. Keep each list to words that, in a reply, really mean what the rule says.
"""

from __future__ import annotations

# Promises of refunds, exchanges or compensation (TwelpForce: "add a disclaimer to any offer
# or policy"; only a supervisor may approve a promise).
PROMISE = (
    r"refund\w*",
    r"reimburs\w*",
    r"money[ -]back",
    r"exchang\w*",
    r"compensat\w*",
    r"(?<!feel )free(?! to\b)(?:[ -]of[ -]charge)?",
    r"credit(?:s|ed)?(?! cards?\b)",
    r"store credit",
    r"vouchers?",
    r"gift ?cards?",
    r"waiv(?:e|ed|ing)",
    r"rembours\w*",
    r"echang\w*",
    r"dedommag\w*",
    r"indemni\w*",
    r"geste commercial",
    r"gratuit\w*",
    r"(?:un|votre|cet) avoir",
    r"bons? d'achat",
    r"cartes? cadeaux?",
)

# Discount words; amounts and percentages are matched by ``detectors.PRICE``.
DISCOUNT = (
    r"discount\w*",
    r"coupons?",
    r"promo(?:s|tions?)?",
    r"promo codes?",
    r"rebates?",
    r"price match\w*",
    r"special offers?",
    r"remises?",
    r"reductions?",
    r"rabais",
    r"codes? promo",
    r"offres? speciales?",
    r"soldes",
)

LEGAL_SAFETY = (
    r"lawyers?",
    r"attorneys?",
    r"legal action",
    r"su(?:e|ed|ing)",
    r"lawsuits?",
    r"liab(?:le|ility)",
    r"negligen\w*",
    r"in court",
    r"fires?",
    r"burn(?:s|ed|ing|t)?",
    r"smok(?:e|ing)",
    r"explo(?:de|ded|sion|sions)",
    r"injur\w*",
    r"electric shock",
    r"recall\w*",
    r"unsafe",
    r"dangerous",
    r"hazard\w*",
    r"police",
    r"avocats?",
    r"poursuites?",
    r"poursuivre",
    r"proces",
    r"tribunal",
    r"porter plainte",
    r"incendies?",
    r"feu",
    r"brul\w*",
    r"blessu\w*",
    r"bless(?:e|es|ee|ees)",
    r"rappels? (?:de |du |des )?produits?",
    r"produits? rappeles?",
    r"dangereu\w*",
    r"gendarmerie",
)

# Talk about another customer (mentions of other handles are found separately).
# Only one other person: "other customers have reported this" discloses nobody.
OTHER_CUSTOMER = (
    r"another (?:customer|client|user|member|guest|shopper)'?s?",
    r"someone else'?s",
    r"somebody else'?s",
    r"un autre (?:client|utilisateur|membre|acheteur)",
    r"une autre (?:cliente|utilisatrice|personne)",
    r"quelqu'un d'autre",
)

# Markers of a factual claim: a future certainty or a time word (numbers are found apart).
# "we will" / "I will" is the volunteer's own next step ("we will look into it"), not a claim.
CLAIM = (
    r"(?<!\bwe )(?<!\bi )will",
    r"won't",
    r"sera",
    r"seront",
    r"serez",
    r"tomorrow",
    r"demain",
    r"within",
    r"d'ici",
    r"guarantee\w*",
    r"garanti\w*",
    r"january|february|march|april|june|july|august|september|october|november|december",
    r"janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre",
)

# Qualifiers that make a claim honest (TwelpForce: use qualifiers such as "approximately").
QUALIFIER = (
    r"approx\w*",
    r"about",
    r"around",
    r"roughly",
    r"usually",
    r"generally",
    r"typically",
    r"normally",
    r"often",
    r"may",
    r"might",
    r"could",
    r"should",
    r"likely",
    r"probably",
    r"estimated",
    r"expected",
    r"up to",
    r"in most cases",
    r"as far as we know",
    r"ideally",
    r"environ",
    r"a peu pres",
    r"generalement",
    r"en general",
    r"normalement",
    r"habituellement",
    r"en principe",
    r"en moyenne",
    r"peut(?:-etre)?",
    r"peuvent",
    r"pourrai\w*",
    r"devrai\w*",
    r"jusqu'a",
    r"probablement",
    r"a priori",
    r"sauf erreur",
)


def word_pattern(fragments: tuple[str, ...]) -> str:
    """One alternation of ``fragments``, matched only as whole words."""
    return r"(?<!\w)(?:" + "|".join(fragments) + r")(?!\w)"
