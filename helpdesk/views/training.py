"""Training pages: modules and their quizzes, the practice round, and grading practice.

Who may use them, checked here on every request:

- taking training (modules, quizzes, practice): volunteers, supervisors and admins who have
  a standing in their brand's programme (suspended people too: they may keep learning;
  the gate still refuses them). Agency staff and people without a standing get 403.
- grading practice answers: supervisors and admins, for their own brand's answers only.

An object (module, attempt, practice answer) outside what the person may see is a 404.
Nothing here talks to X: practice answers are stored for grading, never posted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from charter.models import (
    PracticeAnswer,
    QuizAttempt,
    QuizQuestion,
    Standing,
    TrainingModule,
)
from charter.standing import standing_for
from charter.training.base import AlreadySubmitted, TrainingError
from charter.training.practice import (
    PracticeItem,
    draw_practice_question,
    grade_practice_answer,
    practice_answers_of,
    practice_answers_to_grade,
    practice_item,
    practice_language,
    submit_practice_answer,
)
from charter.training.quiz import (
    attempt_questions,
    is_answer_right,
    module_progress,
    next_retake_at,
    start_attempt,
    submit_attempt,
)
from helpdesk.forms.training import GradeForm, PracticeForm, QuizForm
from helpdesk.markup import render_markdown
from helpdesk.models import Volunteer
from helpdesk.permissions import SUPERVISING_ROLES
from helpdesk.views.access import require_member, require_supervisor

PRACTICE_LANGUAGES = (("en", gettext_lazy("English")), ("fr", gettext_lazy("French")))


def _is_web_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


# --- who may see what --------------------------------------------------------------------


@dataclass(frozen=True)
class Learner:
    volunteer: Volunteer
    standing: Standing

    @property
    def brand_id(self) -> int:
        return self.volunteer.brand_id

    @property
    def user_id(self) -> int:
        return self.volunteer.user_id


def _learner(request: HttpRequest) -> Learner:
    """The requester as someone who takes training; PermissionDenied otherwise."""
    volunteer = require_member(request)
    standing = standing_for(volunteer.user_id, volunteer.brand_id)
    if standing is None:
        raise PermissionDenied(gettext("Training opens once your enrolment is confirmed."))
    return Learner(volunteer, standing)


def _module_for(learner: Learner, slug: str) -> TrainingModule:
    return get_object_or_404(TrainingModule, brand_id=learner.brand_id, slug=slug)


def _attempt_for(learner: Learner, attempt_id: int) -> QuizAttempt:
    return get_object_or_404(
        QuizAttempt.objects.select_related("module"),
        pk=attempt_id,
        user_id=learner.user_id,
        module__brand_id=learner.brand_id,
    )


def _answer_to_grade(supervisor: Volunteer, answer_id: int) -> PracticeAnswer:
    """A practice answer of the supervisor's brand, not their own."""
    return get_object_or_404(
        PracticeAnswer.objects.select_related("user").exclude(user_id=supervisor.user_id),
        pk=answer_id,
        brand_id=supervisor.brand_id,
    )


# --- modules and quizzes -----------------------------------------------------------------


