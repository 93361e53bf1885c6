"""Placing questions in the queue.

For now every new question goes to the brand's pool; classification, eligibility and the
placement modes arrive with the routing issue and will plug in here.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from helpdesk.audit import record_transitions
from helpdesk.events import announce, brand_queue_group, monitoring_group
from helpdesk.models import Question
from helpdesk.states import QuestionState, check_question_transition


def place_new_questions(questions: Sequence[Question], *, actor_label: str) -> None:
    """Move freshly ingested questions from ``new`` to ``queued`` and announce them.

    Runs inside the caller's transaction; the announcement goes out after it commits.
    """
    if not questions:
        return
    check_question_transition(QuestionState.NEW, QuestionState.QUEUED)
    now = timezone.now()
    ids = [question.pk for question in questions]
    Question.objects.filter(pk__in=ids, state=QuestionState.NEW).update(
        state=QuestionState.QUEUED, state_changed_at=now
    )
    for question in questions:
        question.state = QuestionState.QUEUED
        question.state_changed_at = now
    record_transitions(
        "question.queued",
        questions,
        from_state=QuestionState.NEW,
        to_state=QuestionState.QUEUED,
        actor_label=actor_label,
    )
    by_brand: dict[int, list[int]] = {}
    for question in questions:
        by_brand.setdefault(question.brand_id, []).append(question.pk)
    for brand_id, brand_question_ids in by_brand.items():
        announce(
            [brand_queue_group(brand_id), monitoring_group(brand_id)],
            "questions.queued",
            {"brand_id": brand_id, "question_ids": brand_question_ids},
        )
