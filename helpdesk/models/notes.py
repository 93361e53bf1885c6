"""What colleagues write on a question for each other: internal notes and the brand's tags.
Neither is ever sent to X."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from helpdesk.models.brands import Brand
from helpdesk.models.questions import Question

NOTE_MAX_LENGTH = 1000
TAG_MAX_LENGTH = 40


class QuestionNote(models.Model):
    """A note a desk member left on a question for colleagues and supervisors. The text is
    hostile (anyone of the desk writes it): stored as written, escaped on output."""

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="notes", db_index=False
    )
    # Kept when the account goes: the note still says what was known.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="question_notes",
    )
    text = models.CharField(max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["question", "created_at"], name="question_note_question"),
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on question {self.question_id}"


class Tag(models.Model):
    """A label of the brand's, put on questions by the desk. ``key`` is the name's case-folded
    form, unique per brand, so "Refund" and "refund" are one tag (compared in Python rather
    than with the database's ``LOWER``, which SQLite applies to ASCII only)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tags", db_index=False)
    name = models.CharField(max_length=TAG_MAX_LENGTH)
    # Case folding may lengthen a name ("ß" -> "ss"): up to three characters per character.
    key = models.CharField(max_length=3 * TAG_MAX_LENGTH)
    questions = models.ManyToManyField(Question, blank=True, related_name="tags")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "key"], name="tag_brand_key"),
        ]

    def __str__(self) -> str:
        return self.name
