"""The findings' explanations, in the volunteer's language (English or French).

Written out here for both languages, not through gettext, because the project has no
translation catalogs yet; ``message`` is the one place to switch to gettext later. Each
message says what was found and what to do instead, in plain words. Placeholders are filled
with ``str.format``; the draft's own text only ever goes into the values, never the template.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "over_length": (
            "This reply is {length} characters long as X counts them; the limit is {limit}. "
            "Everything from here on does not fit: shorten it or link to a help page."
        ),
        "invalid_character": (
            "This text holds an invisible character X refuses ({codepoint}), often left by "
            "copying and pasting. Delete it."
        ),
        "email_address": (
            "This looks like an email address. Never post a customer's or a colleague's email "
            "address in public; ask them to send it by direct message."
        ),
        "phone_number": (
            "This looks like a phone number. Never post a customer's or a colleague's phone "
            "number; ask them to send it by direct message."
        ),
        "card_number": (
            "This looks like a payment card number. Never post one, even partly; ask the "
            "customer to call the store or use the secure checkout instead."
        ),
        "order_number": (
            "This looks like an order or account number ({term}). Never post one in public; "
            "ask the customer for it by direct message."
        ),
        "link_domain": (
            "This link goes to {host}, which is not one of the brand's sites ({domains}). "
            "Link to the brand's own page instead."
        ),
        "no_words": (
            "This reply has no words of its own: only mentions, your signature, hashtags or "
            "links. Write the answer itself before sending it."
        ),
        "blocked_term": "The brand does not allow {term} in a reply. Rephrase without it.",
        "profanity": (
            "{term} is profanity or an offensive word. Never use it in a reply, not even to "
            "quote the customer; rephrase without it."
        ),
        "competitor": (
            "{term} is a competitor's name. Do not send customers to a competitor; point "
            "them to the brand's own stores, site or support instead."
        ),
        "promise": (
            "{term} sounds like a promise of a refund, an exchange or compensation. A "
            "supervisor must approve it first; add a disclaimer and link to the policy."
        ),
        "price": (
            "{term} quotes a price or a discount. Prices change and differ by store: a "
            "supervisor must approve it; link to the product page rather than quote it."
        ),
        "legal_safety": (
            "{term} touches on a legal or safety matter. A supervisor must approve this reply "
            "before it goes out; do not guess, escalate if in doubt."
        ),
        "other_customer": (
            "{term} seems to be about someone other than the customer you are answering. "
            "Never discuss another customer; a supervisor must approve this reply."
        ),
        "review_term": "The brand asks that replies mentioning {term} be approved first.",
        "missing_signature": (
            "Sign your reply with {signature} so that the customer knows who answered."
        ),
        "missing_disclosure": (
            "Add {hashtag} so that readers can see you answer on behalf of the brand."
        ),
        "unqualified_claim": (
            "This sentence states a fact (a number, a time or what will happen) without a "
            "qualifier. Add one such as \u201capproximately\u201d, \u201cusually\u201d or "
            "\u201cshould\u201d in case things turn out otherwise."
        ),
        "link_cost": (
            "A post with a link costs $0.20 through the X API, against $0.015 for text alone. "
            "Keep the link only if it really helps the customer."
        ),
    },
    "fr": {
        "over_length": (
            "Cette réponse compte {length} caractères au sens de X ; la limite est de {limit}. "
            "Tout ce qui suit ne rentre pas : raccourcissez ou mettez un lien vers une page "
            "d'aide."
        ),
        "invalid_character": (
            "Ce texte contient un caractère invisible que X refuse ({codepoint}), souvent "
            "laissé par un copier-coller. Supprimez-le."
        ),
        "email_address": (
            "Ceci ressemble à une adresse e-mail. Ne publiez jamais l'adresse e-mail d'un "
            "client ou d'un collègue ; demandez-la en message privé."
        ),
        "phone_number": (
            "Ceci ressemble à un numéro de téléphone. Ne publiez jamais le numéro d'un client "
            "ou d'un collègue ; demandez-le en message privé."
        ),
        "card_number": (
            "Ceci ressemble à un numéro de carte bancaire. N'en publiez jamais, même en "
            "partie ; invitez le client à appeler le magasin ou à passer par le paiement "
            "sécurisé."
        ),
        "order_number": (
            "Ceci ressemble à un numéro de commande ou de compte ({term}). Ne le publiez "
            "jamais ; demandez-le au client en message privé."
        ),
        "link_domain": (
            "Ce lien mène à {host}, qui n'est pas un site de la marque ({domains}). Mettez "
            "plutôt un lien vers la page de la marque."
        ),
        "no_words": (
            "Cette réponse ne contient aucun mot à elle : seulement des mentions, votre "
            "signature, des hashtags ou des liens. Écrivez la réponse elle-même avant de "
            "l'envoyer."
        ),
        "blocked_term": "La marque interdit {term} dans une réponse. Reformulez sans.",
        "profanity": (
            "{term} est un juron ou un mot injurieux. Ne l'employez jamais dans une réponse, "
            "pas même pour citer le client ; reformulez sans."
        ),
        "competitor": (
            "{term} est le nom d'un concurrent. N'envoyez pas le client chez un concurrent ; "
            "orientez-le plutôt vers les magasins, le site ou le support de la marque."
        ),
        "promise": (
            "{term} ressemble à une promesse de remboursement, d'échange ou de "
            "dédommagement. Un superviseur doit d'abord l'approuver ; ajoutez une réserve et "
            "un lien vers les conditions."
        ),
        "price": (
            "{term} annonce un prix ou une remise. Les prix changent et varient selon le "
            "magasin : un superviseur doit l'approuver ; mettez plutôt un lien vers la fiche "
            "produit."
        ),
        "legal_safety": (
            "{term} touche à une question juridique ou de sécurité. Un superviseur doit "
            "approuver cette réponse avant l'envoi ; n'improvisez pas, escaladez en cas de "
            "doute."
        ),
        "other_customer": (
            "{term} semble concerner une autre personne que le client auquel vous répondez. "
            "Ne parlez jamais d'un autre client ; un superviseur doit approuver cette réponse."
        ),
        "review_term": "La marque demande que les réponses mentionnant {term} soient approuvées.",
        "missing_signature": (
            "Signez votre réponse avec {signature} pour que le client sache qui lui a répondu."
        ),
        "missing_disclosure": (
            "Ajoutez {hashtag} pour que chacun voie que vous répondez au nom de la marque."
        ),
        "unqualified_claim": (
            "Cette phrase affirme un fait (un nombre, un délai ou ce qui va se passer) sans "
            "nuance. Ajoutez par exemple « environ », « en général » ou « normalement » au "
            "cas où les choses se passeraient autrement."
        ),
        "link_cost": (
            "Une publication avec un lien coûte 0,20 $ via l'API de X, contre 0,015 $ pour du "
            "texte seul. Ne gardez le lien que s'il aide vraiment le client."
        ),
    },
}

_QUOTES = {"en": ("\u201c", "\u201d"), "fr": ("\u00ab\u00a0", "\u00a0\u00bb")}
_MAX_QUOTED = 40


def language_of(language: str) -> str:
    """``"fr"`` for any French tag (``fr``, ``fr-CA``, ``fr_FR``), else ``"en"``."""
    return "fr" if language.lower().replace("_", "-").split("-")[0] == "fr" else "en"


def quoted(term: str, language: str) -> str:
    """``term`` in the language's quotation marks, shortened if long."""
    opening, closing = _QUOTES[language_of(language)]
    term = " ".join(term.split())
    if len(term) > _MAX_QUOTED:
        term = term[: _MAX_QUOTED - 1] + "\u2026"
    return f"{opening}{term}{closing}"


def message(rule: str, language: str, **values: object) -> str:
    """The explanation of ``rule`` in ``language`` (French for ``fr``, else English)."""
    return MESSAGES[language_of(language)][rule].format(**values)
