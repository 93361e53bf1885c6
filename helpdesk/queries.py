"""Reads that views, commands and reports share."""

from __future__ import annotations

from django.db.models import QuerySet

from helpdesk.models import Question, Volunteer
from helpdesk.states import QuestionState


def queued_questions_for(volunteer: Volunteer) -> QuerySet[Question]:
    """The brand's queued questions, oldest first (routing narrows this later)."""
    return (
        Question.objects.filter(brand_id=volunteer.brand_id, state=QuestionState.QUEUED)
        .select_related("customer", "account")
        .order_by("received_at", "pk")
    )
