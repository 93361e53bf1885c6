"""The rules the linter knows: name, severity and a one-line description in each language
(for the admin's rule tester, the settings form and the docs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from charter.linter.messages import language_of
from charter.linter.results import Severity


@dataclass(frozen=True)
class RuleInfo:
    name: str
    severity: Severity
    description_en: str
    description_fr: str

    def description(self, language: str = "en") -> str:
        return self.description_fr if language_of(language) == "fr" else self.description_en


_B, _R, _A = Severity.BLOCK, Severity.REVIEW, Severity.ADVICE

_TABLE = (
    ("over_length", _B, "Over 280 characters as X counts them (URLs 23, emoji and CJK 2)",
     "Plus de 280 caractères au sens de X (lien 23, émoji et CJK 2)"),
    ("invalid_character", _B, "An invisible character X refuses (U+FEFF, U+FFFE, U+FFFF)",
     "Un caractère invisible refusé par X (U+FEFF, U+FFFE, U+FFFF)"),
    ("email_address", _B, "An email address", "Une adresse e-mail"),
    ("phone_number", _B, "A phone number (US, UK, French, Canadian or international)",
     "Un numéro de téléphone (américain, britannique, français, canadien ou international)"),
    ("card_number", _B, "A payment card number (13 to 19 digits passing the Luhn check)",
     "Un numéro de carte bancaire (13 à 19 chiffres valides selon Luhn)"),
    ("order_number", _B, "An order or account number (built-in or the brand's patterns)",
     "Un numéro de commande ou de compte (motif intégré ou de la marque)"),
    ("link_domain", _B, "A link outside the brand's allowed domains (when some are set)",
     "Un lien hors des domaines autorisés de la marque (s'il y en a)"),
    ("no_words", _B, "No words of its own: only mentions, the signature, hashtags or links",
     "Aucun mot à elle : seulement des mentions, la signature, des hashtags ou des liens"),
    ("blocked_term", _B, "A word or phrase the brand forbids",
     "Un mot ou une expression interdits par la marque"),
    ("profanity", _B, "Profanity or an offensive word (English and French lists); the brand "
     "sets the verdict",
     "Un juron ou un mot injurieux (listes anglaise et française) ; la marque choisit le "
     "verdict"),
    ("promise", _R, "A promise of a refund, exchange, credit, gift or compensation",
     "Une promesse de remboursement, d'échange, d'avoir, de cadeau ou de dédommagement"),
    ("price", _R, "A price, an amount of money or a discount",
     "Un prix, un montant ou une remise"),
    ("legal_safety", _R, "Legal or safety words (lawyer, lawsuit, fire, injury, recall, police)",
     "Vocabulaire juridique ou de sécurité (avocat, procès, incendie, blessure, rappel, police)"),
    ("other_customer", _R, "Another customer: a handle other than the customer's or the brand's",
     "Un autre client : un @ qui n'est ni celui du client ni celui de la marque"),
    ("review_term", _R, "A word or phrase the brand wants reviewed",
     "Un mot ou une expression que la marque veut faire relire"),
    ("competitor", _R, "A competitor's name from the brand's list; the brand sets the verdict",
     "Le nom d'un concurrent de la liste de la marque ; la marque choisit le verdict"),
    ("missing_signature", _A, "The volunteer's signature (e.g. ^AB) is missing",
     "La signature du bénévole (par ex. ^AB) manque"),
    ("missing_disclosure", _A, "The brand's disclosure hashtag is missing",
     "Le hashtag de transparence de la marque manque"),
    ("unqualified_claim", _A, "A factual claim (number, time, \"will\") with no qualifier",
     "Une affirmation (nombre, délai, « sera ») sans nuance"),
    ("link_cost", _A, "A link: the post costs $0.20 instead of $0.015",
     "Un lien : la publication coûte 0,20 $ au lieu de 0,015 $"),
)  # fmt: skip

# Rules whose severity each brand sets (``LintConfig.<rule>_verdict``); the table's is the
# default.
BRAND_SEVERITY: frozenset[str] = frozenset({"profanity", "competitor"})

# Rules a brand cannot turn off: a reply with nothing to say is never worth sending.
ALWAYS_ON: frozenset[str] = frozenset({"no_words"})

RULES: Mapping[str, RuleInfo] = MappingProxyType(
    {name: RuleInfo(name, severity, en, fr) for name, severity, en, fr in _TABLE}
)
