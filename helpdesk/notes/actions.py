"""The writes on notes and tags: each validates first (a refusal writes nothing), writes in
a transaction with its audit row, and tells the brand's open inboxes after commit."""

from __future__ import annotations

import unicodedata

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import record
from helpdesk.events import announce, brand_queue_group
from helpdesk.models import NOTE_MAX_LENGTH, TAG_MAX_LENGTH, Question, QuestionNote, Tag, Volunteer
from helpdesk.permissions import DESK_ROLES

NOTED = "question.noted"
TAGGED = "question.tagged"
UNTAGGED = "question.untagged"


def _announce(question: Question, kind: str, by: User) -> None:
    """Tell the brand's queue (the desk's open inboxes) once committed; not the monitoring
    screens, which show nothing of notes and tags and would reload for nothing. The payload
    is :func:`helpdesk.moves.announce_question`'s."""
    announce(
        [brand_queue_group(question.brand_id)],
        kind,
        {"brand_id": question.brand_id, "question_id": question.pk, "user_id": by.pk},
    )


class NoteError(ValueError):
    """A note or a tag refused: ``code`` for code (``blank``, ``too_long``, ``invalid``,
    ``forbidden``), ``message`` for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _check_member(question: Question, by: User) -> None:
    """The views reach the question through ``question_of``; this holds for any other
    caller too: only a desk member of the question's brand writes on it."""
    if not Volunteer.objects.filter(
        user=by, brand_id=question.brand_id, role__in=DESK_ROLES
    ).exists():
        raise NoteError("forbidden", _("Only the brand's desk writes notes and tags."))


def _check_text(text: str, limit: int, blank: str, too_long: str) -> None:
    """Refuse a blank ``text`` with ``blank``, one over ``limit`` characters with
    ``too_long`` (``%(max)d`` and ``%(n)d`` filled in), or one that cannot be stored."""
    if not text:
        raise NoteError("blank", blank)
    if len(text) > limit:
        raise NoteError("too_long", too_long % {"max": limit, "n": len(text)})
    # A NUL cannot be stored in PostgreSQL text; nobody types one.
    if "\x00" in text:
        raise NoteError("invalid", _("The text has a character that cannot be stored."))


def add_note(question: Question, *, by: User, text: str) -> QuestionNote:
    """Leave ``text`` (surrounding blank space trimmed, 1 to ``NOTE_MAX_LENGTH`` characters)
    on ``question`` from ``by``, audited as ``question.noted`` and announced to the brand's
    queue once committed. Raises :class:`NoteError`, having written nothing, for a blank or
    too long text or a person outside the brand's desk."""
    text = text.strip()
    _check_text(
        text,
        NOTE_MAX_LENGTH,
        _("Write something in the note."),
        _("A note is at most %(max)d characters; this one has %(n)d."),
    )
    _check_member(question, by)
    now = timezone.now()
    with transaction.atomic():
        note = QuestionNote.objects.create(question=question, author=by, text=text, created_at=now)
        record(NOTED, actor=by, question=question, data={"note_id": note.pk}, at=now)
        _announce(question, NOTED, by)
    return note


def tag_name(name: str) -> str:
    """``name`` as a tag is named: runs of blank space made one space, trimmed, NFC."""
    return unicodedata.normalize("NFC", " ".join(name.split()))


def tag_question(question: Question, name: str, *, by: User) -> tuple[Tag, bool]:
    """Put the brand's tag ``name`` on ``question``, making the tag if the brand has none of
    that name (compared without case: "Refund" is "refund"). Audited as
    ``question.tagged`` and announced once committed. Returns the tag and whether it was
    put on now (False: it was already there, and nothing was written). Raises
    :class:`NoteError`, having written nothing, for a blank or too long name."""
    name = tag_name(name)
    _check_text(
        name,
        TAG_MAX_LENGTH,
        _("Write the tag's name."),
        _("A tag is at most %(max)d characters; this one has %(n)d."),
    )
    _check_member(question, by)
    now = timezone.now()
    with transaction.atomic():
        # Two people making the same new tag at once: get_or_create reads the winner's.
        tag, created = Tag.objects.get_or_create(
            brand_id=question.brand_id,
            key=name.casefold(),
            defaults={"name": name, "created_at": now},
        )
        if tag.questions.filter(pk=question.pk).exists():
            return tag, False
        tag.questions.add(question)
        record(
            TAGGED,
            actor=by,
            question=question,
            data={"tag_id": tag.pk, "tag": tag.name, "new_tag": created},
            at=now,
        )
        _announce(question, TAGGED, by)
    return tag, True


def untag_question(question: Question, tag: Tag, *, by: User) -> bool:
    """Take ``tag`` off ``question`` (the tag stays the brand's), audited as
    ``question.untagged`` and announced once committed. Returns False, having written
    nothing, when the tag was not on it."""
    if tag.brand_id != question.brand_id:
        raise NoteError("forbidden", _("This tag is another brand's."))
    _check_member(question, by)
    now = timezone.now()
    with transaction.atomic():
        removed, _by_model = Tag.questions.through.objects.filter(
            tag_id=tag.pk, question_id=question.pk
        ).delete()
        if not removed:
            return False
        record(
            UNTAGGED,
            actor=by,
            question=question,
            data={"tag_id": tag.pk, "tag": tag.name},
            at=now,
        )
        _announce(question, UNTAGGED, by)
    return True