@login_required
@require_GET
def modules(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    progress = module_progress(learner.user_id, learner.brand_id)
    return render(
        request,
        "training/modules.html",
        {
            "learner": learner,
            "standing": learner.standing,
            "progress": progress,
            "may_grade": learner.volunteer.role in SUPERVISING_ROLES,
            "now": timezone.now(),
        },
    )


def _module_context(learner: Learner, module: TrainingModule) -> dict[str, Any]:
    progress = next(
        p for p in module_progress(learner.user_id, learner.brand_id) if p.module.pk == module.pk
    )
    return {
        "learner": learner,
        "standing": learner.standing,
        "module": module,
        "content": render_markdown(module.content),
        "video_url": module.video_url if _is_web_link(module.video_url) else "",
        "progress": progress,
        "question_count": module.questions.count(),
    }


@login_required
@require_GET
def module_page(request: HttpRequest, slug: str) -> HttpResponse:
    learner = _learner(request)
    module = _module_for(learner, slug)
    return render(request, "training/module.html", _module_context(learner, module))


@login_required
@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    learner = _learner(request)
    module = _module_for(learner, slug)
    try:
        attempt = start_attempt(learner.user_id, module)
    except TrainingError as error:
        context = _module_context(learner, module)
        context["error"] = str(error)
        return render(request, "training/module.html", context, status=409)
    return redirect("training:attempt", attempt_id=attempt.pk)


@login_required
@require_http_methods(["GET", "POST"])
def attempt_page(request: HttpRequest, attempt_id: int) -> HttpResponse:
    learner = _learner(request)
    attempt = _attempt_for(learner, attempt_id)
    result_url = reverse("training:result", kwargs={"attempt_id": attempt.pk})
    if attempt.submitted_at is not None:
        return HttpResponseRedirect(result_url)
    questions = attempt_questions(attempt)
    form = QuizForm(questions, request.POST if request.method == "POST" else None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            submit_attempt(attempt, form.answers())
        except AlreadySubmitted:
            return HttpResponseRedirect(result_url)
        except TrainingError as failure:
            error = str(failure)
        else:
            return HttpResponseRedirect(result_url)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "training/attempt.html",
        {"attempt": attempt, "module": attempt.module, "form": form, "error": error},
        status=status,
    )


@dataclass(frozen=True)
class ReviewedQuestion:
    number: int
    question: QuizQuestion
    chosen: list[str]
    is_right: bool


@login_required
@require_GET
def result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    learner = _learner(request)
    attempt = _attempt_for(learner, attempt_id)
    if attempt.submitted_at is None:
        return redirect("training:attempt", attempt_id=attempt.pk)
    reviewed = []
    for number, question in enumerate(attempt_questions(attempt), 1):
        chosen = [int(i) for i in attempt.answers.get(str(question.pk), [])]
        reviewed.append(
            ReviewedQuestion(
                number=number,
                question=question,
                chosen=[question.choices[i] for i in chosen if 0 <= i < len(question.choices)],
                is_right=is_answer_right(question, chosen),
            )
        )
    standing = learner.standing
    retake_at = next_retake_at(attempt, attempt.module)
    now = timezone.now()
    return render(
        request,
        "training/result.html",
        {
            "attempt": attempt,
            "module": attempt.module,
            "reviewed": reviewed,
            "wrong": [r for r in reviewed if not r.is_right],
            "retake_at": retake_at if retake_at is not None and retake_at > now else None,
            "completed_training": (
                standing.trained_at is not None and standing.trained_at == attempt.submitted_at
            ),
            "standing": standing,
        },
    )


# --- practice ----------------------------------------------------------------------------


def _practice_language(request: HttpRequest, volunteer: Volunteer) -> str:
    asked = request.GET.get("lang", "")
    if asked in dict(PRACTICE_LANGUAGES):
        return asked
    spoken = [str(language) for language in volunteer.languages or []]
    return practice_language(spoken[0]) if spoken else "en"


def _render_practice(
    request: HttpRequest,
    learner: Learner,
    item: PracticeItem,
    form: PracticeForm,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "training/practice.html",
        {
            "error": error,
            "learner": learner,
            "item": item,
            "form": form,
            "languages": PRACTICE_LANGUAGES,
            "may_grade": learner.volunteer.role in SUPERVISING_ROLES,
            "answers": practice_answers_of(learner.user_id, learner.brand_id)[:50],
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def practice(request: HttpRequest) -> HttpResponse:
    learner = _learner(request)
    if request.method == "POST":
        return _submit_practice(request, learner)
    language = _practice_language(request, learner.volunteer)
    drawn = draw_practice_question(learner.brand_id, language, random.SystemRandom())
    return _render_practice(request, learner, drawn, PracticeForm(initial={"key": drawn.key}))


def _submit_practice(request: HttpRequest, learner: Learner) -> HttpResponse:
    form = PracticeForm(request.POST)
    if form.is_valid():
        item: PracticeItem = form.cleaned_data["key"]
        try:
            submit_practice_answer(
                learner.user_id,
                learner.brand_id,
                item.question_text,
                item.reference_answer,
                form.cleaned_data["answer"],
            )
        except TrainingError as refusal:
            form.add_error("answer", str(refusal))
        else:
            messages.success(request, gettext("Your answer was saved. A supervisor will grade it."))
            return redirect(f"{reverse('training:practice')}?lang={item.language}")
    shown = practice_item(request.POST.get("key", ""))
    if shown is not None:
        return _render_practice(request, learner, shown, form, status=400)
    # The key was tampered with: a fresh question, the reply kept.
    language = _practice_language(request, learner.volunteer)
    shown = draw_practice_question(learner.brand_id, language, random.SystemRandom())
    fresh = PracticeForm(initial={"key": shown.key, "answer": request.POST.get("answer", "")})
    problem = gettext("That practice question does not exist; here is another one.")
    return _render_practice(request, learner, shown, fresh, error=problem, status=400)


@dataclass
class GradingRow:
    answer: PracticeAnswer
    form: GradeForm


def _render_grading(
    request: HttpRequest,
    supervisor: Volunteer,
    *,
    failed: GradingRow | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    pending = practice_answers_to_grade(supervisor.brand_id).exclude(user_id=supervisor.user_id)
    rows = [
        failed
        if failed is not None and failed.answer.pk == answer.pk
        else GradingRow(answer, GradeForm(prefix=f"a{answer.pk}"))
        for answer in pending[:100]
    ]
    return render(
        request,
        "training/grading.html",
        {"rows": rows, "total": pending.count(), "error": error},
        status=status,
    )


@login_required
@require_GET
def grading(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    return _render_grading(request, supervisor)


@login_required
@require_POST
def grade(request: HttpRequest, answer_id: int) -> HttpResponse:
    supervisor = require_supervisor(request)
    answer = _answer_to_grade(supervisor, answer_id)
    form = GradeForm(request.POST, prefix=f"a{answer.pk}")
    if form.is_valid():
        try:
            grade_practice_answer(
                answer,
                grade=form.cleaned_data["grade"],
                feedback=form.cleaned_data["feedback"],
                by_user=supervisor.user,
            )
        except TrainingError as error:
            return _render_grading(request, supervisor, error=str(error), status=409)
        messages.success(request, gettext("The practice answer was graded."))
        return redirect("training:grading")
    return _render_grading(request, supervisor, failed=GradingRow(answer, form), status=400)


app_name = "training"
urlpatterns = [
    path("", modules, name="modules"),
    path("modules/<slug:slug>/", module_page, name="module"),
    path("modules/<slug:slug>/start/", start, name="start"),
    path("attempts/<int:attempt_id>/", attempt_page, name="attempt"),
    path("attempts/<int:attempt_id>/result/", result, name="result"),
    path("practice/", practice, name="practice"),
    path("practice/grade/", grading, name="grading"),
    path("practice/grade/<int:answer_id>/", grade, name="grade"),
]
