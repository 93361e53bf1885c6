"""A saved reply's variables: which there are, what is wrong with a body's, how a body is
filled in for a question and a volunteer, and the linter on a body filled in with samples."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models.functions import Length
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from charter.gate import lint_config_for
from charter.linter import LintResult, lint
from helpdesk.models import Question, Store, Volunteer
from helpdesk.replies import brand_handles

# Name -> what it stands for, in the order the forms list them.
VARIABLES: dict[str, Any] = {
    "customer": gettext_lazy("the customer's @handle"),
    "signature": gettext_lazy("your signature, e.g. ^AB"),
    "store": gettext_lazy("the name of your store"),
    "first_name": gettext_lazy("your first name"),
}


# The linter checks a body filled in with these (the longest handle X allows), so that what
# it finds is what a real reply would show.
SAMPLE_VALUES = {
    "customer": "@customer_handle",
    "signature": "^AB",
    "store": "",  # the brand's longest store name; see ``sample_values``
    "first_name": "Alexandra",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True)
class Rendered:
    """A body with its variables filled in; ``missing`` names the variables that had no value
    (in the order they first appear)."""

    text: str
    missing: tuple[str, ...] = ()


def allowed_variables() -> str:
    """``{customer}, {signature}, {store}, {first_name}``: for messages and help texts."""
    return ", ".join(f"{{{name}}}" for name in VARIABLES)


def variable_errors(body: str) -> list[str]:
    """What is wrong with the variables of ``body``, as plain messages (none: it is fine)."""
    unknown: list[str] = []
    stray: list[int] = []
    for match in _TOKEN.finditer(body):
        token = match.group()
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            stray.append(match.start())
        elif name not in VARIABLES and name not in unknown:
            unknown.append(name)
    errors: list[str] = []
    if unknown:
        errors.append(
            ngettext(
                "Unknown variable: %(names)s. The variables are %(allowed)s.",
                "Unknown variables: %(names)s. The variables are %(allowed)s.",
                len(unknown),
            )
            % {
                "names": ", ".join(f"{{{name}}}" for name in unknown),
                "allowed": allowed_variables(),
            }
        )
    if stray:
        at = stray[0]
        errors.append(
            _(
                "A brace opens or closes no variable (near “%(excerpt)s”). Variables look like "
                "{customer}; write {{ or }} for a brace of your own."
            )
            % {"excerpt": body[max(0, at - 10) : at + 10]}
        )
    return errors


def fill_in(body: str, values: Mapping[str, str]) -> Rendered:
    """``body`` with its variables replaced by ``values`` (a name missing from ``values`` or
    with an empty value renders as nothing, without leaving a double space behind).
    Something that is not a variable is kept as written, so a body saved before a rule
    changed still renders."""
    out: list[str] = []
    missing: list[str] = []
    position = 0
    after_empty = False
    for match in _TOKEN.finditer(body):
        _append(out, body[position : match.start()], after_empty)
        position = match.end()
        token = match.group()
        name = match.group(1)
        after_empty = False
        if token in ("{{", "}}"):
            out.append(token[0])
        elif name is not None and name in VARIABLES:
            value = values.get(name, "")
            if not value:
                after_empty = True
                if name not in missing:
                    missing.append(name)
            out.append(value)
        else:
            out.append(token)
    _append(out, body[position:], after_empty)
    return Rendered("".join(out).strip(), tuple(missing))


def _append(out: list[str], literal: str, after_empty: bool) -> None:
    """Add ``literal`` to ``out``; after an empty value, without the spaces it leaves."""
    if after_empty:
        last = next((i for i in range(len(out) - 1, -1, -1) if out[i]), None)
        before = out[last] if last is not None else ""
        if before == "" or before.endswith((" ", "\t", "\n")):
            literal = literal.lstrip(" \t")
        if last is not None and (literal == "" or literal.startswith("\n")):
            out[last] = out[last].rstrip(" \t")
    out.append(literal)


def values_for(question: Question, volunteer: Volunteer) -> dict[str, str]:
    """The variables' values when ``volunteer`` answers ``question``."""
    customer = question.customer
    handle = customer.username if customer is not None else ""
    first_name = volunteer.user.first_name.strip()
    if not first_name and volunteer.display_name.strip():
        first_name = volunteer.display_name.split()[0]
    return {
        "customer": f"@{handle}" if handle else "",
        "signature": volunteer.signature.strip(),
        "store": volunteer.store.name if volunteer.store is not None else "",
        "first_name": first_name,
    }


def sample_values(brand_id: int) -> dict[str, str]:
    """Values to lint a body with: long ones, as a real reply might get."""
    longest = (
        Store.objects.filter(brand_id=brand_id)
        .order_by(Length("name").desc(), "pk")
        .values_list("name", flat=True)
        .first()
    )
    return {**SAMPLE_VALUES, "store": longest or "Store"}


def lint_body(brand_id: int, body: str, language: str) -> LintResult:
    """The charter's linter on ``body`` filled in with sample values."""
    values = sample_values(brand_id)
    return lint(
        fill_in(body, values).text,
        lint_config_for(
            brand_id,
            customer_handle=values["customer"].lstrip("@"),
            brand_handles=brand_handles(brand_id),
        ),
        language=language or "en",
        signature=values["signature"],
    )
