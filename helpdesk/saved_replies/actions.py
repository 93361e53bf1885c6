"""The writes on saved replies: create, update, archive, restore (each checked and
audited), and counting a use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.linter import Finding, Severity
from helpdesk.audit import record
from helpdesk.models import Question, SavedReply, Volunteer
from helpdesk.permissions import SUPERVISING_ROLES
from helpdesk.saved_replies.queries import language_codes, saved_reply_for_use
from helpdesk.saved_replies.variables import lint_body, variable_errors
from routing.models import Topic

TITLE_MAX_LENGTH = 120


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
