"""The reads of notes and tags that the pages share."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from helpdesk.models import Question, QuestionNote, Tag


def notes_of(question: Question) -> list[QuestionNote]:
    """The notes on ``question``, oldest first, with their authors' desk records."""
    return list(
        QuestionNote.objects.filter(question_id=question.pk)
        .select_related("author__volunteer")
        .order_by("created_at", "pk")
    )


def tags_of(question: Question) -> list[Tag]:
    """The tags on ``question``, by name."""
    return list(question.tags.order_by("key", "pk"))


def brand_tags(brand_id: int) -> QuerySet[Tag]:
    """The brand's tags, by name."""
    return Tag.objects.filter(brand_id=brand_id).order_by("key", "pk")


def with_tags() -> Prefetch[Any]:
    """A prefetch of questions' tags by name, for lists of questions."""
    return Prefetch("tags", queryset=Tag.objects.order_by("key", "pk"))
