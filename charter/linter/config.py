"""A brand's linter configuration as a plain, hashable value (so compiled patterns can be
cached per configuration)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from charter.models import LinterSettings


@dataclass(frozen=True)
class LintConfig:
    """The rules' settings for one brand (and, for ``customer_handle``, one conversation).

    - ``allowed_domains``: hosts links may point to; a subdomain of one is allowed too. An
      empty tuple means links are not restricted (``link_domain`` never fires); links still
      get the ``link_cost`` advice.
    - ``disclosure_hashtag``: e.g. ``#NorthwindHelp``; empty for none.
    - ``require_signature``: advise when the volunteer's signature is missing.
    - ``order_number_patterns``: regular expressions (case-insensitive) for the brand's order
      or account numbers, on top of the built-in "order/commande/account ... 12345" pattern.
    - ``extra_review_terms`` / ``blocked_terms``: words or phrases (case- and
      accent-insensitive, whole words) that send a draft to review / block it.
    - ``profanity_verdict`` / ``competitor_verdict``: the severity of the ``profanity`` and
      ``competitor`` rules for this brand (``block``, ``review`` or ``advice``), or ``off``.
    - ``profanity_allowed``: entries of the shipped profanity lists this brand accepts
      (a bicycle shop's "pédale" is in ``profanity.NOT_PROFANE_HERE`` already).
    - ``competitor_names``: the brand's competitors (names, brands, sites), matched as whole
      words, case- and accent-insensitively.
    - ``disabled_rules``: rule names (see ``RULES``) that do not run.
    - ``customer_handle``: the handle being answered; mentioning it is fine.
    - ``brand_handles``: the brand's own care handles; mentioning them is fine.
    """

    allowed_domains: tuple[str, ...] = ()
    disclosure_hashtag: str = ""
    require_signature: bool = True
    order_number_patterns: tuple[str, ...] = ()
    extra_review_terms: tuple[str, ...] = ()
    blocked_terms: tuple[str, ...] = ()
    profanity_verdict: str = "block"
    profanity_allowed: tuple[str, ...] = ()
    competitor_names: tuple[str, ...] = ()
    competitor_verdict: str = "review"
    disabled_rules: frozenset[str] = field(default_factory=frozenset)
    customer_handle: str = ""
    brand_handles: tuple[str, ...] = ()

    @classmethod
    def from_settings(
        cls,
        settings: LinterSettings | None,
        *,
        brand_handles: Iterable[str] = (),
        customer_handle: str = "",
    ) -> LintConfig:
        """The configuration stored for a brand, or the defaults when it has none. Values
        that are not strings (the JSON fields accept anything) are left out."""
        handles = tuple(h for h in brand_handles if h)
        if settings is None:
            return cls(customer_handle=customer_handle, brand_handles=handles)
        return cls(
            allowed_domains=_strings(settings.allowed_domains),
            disclosure_hashtag=settings.disclosure_hashtag.strip(),
            require_signature=settings.require_signature,
            order_number_patterns=_strings(settings.order_number_patterns),
            extra_review_terms=_strings(settings.extra_review_terms),
            blocked_terms=_strings(settings.blocked_terms),
            profanity_verdict=settings.profanity_verdict,
            profanity_allowed=_strings(settings.profanity_allowed),
            competitor_names=_strings(settings.competitor_names),
            competitor_verdict=settings.competitor_verdict,
            disabled_rules=frozenset(_strings(settings.disabled_rules)),
            customer_handle=customer_handle,
            brand_handles=handles,
        )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item.strip() for item in value if isinstance(item, str) and item.strip())


def pattern_errors(patterns: Iterable[str]) -> list[str]:
    """A plain reason for each order-number pattern that is not a valid regular expression
    (for the admin form; the linter itself matches an invalid pattern as literal text)."""
    errors = []
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            errors.append(f"{pattern!r} is not a valid regular expression: {error}")
    return errors
