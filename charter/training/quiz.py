"""Training modules and their quizzes: who has done what, starting an attempt, scoring it,
and passing the required set."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from charter import events
from charter.models import (
    QuestionKind,
    QuizAttempt,
    QuizQuestion,
    Standing,
    TrainingModule,
)
from charter.standing import record_training_passed
from charter.training.base import AlreadySubmitted, CooldownActive, TrainingError, locked_standing


def modules_for(brand_id: int) -> QuerySet[TrainingModule]:
    """The brand's modules in their teaching order."""
    return TrainingModule.objects.filter(brand_id=brand_id).order_by("position", "pk")


@dataclass(frozen=True)
class ModuleProgress:
    """Where one person stands on one module.

    ``passed``: passed at least once. ``passed_since_trained``: passed after the person's
    last completion of the required set (what a refresher needs); None for a first-timer.
    ``retake_at``: when a new attempt may start after a failed one, if that is still ahead.
    """

    module: TrainingModule
    passed: bool
    passed_since_trained: bool | None
    best_score: int | None
    last_attempt: QuizAttempt | None
    open_attempt: QuizAttempt | None
    retake_at: datetime | None


def module_progress(
    user_id: int, brand_id: int, *, now: datetime | None = None
) -> list[ModuleProgress]:
    """One entry per module of the brand, in teaching order."""
    now = now or timezone.now()
    modules = list(modules_for(brand_id))
    standing = Standing.objects.filter(user_id=user_id, brand_id=brand_id).first()
    trained_at = standing.trained_at if standing is not None else None
    attempts: dict[int, list[QuizAttempt]] = {m.pk: [] for m in modules}
    for attempt in QuizAttempt.objects.filter(user_id=user_id, module__brand_id=brand_id).order_by(
        "started_at", "pk"
    ):
        attempts.setdefault(attempt.module_id, []).append(attempt)
    progress = []
    for module in modules:
        mine = attempts[module.pk]
        submitted = [a for a in mine if a.submitted_at is not None]
        submitted.sort(key=lambda a: (a.submitted_at, a.pk))
        passes = [a for a in submitted if a.passed]
        scores = [a.score_percent for a in submitted if a.score_percent is not None]
        last = submitted[-1] if submitted else None
        open_attempts = [a for a in mine if a.submitted_at is None]
        progress.append(
            ModuleProgress(
                module=module,
                passed=bool(passes),
                passed_since_trained=(
                    None
                    if trained_at is None
                    else any(
                        a.submitted_at is not None and a.submitted_at > trained_at for a in passes
                    )
                ),
                best_score=max(scores) if scores else None,
                last_attempt=last,
                open_attempt=open_attempts[-1] if open_attempts else None,
                retake_at=_retake_at(module, last, now),
            )
        )
    return progress


def next_retake_at(attempt: QuizAttempt, module: TrainingModule) -> datetime | None:
    """When a failed attempt's cool-down ends (None for a pass or an unsubmitted one)."""
    if attempt.passed or attempt.submitted_at is None:
        return None
    return attempt.submitted_at + timedelta(minutes=module.retake_cooldown_minutes)


def _retake_at(module: TrainingModule, last: QuizAttempt | None, now: datetime) -> datetime | None:
    until = next_retake_at(last, module) if last is not None else None
    return until if until is not None and until > now else None


def attempt_questions(attempt: QuizAttempt) -> list[QuizQuestion]:
    """The attempt's questions in the order they were drawn (deleted ones left out)."""
    by_id = {q.pk: q for q in QuizQuestion.objects.filter(pk__in=attempt.question_ids)}
    return [by_id[pk] for pk in attempt.question_ids if pk in by_id]


