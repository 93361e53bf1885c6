"""The practice round on real past questions: the corpus, drawing a question, storing an
answer, and a supervisor's grade. Nothing here talks to X."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from charter import events
from charter.linter.text import unescape_x_text
from charter.models import (
    PracticeAnswer,
    PracticeGrade,
)
from charter.training.base import TrainingError, locked_standing

PRACTICE_ANSWER_MAX_LENGTH = 1000
FEEDBACK_MAX_LENGTH = 2000


def practice_answers_of(user_id: int, brand_id: int) -> QuerySet[PracticeAnswer]:
    """A person's practice answers for one brand, newest first."""
    return PracticeAnswer.objects.filter(user_id=user_id, brand_id=brand_id).order_by(
        "-submitted_at", "-pk"
    )


def practice_answers_to_grade(brand_id: int) -> QuerySet[PracticeAnswer]:
    """The brand's answers waiting for a grade, oldest first."""
    return (
        PracticeAnswer.objects.filter(brand_id=brand_id, grade=PracticeGrade.PENDING)
        .select_related("user")
        .order_by("submitted_at", "pk")
    )


@dataclass(frozen=True)
class PracticeItem:
    """A real past question. ``key`` names it so a form carries the key, not the texts."""

    key: str
    language: str
    question_text: str
    reference_answer: str
    company: str = ""


def _corpus_dir() -> Path:
    return Path(settings.PRACTICE_CORPUS_DIR)


_HANDLE_PLACEHOLDER = re.compile(r"[ \t]*\{handle\}[ \t]*")


@cache
def _load_corpus(directory: str) -> dict[str, tuple[PracticeItem, ...]]:
    base = Path(directory)
    english = []
    raw = json.loads((base / "twitter-care-dev.json").read_text(encoding="utf-8"))
    for number, dialog in enumerate(raw):
        turns = dialog.get("dialogContent") or []
        first = next((t for t in turns if "client" in t), None)
        agent_turn = next((t for t in turns if "agent" in t), None)
        reference = agent_turn["message"] if agent_turn else ""
        reference = unescape_x_text(
            reference or (dialog.get("agentURL") or {}).get("url_utterance", "")
        )
        if first is None or not first.get("message") or not reference:
            continue
        english.append(
            PracticeItem(
                key=f"en-{number}",
                language="en",
                question_text=unescape_x_text(first["message"]),
                reference_answer=reference,
                company=(dialog.get("dialogHeader") or {}).get("company", ""),
            )
        )
    french = []
    raw = json.loads((base / "french_questions.json").read_text(encoding="utf-8"))
    for number, question in enumerate(raw):
        text = _HANDLE_PLACEHOLDER.sub(" ", question.get("text", "")).strip()
        if text:
            french.append(
                PracticeItem(
                    key=f"fr-{number}", language="fr", question_text=text, reference_answer=""
                )
            )
    return {"en": tuple(english), "fr": tuple(french)}


def practice_corpus() -> dict[str, tuple[PracticeItem, ...]]:
    """The practice questions by language ("en" and "fr"), read once from the corpus."""
    return _load_corpus(str(_corpus_dir()))


def practice_language(language: str) -> str:
    """The corpus language used for ``language``: French for French, English otherwise."""
    return "fr" if language.lower().startswith("fr") else "en"


def draw_practice_question(brand_id: int, language: str, rng: random.Random) -> PracticeItem:
    """A real past question in ``language``: in English a customer's first message with the
    brand's real reply as the reference; in French a question with no reference.

    The corpus is shared by every brand for now; ``brand_id`` is where a brand's own
    history would come in.
    """
    items = practice_corpus()[practice_language(language)]
    if not items:
        raise TrainingError(_("There are no practice questions in this language."))
    return rng.choice(items)


def practice_item(key: str) -> PracticeItem | None:
    """The practice question named ``key``, or None."""
    language, _sep, _number = key.partition("-")
    for item in practice_corpus().get(language, ()):
        if item.key == key:
            return item
    return None


def submit_practice_answer(
    user_id: int,
    brand_id: int,
    question_text: str,
    reference_answer: str,
    answer_text: str,
) -> PracticeAnswer:
    """Store a practice answer for a supervisor to grade. It is never posted anywhere."""
    answer_text = answer_text.strip()
    if not answer_text:
        raise TrainingError(_("Write an answer first."))
    if len(answer_text) > PRACTICE_ANSWER_MAX_LENGTH:
        raise TrainingError(
            _("An answer can be at most %(limit)d characters.")
            % {"limit": PRACTICE_ANSWER_MAX_LENGTH}
        )
    if not question_text.strip():
        raise TrainingError(_("The practice question is missing."))
    with transaction.atomic():
        locked_standing(user_id, brand_id)
        answer = PracticeAnswer.objects.create(
            user_id=user_id,
            brand_id=brand_id,
            question_text=question_text,
            reference_answer=reference_answer,
            answer_text=answer_text,
            submitted_at=timezone.now(),
        )
        events.record(
            "practice.submitted",
            subject_id=user_id,
            brand_id=brand_id,
            actor_label="system:training",
            to_value=PracticeGrade.PENDING,
            data={"answer": answer.pk},
        )
    return answer


def grade_practice_answer(
    answer: PracticeAnswer, *, grade: str, feedback: str, by_user: User
) -> PracticeAnswer:
    """Grade a pending practice answer: pass, or fail with feedback (required). Nobody
    grades their own answer, and a graded answer keeps its grade. Whether ``by_user`` may
    grade this brand's answers is the caller's check."""
    feedback = feedback.strip()
    if grade not in (PracticeGrade.PASS, PracticeGrade.FAIL):
        raise TrainingError(_("Grade the answer as pass or fail."))
    if grade == PracticeGrade.FAIL and not feedback:
        raise TrainingError(_("Say what needs work: feedback is required for a fail."))
    if len(feedback) > FEEDBACK_MAX_LENGTH:
        raise TrainingError(
            _("Feedback can be at most %(limit)d characters.") % {"limit": FEEDBACK_MAX_LENGTH}
        )
    if answer.user_id == by_user.pk:
        raise TrainingError(_("You cannot grade your own answer."))
    with transaction.atomic():
        locked = PracticeAnswer.objects.select_for_update().get(pk=answer.pk)
        if locked.grade != PracticeGrade.PENDING:
            raise TrainingError(_("This answer has already been graded."))
        now = timezone.now()
        locked.grade = grade
        locked.feedback = feedback
        locked.graded_by = by_user
        locked.graded_at = now
        locked.save(update_fields=["grade", "feedback", "graded_by", "graded_at"])
        events.record(
            "practice.graded",
            subject_id=locked.user_id,
            brand_id=locked.brand_id,
            actor=by_user,
            from_value=PracticeGrade.PENDING,
            to_value=grade,
            data={"answer": locked.pk},
        )
    answer.refresh_from_db()
    return answer
