"""Saved replies (macros): a brand's ready-made answers, per topic and language, with
variables filled in for the question and the volunteer.

Variables are names in braces, filled in when a volunteer inserts the saved reply:

    {customer}     the customer's @handle, e.g. @ann
    {signature}    the volunteer's signature, e.g. ^AB (the one the charter's linter expects)
    {store}        the name of the volunteer's store
    {first_name}   the volunteer's first name

``{{`` and ``}}`` stand for a literal brace. Any other name, or a brace that opens or closes
nothing, is refused when the saved reply is saved, and so is a body the charter's linter
blocks (filled in with sample values). A variable without a value (a volunteer without a
store) renders as nothing, and the composer says which one was empty.

Supervisors and admins of the brand create, edit, archive and restore saved replies; every
change writes an audit event. Volunteers who may claim the brand's questions use them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Length, Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from charter.gate import lint_config_for, may_claim
from charter.linter import Finding, LintResult, Severity, lint
from helpdesk.audit import record
from helpdesk.models import Question, SavedReply, Store, Volunteer
from helpdesk.permissions import DESK_ROLES, SUPERVISING_ROLES
from helpdesk.replies import brand_handles
from routing.models import Topic

# Name -> what it stands for, in the order the forms list them.
VARIABLES: dict[str, Any] = {
    "customer": gettext_lazy("the customer's @handle"),
    "signature": gettext_lazy("your signature, e.g. ^AB"),
    "store": gettext_lazy("the name of your store"),
    "first_name": gettext_lazy("your first name"),
}
TITLE_MAX_LENGTH = 120

# The linter checks a body filled in with these (the longest handle X allows), so that what
# it finds is what a real reply would show.
SAMPLE_VALUES = {
    "customer": "@customer_handle",
    "signature": "^AB",
    "store": "",  # the brand's longest store name; see ``sample_values``
    "first_name": "Alexandra",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class SavedReplyError(ValueError):
    """A saved reply that cannot be saved (or an action the person may not take).

    ``field_errors`` maps a form field (``title``, ``body``, ``topic``, ``language``) to plain
    messages; ``findings`` are the linter's, when it blocked the body."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field_errors: Mapping[str, list[str]] | None = None,
        findings: Iterable[Finding] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_errors = dict(field_errors or {})
        self.findings = tuple(findings)


# --- variables -------------------------------------------------------------------------------


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


# --- reads -----------------------------------------------------------------------------------


def base_language(code: str) -> str:
    """``fr`` for ``fr-CA``; "" for none or X's ``und`` (undetermined)."""
    base = (code or "").split("-")[0].strip().lower()
    return "" if base in ("", "und", "zxx", "qme", "qht") else base


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def may_use_saved_replies(volunteer: Volunteer, brand_id: int) -> bool:
    """Whether ``volunteer`` may insert ``brand_id``'s saved replies: a member of the desk
    who may claim the brand's questions now (the gate says why not)."""
    return (
        volunteer.brand_id == brand_id
        and volunteer.role in DESK_ROLES
        and may_claim(volunteer.user, brand_id).allowed
    )


def saved_replies_for(question: Question, volunteer: Volunteer) -> list[SavedReply]:
    """The active saved replies ``volunteer`` may insert into a reply to ``question``: the
    question's brand's, for its topic or for every topic, in its language or in any
    language (all languages when the question's is unknown). Topic-specific ones first, then
    those in the question's language, then by title. Nothing for another brand or for someone
    who may not claim."""
    if not may_use_saved_replies(volunteer, question.brand_id):
        return []
    found = SavedReply.objects.filter(brand_id=question.brand_id, is_active=True)
    if question.topic_id is not None:
        found = found.filter(Q(topic__isnull=True) | Q(topic_id=question.topic_id))
    else:
        found = found.filter(topic__isnull=True)
    language = base_language(question.lang)
    if language:
        found = found.filter(Q(language="") | Q(language=language))
    return list(
        found.select_related("topic").order_by(
            F("topic_id").asc(nulls_last=True), "-language", Lower("title"), "pk"
        )
    )


def saved_reply_for_use(question: Question, volunteer: Volunteer, pk: int) -> SavedReply | None:
    """The saved reply ``pk`` if ``volunteer`` may insert it into a reply to ``question``;
    None otherwise (another brand's, archived, another topic or language: not there)."""
    return next((saved for saved in saved_replies_for(question, volunteer) if saved.pk == pk), None)