def start_attempt(
    user_id: int,
    module: TrainingModule,
    *,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> QuizAttempt:
    """The person's unfinished attempt at ``module`` if there is one, else a new attempt with
    ``questions_per_attempt`` different questions drawn at random from the module's bank.

    Refuses with :class:`CooldownActive` (carrying the time it ends) while the cool-down
    after a failed attempt runs, and with :class:`TrainingError` without a standing for the
    module's brand or an empty bank.
    """
    now = now or timezone.now()
    rng = rng or random.SystemRandom()
    with transaction.atomic():
        locked_standing(user_id, module.brand_id)
        mine = QuizAttempt.objects.filter(user_id=user_id, module=module)
        unfinished = mine.filter(submitted_at__isnull=True).order_by("-started_at", "-pk").first()
        if unfinished is not None:
            return unfinished
        last = mine.filter(submitted_at__isnull=False).order_by("-submitted_at", "-pk").first()
        until = next_retake_at(last, module) if last is not None else None
        if until is not None and now < until:
            raise CooldownActive(until)
        bank = list(module.questions.order_by("pk").values_list("pk", flat=True))
        if not bank:
            raise TrainingError(_("This module has no quiz questions yet."))
        count = min(module.questions_per_attempt or len(bank), len(bank))
        drawn = rng.sample(bank, count)
        attempt = QuizAttempt.objects.create(
            user_id=user_id, module=module, question_ids=drawn, started_at=now
        )
        events.record(
            "training.attempt_started",
            subject_id=user_id,
            brand_id=module.brand_id,
            actor_label="system:training",
            data={"module": module.slug, "attempt": attempt.pk, "questions": drawn},
        )
    return attempt


def is_answer_right(question: QuizQuestion, chosen: Sequence[int]) -> bool:
    """Single choice: exactly the correct index and nothing else. Multiple choice: the chosen
    set equals the correct set."""
    correct = {int(i) for i in question.correct}
    if question.kind == QuestionKind.SINGLE:
        return len(chosen) == 1 and set(chosen) == correct
    return set(chosen) == correct


def _clean_answers(
    questions: Sequence[QuizQuestion], answers: Mapping[str, Sequence[int]]
) -> dict[str, list[int]]:
    by_key = {str(q.pk): q for q in questions}
    unknown = sorted(set(answers) - set(by_key))
    if unknown:
        raise TrainingError(_("Some answers are for questions that are not in this attempt."))
    cleaned: dict[str, list[int]] = {}
    for key, question in by_key.items():
        chosen = answers.get(key, [])
        if not isinstance(chosen, Sequence) or isinstance(chosen, str):
            raise TrainingError(_("An answer must be a list of choices."))
        indexes = []
        for index in chosen:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TrainingError(_("An answer must be a list of choices."))
            if not 0 <= index < len(question.choices):
                raise TrainingError(_("An answer names a choice that does not exist."))
            indexes.append(index)
        if len(set(indexes)) != len(indexes):
            raise TrainingError(_("An answer names the same choice twice."))
        cleaned[key] = sorted(indexes)
    return cleaned


def _completes_required_set(user_id: int, brand_id: int, trained_at: datetime | None) -> bool:
    """Whether every required module has a pass since the last completion (or ever, for a
    first-timer)."""
    required = set(
        TrainingModule.objects.filter(brand_id=brand_id, is_required=True).values_list(
            "pk", flat=True
        )
    )
    if not required:
        return False
    passes = QuizAttempt.objects.filter(user_id=user_id, module_id__in=required, passed=True)
    if trained_at is not None:
        passes = passes.filter(submitted_at__gt=trained_at)
    return required <= set(passes.values_list("module_id", flat=True))


def submit_attempt(
    attempt: QuizAttempt,
    answers: Mapping[str, Sequence[int]],
    *,
    now: datetime | None = None,
) -> QuizAttempt:
    """Score the attempt once. ``answers`` maps a question id (as a string) to the chosen
    choice indexes; an unanswered question counts as wrong.

    The score is the share of right answers in percent, rounded down; the attempt passes
    at or above the module's pass mark. Refuses a second submission
    (:class:`AlreadySubmitted`) and answers for questions outside the attempt, changing
    nothing. A pass that completes the required modules records the training as passed.
    """
    now = now or timezone.now()
    module = TrainingModule.objects.get(pk=attempt.module_id)
    with transaction.atomic():
        standing = locked_standing(attempt.user_id, module.brand_id)
        locked = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.submitted_at is not None:
            raise AlreadySubmitted(_("This attempt was already submitted."))
        questions = attempt_questions(locked)
        if not questions:
            raise TrainingError(_("This attempt's questions no longer exist; start again."))
        cleaned = _clean_answers(questions, answers)
        right = sum(is_answer_right(q, cleaned[str(q.pk)]) for q in questions)
        score = right * 100 // len(questions)
        locked.answers = cleaned
        locked.submitted_at = now
        locked.score_percent = score
        locked.passed = score >= module.pass_mark_percent
        locked.save(update_fields=["answers", "submitted_at", "score_percent", "passed"])
        events.record(
            "training.attempt_submitted",
            subject_id=locked.user_id,
            brand_id=module.brand_id,
            actor_label="system:training",
            to_value="passed" if locked.passed else "failed",
            data={
                "module": module.slug,
                "attempt": locked.pk,
                "score_percent": score,
                "pass_mark_percent": module.pass_mark_percent,
            },
        )
        if (
            locked.passed
            and module.is_required
            and _completes_required_set(locked.user_id, module.brand_id, standing.trained_at)
        ):
            record_training_passed(locked.user_id, module.brand_id, now=now)
    attempt.refresh_from_db()
    return attempt
