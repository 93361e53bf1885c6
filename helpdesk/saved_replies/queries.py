"""Reads of saved replies: who may use them, which fit a question (and the composer's
picker, filled in), and a brand's list for the management page."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from charter.gate import may_claim
from helpdesk.models import Question, SavedReply, Volunteer
from helpdesk.params import parse_id
from helpdesk.permissions import DESK_ROLES
from helpdesk.saved_replies.variables import fill_in, values_for


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
    elif (topic_id := parse_id(topic)) is not None:
        found = found.filter(topic_id=topic_id)
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


def choices_for(
    question: Question, volunteer: Volunteer, *, first: int | None = None
) -> list[Choice]:
    """``saved_replies_for`` filled in for the composer, in the same order, except that
    the saved reply ``first`` (a crisis's holding statement) comes first when it fits."""
    values = values_for(question, volunteer)
    choices = []
    found = saved_replies_for(question, volunteer)
    found.sort(key=lambda saved: saved.pk != first)  # stable: the rest keep their order
    for saved in found:
        rendered = fill_in(saved.body, values)
        choices.append(Choice(saved, rendered.text, rendered.missing))
    return choices