def saved_replies_of(
    brand_id: int, *, topic: str = "", language: str = "", status: str = "active"
) -> QuerySet[SavedReply]:
    """A brand's saved replies for the management page. ``topic``: "" all, "none" those for
    every topic, else a topic's id; ``language``: "" all, "any" those for any language, else
    a code; ``status``: "active", "archived" or "all"."""
    found = SavedReply.objects.filter(brand_id=brand_id)
    if topic == "none":
        found = found.filter(topic__isnull=True)
    elif topic.isdigit():
        found = found.filter(topic_id=int(topic))
    if language == "any":
        found = found.filter(language="")
    elif language:
        found = found.filter(language=language)
    if status == "active":
        found = found.filter(is_active=True)
    elif status == "archived":
        found = found.filter(is_active=False)
    return found.select_related("topic", "updated_by").order_by(
        F("topic__name").asc(nulls_first=True), "language", Lower("title"), "pk"
    )


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedReplyFields:
    """What a supervisor writes: the form's cleaned values."""

    title: str
    body: str
    topic: Topic | None = None
    language: str = ""


def _check_manager(actor: Volunteer, brand_id: int) -> None:
    if actor.brand_id != brand_id or actor.role not in SUPERVISING_ROLES:
        raise SavedReplyError(
            "forbidden", _("Only the brand's supervisors and admins manage its saved replies.")
        )


def _check_fields(brand_id: int, fields: SavedReplyFields) -> None:
    """Refuse fields that do not make a usable saved reply, with every reason at once."""
    errors: dict[str, list[str]] = {}
    if not fields.title.strip():
        errors.setdefault("title", []).append(_("Give the saved reply a title."))
    elif len(fields.title) > TITLE_MAX_LENGTH:
        errors.setdefault("title", []).append(
            _("The title is at most %(max)s characters.") % {"max": TITLE_MAX_LENGTH}
        )
    if fields.topic is not None and fields.topic.brand_id != brand_id:
        errors.setdefault("topic", []).append(_("Choose one of the brand's topics."))
    if fields.language and fields.language not in language_codes():
        errors.setdefault("language", []).append(_("Choose a language of the desk."))
    if not fields.body.strip():
        errors.setdefault("body", []).append(_("Write the text of the saved reply."))
    else:
        problems = variable_errors(fields.body)
        if problems:
            errors.setdefault("body", []).extend(problems)
    if errors:
        raise SavedReplyError("invalid", _("The saved reply was not saved."), field_errors=errors)
    result = lint_body(brand_id, fields.body, fields.language)
    if result.verdict == Severity.BLOCK:
        blocking = [f for f in result.findings if f.severity == Severity.BLOCK]
        raise SavedReplyError(
            "blocked",
            _("The saved reply breaks a rule of the charter that cannot be approved."),
            field_errors={
                "body": [
                    _("The charter's rules block this text: %(rules)s")
                    % {"rules": " ".join(f.message for f in blocking)}
                ]
            },
            findings=result.findings,
        )


def _audit_data(saved: SavedReply, **extra: Any) -> dict[str, Any]:
    return {
        "saved_reply_id": saved.pk,
        "title": saved.title,
        "topic": saved.topic.slug if saved.topic is not None else None,
        "language": saved.language,
        **extra,
    }


def _locked(saved_id: int, brand_id: int) -> SavedReply:
    # Only the saved reply's row: PostgreSQL refuses to lock the outer-joined topic.
    return (
        SavedReply.objects.select_for_update(of=("self",))
        .select_related("topic")
        .get(pk=saved_id, brand_id=brand_id)
    )


def create_saved_reply(actor: Volunteer, fields: SavedReplyFields) -> SavedReply:
    """A new active saved reply of ``actor``'s brand, checked (variables, linter) and
    audited (``saved_reply.created``)."""
    _check_manager(actor, actor.brand_id)
    _check_fields(actor.brand_id, fields)
    now = timezone.now()
    with transaction.atomic():
        saved = SavedReply.objects.create(
            brand_id=actor.brand_id,
            topic=fields.topic,
            title=fields.title.strip(),
            body=fields.body,
            language=fields.language,
            created_by=actor.user,
            updated_by=actor.user,
            created_at=now,
            updated_at=now,
        )
        record(
            "saved_reply.created",
            actor=actor.user,
            brand_id=actor.brand_id,
            data=_audit_data(saved),
        )
    return saved


def update_saved_reply(actor: Volunteer, saved: SavedReply, fields: SavedReplyFields) -> SavedReply:
    """Change a saved reply's title, text, topic or language, checked as on creation and
    audited (``saved_reply.updated``, with the names of the fields that changed)."""
    _check_manager(actor, saved.brand_id)
    _check_fields(saved.brand_id, fields)
    with transaction.atomic():
        locked = _locked(saved.pk, saved.brand_id)
        new = {
            "title": fields.title.strip(),
            "body": fields.body,
            "topic_id": fields.topic.pk if fields.topic is not None else None,
            "language": fields.language,
        }
        changed = [name for name, value in new.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name, value in new.items():
            setattr(locked, name, value)
        locked.topic = fields.topic
        locked.updated_by = actor.user
        locked.updated_at = timezone.now()
        locked.save(update_fields=[*changed, "updated_by", "updated_at"])
        changed_names = [name.removesuffix("_id") for name in changed]
        record(
            "saved_reply.updated",
            actor=actor.user,
            brand_id=locked.brand_id,
            data=_audit_data(locked, changed=changed_names),
        )
    return locked


def _set_active(actor: Volunteer, saved: SavedReply, active: bool) -> SavedReply:
    _check_manager(actor, saved.brand_id)
    with transaction.atomic():
        locked = _locked(saved.pk, saved.brand_id)
        if locked.is_active == active:
            return locked
        if active:
            # The charter's rules may have changed while it was archived.
            _check_fields(
                locked.brand_id,
                SavedReplyFields(locked.title, locked.body, locked.topic, locked.language),
            )
        locked.is_active = active
        locked.updated_by = actor.user
        locked.updated_at = timezone.now()
        locked.save(update_fields=["is_active", "updated_by", "updated_at"])
        record(
            "saved_reply.restored" if active else "saved_reply.archived",
            actor=actor.user,
            brand_id=locked.brand_id,
            data=_audit_data(locked),
        )
    return locked


def archive_saved_reply(actor: Volunteer, saved: SavedReply) -> SavedReply:
    """Take a saved reply out of the composers (kept, and restorable); audited
    (``saved_reply.archived``). Archiving an archived one changes nothing."""
    return _set_active(actor, saved, False)


def restore_saved_reply(actor: Volunteer, saved: SavedReply) -> SavedReply:
    """Put an archived saved reply back, if it still passes the checks; audited
    (``saved_reply.restored``)."""
    return _set_active(actor, saved, True)


def count_use(question: Question, volunteer: Volunteer, saved_id: int) -> bool:
    """Count one use of a saved reply in a reply ``volunteer`` sent to ``question`` (only if
    they may use it there). Whether it was counted."""
    saved = saved_reply_for_use(question, volunteer, saved_id)
    if saved is None:
        return False
    SavedReply.objects.filter(pk=saved.pk).update(use_count=F("use_count") + 1)
    return True


# --- the composer's picker -------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A saved reply as the composer offers it: filled in for this question and volunteer."""

    saved: SavedReply
    text: str
    missing: tuple[str, ...]

    @property
    def note(self) -> str:
        """What the composer says once it is inserted (and which variables were empty)."""
        said = _("Saved reply “%(title)s” inserted into your draft.") % {"title": self.saved.title}
        if self.missing:
            names = ", ".join(f"{{{name}}}" for name in self.missing)
            said += " " + (
                ngettext(
                    "%(names)s had no value: it was left empty.",
                    "%(names)s had no value: they were left empty.",
                    len(self.missing),
                )
                % {"names": names}
            )
        return said


def choices_for(question: Question, volunteer: Volunteer) -> list[Choice]:
    """``saved_replies_for`` filled in for the composer, in the same order."""
    values = values_for(question, volunteer)
    choices = []
    for saved in saved_replies_for(question, volunteer):
        rendered = fill_in(saved.body, values)
        choices.append(Choice(saved, rendered.text, rendered.missing))
    return choices
