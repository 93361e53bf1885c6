"""Training actions: drawing quizzes, scoring, cool-downs, completing the required set,
practice answers and their grading."""

from __future__ import annotations

import json
import random
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from charter.linter.text import unescape_x_text
from charter.models import (
    CharterEvent,
    Level,
    PracticeAnswer,
    PracticeGrade,
    QuestionKind,
    QuizAttempt,
    QuizQuestion,
    ReviewPolicy,
    Standing,
    TrainingModule,
)
from charter.training.base import AlreadySubmitted, CooldownActive, TrainingError
from charter.training.practice import (
    draw_practice_question,
    grade_practice_answer,
    practice_answers_of,
    practice_answers_to_grade,
    practice_item,
    submit_practice_answer,
)
from charter.training.quiz import ModuleProgress, module_progress, start_attempt, submit_attempt
from helpdesk.models import AuditEvent, Brand, Question
from tests.factories import make_brand, make_module, make_standing

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _user(name: str) -> User:
    return User.objects.create_user(username=name, password="correct horse battery")


def enrolled(brand: Brand, name: str = "dana", **fields: Any) -> User:
    user = _user(name)
    make_standing(user, brand, **fields)
    return user


def right_answers(attempt: QuizAttempt) -> dict[str, list[int]]:
    questions = QuizQuestion.objects.filter(pk__in=attempt.question_ids)
    return {str(q.pk): list(q.correct) for q in questions}


def answers_with_right(attempt: QuizAttempt, n_right: int) -> dict[str, list[int]]:
    """The first ``n_right`` of the attempt's questions answered right, the rest wrong."""
    by_id = {q.pk: q for q in QuizQuestion.objects.filter(pk__in=attempt.question_ids)}
    answers = {}
    for position, pk in enumerate(attempt.question_ids):
        question = by_id[pk]
        answers[str(pk)] = list(question.correct) if position < n_right else [3]
    return answers


def pass_module(user: User, module: TrainingModule) -> QuizAttempt:
    attempt = start_attempt(user.pk, module)
    return submit_attempt(attempt, right_answers(attempt))


def trained_events(user: User) -> list[CharterEvent]:
    return list(CharterEvent.objects.filter(kind="standing.trained", subject=user).order_by("pk"))


def test_each_attempt_draws_different_questions_from_its_own_module_only(brand: Brand) -> None:
    # Given two modules of eight questions each
    user = enrolled(brand)
    module = make_module(brand, n_questions=8, questions_per_attempt=5)
    other = make_module(brand, n_questions=8)
    bank = set(module.questions.values_list("pk", flat=True))
    seen: set[int] = set()

    for seed in range(25):
        # When the person takes the quiz again and again (passing, so no cool-down)
        attempt = start_attempt(user.pk, module, rng=random.Random(seed))
        submit_attempt(attempt, right_answers(attempt))

        # Then each draw has five different questions of that module's bank
        assert len(attempt.question_ids) == 5
        assert len(set(attempt.question_ids)) == 5
        assert set(attempt.question_ids) <= bank
        seen |= set(attempt.question_ids)

    # And over many draws the whole bank comes up, never the other module's questions
    assert seen == bank
    assert not seen & set(other.questions.values_list("pk", flat=True))


def test_a_small_bank_is_drawn_whole_and_the_system_random_is_the_default(brand: Brand) -> None:
    user = enrolled(brand)
    module = make_module(brand, n_questions=3, questions_per_attempt=5)

    attempt = start_attempt(user.pk, module)

    assert sorted(attempt.question_ids) == sorted(module.questions.values_list("pk", flat=True))


def test_an_unfinished_attempt_is_resumed_not_redrawn(brand: Brand) -> None:
    user = enrolled(brand)
    module = make_module(brand)
    first = start_attempt(user.pk, module, rng=random.Random(1))

    again = start_attempt(user.pk, module, rng=random.Random(2))

    assert again.pk == first.pk
    assert again.question_ids == first.question_ids
    assert QuizAttempt.objects.count() == 1
    assert CharterEvent.objects.filter(kind="training.attempt_started").count() == 1


def test_without_a_standing_nobody_starts_a_quiz(brand: Brand) -> None:
    user = _user("outsider")
    module = make_module(brand)

    with pytest.raises(TrainingError):
        start_attempt(user.pk, module)

    assert QuizAttempt.objects.count() == 0
    assert CharterEvent.objects.count() == 0


def test_an_empty_bank_cannot_be_drawn(brand: Brand) -> None:
    user = enrolled(brand)
    module = make_module(brand, n_questions=0)

    with pytest.raises(TrainingError):
        start_attempt(user.pk, module)

    assert QuizAttempt.objects.count() == 0


SCORING = [
    # (single-choice answer, multiple-choice answer, score): right are [0] and [0, 2]
    ([0], [0, 2], 100),
    ([0], [2, 0], 100),
    ([0, 1], [0, 2], 50),
    ([1], [0, 2], 50),
    ([], [0, 2], 50),
    ([0], [0], 50),
    ([0], [0, 1, 2], 50),
    ([0], [], 50),
    ([2], [2], 0),
]


@pytest.mark.parametrize(("single", "multiple", "score"), SCORING)
def test_single_and_multiple_choice_are_right_only_when_exact(
    brand: Brand, single: list[int], multiple: list[int], score: int
) -> None:
    # Given an attempt with one single-choice and one multiple-choice question
    user = enrolled(brand)
    module = make_module(brand, n_questions=2, questions_per_attempt=2, pass_mark_percent=100)
    attempt = start_attempt(user.pk, module)
    by_kind = {q.kind: q for q in QuizQuestion.objects.filter(module=module)}

    # When it is submitted
    submit_attempt(
        attempt,
        {
            str(by_kind[QuestionKind.SINGLE].pk): single,
            str(by_kind[QuestionKind.MULTIPLE].pk): multiple,
        },
    )

    # Then the score counts exactly-right answers only
    attempt.refresh_from_db()
    assert attempt.score_percent == score
    assert attempt.passed is (score == 100)


BOUNDARY = [
    # (questions, right, pass mark, score, passed)
    (5, 4, 80, 80, True),
    (5, 4, 81, 80, False),
    (3, 2, 66, 66, True),  # 66.67 rounds down to 66
    (3, 2, 67, 66, False),
    (5, 5, 100, 100, True),
    (5, 0, 1, 0, False),
]


@pytest.mark.parametrize(("questions", "right", "mark", "score", "passed"), BOUNDARY)
def test_the_pass_mark_is_inclusive_and_scores_round_down(
    brand: Brand, questions: int, right: int, mark: int, score: int, passed: bool
) -> None:
    user = enrolled(brand)
    module = make_module(
        brand, n_questions=questions, questions_per_attempt=questions, pass_mark_percent=mark
    )
    attempt = start_attempt(user.pk, module)

    result = submit_attempt(attempt, answers_with_right(attempt, right))

    assert result.score_percent == score
    assert result.passed is passed
    event = CharterEvent.objects.get(kind="training.attempt_submitted")
    assert event.to_value == ("passed" if passed else "failed")
    assert event.data == {
        "module": module.slug,
        "attempt": attempt.pk,
        "score_percent": score,
        "pass_mark_percent": mark,
    }
    json.dumps(event.data)


def test_a_retake_waits_for_the_cooldown_and_is_allowed_the_instant_it_ends(
    brand: Brand, time_machine: time_machine.TimeMachineFixture
) -> None:
    # Given a failed attempt submitted at NOW, with a 60-minute cool-down
    time_machine.move_to(NOW, tick=False)
    user = enrolled(brand)
    module = make_module(brand, retake_cooldown_minutes=60)
    failed = start_attempt(user.pk, module)
    submit_attempt(failed, answers_with_right(failed, 0))
    ends = NOW + timedelta(minutes=60)

    # When a retake is asked a second before the end
    time_machine.move_to(ends - timedelta(seconds=1), tick=False)
    with pytest.raises(CooldownActive) as refused:
        start_attempt(user.pk, module)

    # Then it is refused with the time the cool-down ends, and nothing was created
    assert refused.value.until == ends
    assert QuizAttempt.objects.count() == 1
    progress = module_progress(user.pk, brand.pk)
    assert progress[0].retake_at == ends

    # And at the very instant it ends, the retake starts
    time_machine.move_to(ends, tick=False)
    retake = start_attempt(user.pk, module)
    assert retake.pk != failed.pk
    assert retake.started_at == ends
    assert module_progress(user.pk, brand.pk)[0].retake_at is None


def test_a_pass_has_no_cooldown(brand: Brand) -> None:
    user = enrolled(brand)
    module = make_module(brand, retake_cooldown_minutes=60)
    first = pass_module(user, module)

    again = start_attempt(user.pk, module)

    assert again.pk != first.pk


def test_a_submitted_attempt_cannot_be_resubmitted_and_nothing_changes(brand: Brand) -> None:
    # Given a failed, submitted attempt
    user = enrolled(brand)
    module = make_module(brand)
    attempt = start_attempt(user.pk, module)
    submit_attempt(attempt, answers_with_right(attempt, 0))
    before = QuizAttempt.objects.values().get(pk=attempt.pk)
    events_before = CharterEvent.objects.count()

    # When it is submitted again, all right this time
    with pytest.raises(AlreadySubmitted):
        submit_attempt(attempt, right_answers(attempt))

    # Then nothing changed
    assert QuizAttempt.objects.values().get(pk=attempt.pk) == before
    assert CharterEvent.objects.count() == events_before
    assert Standing.objects.get(user=user).level == Level.ENROLLED


@pytest.mark.parametrize(
    "bad",
    ["foreign-question", "unknown-id", "index-out-of-range", "negative-index", "duplicate"],
)
def test_answers_outside_the_attempt_are_refused_and_nothing_changes(
    brand: Brand, bad: str
) -> None:
    user = enrolled(brand)
    module = make_module(brand)
    other = make_module(brand)
    attempt = start_attempt(user.pk, module)
    answers = right_answers(attempt)
    first = str(attempt.question_ids[0])
    if bad == "foreign-question":
        answers[str(other.questions.values_list("pk", flat=True)[0])] = [0]
    elif bad == "unknown-id":
        answers["999999"] = [0]
    elif bad == "index-out-of-range":
        answers[first] = [4]
    elif bad == "negative-index":
        answers[first] = [-1]
    else:
        answers[first] = [0, 0]
    events_before = CharterEvent.objects.count()

    with pytest.raises(TrainingError):
        submit_attempt(attempt, answers)

    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert attempt.score_percent is None
    assert attempt.passed is None
    assert attempt.answers == {}
    assert CharterEvent.objects.count() == events_before


def test_passing_the_last_required_module_makes_a_trainee_exactly_once(
    brand: Brand, time_machine: time_machine.TimeMachineFixture
) -> None:
    # Given two required modules and an optional one, and a 30-day validity
    time_machine.move_to(NOW, tick=False)
    ReviewPolicy.objects.create(brand=brand, certification_valid_days=30)
    user = enrolled(brand)
    first = make_module(brand)
    last = make_module(brand)
    optional = make_module(brand, is_required=False)

    # When the first required and the optional modules are passed
    pass_module(user, first)
    pass_module(user, optional)

    # Then the person is still enrolled
    standing = Standing.objects.get(user=user)
    assert standing.level == Level.ENROLLED
    assert standing.trained_at is None
    assert trained_events(user) == []

    # When the last required module is passed
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    pass_module(user, last)

    # Then they are a trainee, trained now, valid for the policy's 30 days
    standing.refresh_from_db()
    assert standing.level == Level.TRAINEE
    assert standing.trained_at == NOW + timedelta(hours=2)
    assert standing.training_expires_at == NOW + timedelta(hours=2, days=30)
    events = trained_events(user)
    assert [(e.from_value, e.to_value) for e in events] == [(Level.ENROLLED, Level.TRAINEE)]

    # And passing one module again afterwards records nothing more (only passing every
    # required module again is a refresher)
    time_machine.move_to(NOW + timedelta(hours=3), tick=False)
    pass_module(user, first)
    pass_module(user, optional)
    standing.refresh_from_db()
    assert standing.trained_at == NOW + timedelta(hours=2)
    assert len(trained_events(user)) == 1


def test_the_default_validity_is_a_year(brand: Brand, time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    user = enrolled(brand)
    module = make_module(brand)

    pass_module(user, module)

    standing = Standing.objects.get(user=user)
    assert standing.training_expires_at == NOW + timedelta(days=365)


def test_an_expired_person_renews_by_passing_every_required_module_again(
    brand: Brand, time_machine: time_machine.TimeMachineFixture
) -> None:
    # Given a certified person who passed both required modules a year and more ago
    time_machine.move_to(NOW - timedelta(days=400), tick=False)
    user = enrolled(brand)
    first = make_module(brand)
    second = make_module(brand)
    pass_module(user, first)
    pass_module(user, second)
    Standing.objects.filter(user=user).update(level=Level.CERTIFIED)
    trained_at = NOW - timedelta(days=400)
    assert Standing.objects.get(user=user).training_expires_at == trained_at + timedelta(days=365)

    # When, after expiry, they pass one module again
    time_machine.move_to(NOW, tick=False)
    pass_module(user, first)

    # Then the training is still expired: the old pass of the other module does not count
    standing = Standing.objects.get(user=user)
    assert standing.trained_at == trained_at
    progress = {p.module.pk: p for p in module_progress(user.pk, brand.pk)}
    assert progress[first.pk].passed_since_trained is True
    assert progress[second.pk].passed_since_trained is False
    assert progress[second.pk].passed is True

    # When they pass the other one again too
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    pass_module(user, second)

    # Then the training is renewed from now, and the level is kept
    standing.refresh_from_db()
    assert standing.level == Level.CERTIFIED
    assert standing.trained_at == NOW + timedelta(minutes=5)
    assert standing.training_expires_at == NOW + timedelta(minutes=5, days=365)
    events = trained_events(user)
    assert [(e.from_value, e.to_value) for e in events] == [
        (Level.ENROLLED, Level.TRAINEE),
        (Level.CERTIFIED, Level.CERTIFIED),
    ]


def _at_once(action: Callable[[], str], times: int = 2) -> list[str]:
    """Run ``action`` in ``times`` threads released together; their outcomes, sorted."""
    barrier = threading.Barrier(times)
    outcomes: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            outcomes.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_starts_at_once_give_one_attempt() -> None:
    brand = make_brand()
    user = enrolled(brand)
    module = make_module(brand)

    outcomes = _at_once(lambda: str(start_attempt(user.pk, module).pk))

    attempt = QuizAttempt.objects.get()
    assert outcomes == [str(attempt.pk)] * 2
    assert CharterEvent.objects.filter(kind="training.attempt_started").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_score_the_attempt_once() -> None:
    # Given the last required module's attempt, all right
    brand = make_brand()
    user = enrolled(brand)
    module = make_module(brand)
    attempt = start_attempt(user.pk, module)
    answers = right_answers(attempt)

    def submit() -> str:
        try:
            submit_attempt(QuizAttempt.objects.get(pk=attempt.pk), answers)
        except AlreadySubmitted:
            return "refused"
        return "scored"

    # When it is submitted twice at the same moment
    outcomes = _at_once(submit)

    # Then one submission scores it and completes the training, once
    assert outcomes == ["refused", "scored"]
    assert CharterEvent.objects.filter(kind="training.attempt_submitted").count() == 1
    assert CharterEvent.objects.filter(kind="standing.trained").count() == 1
    assert Standing.objects.get(user=user).level == Level.TRAINEE


def test_module_progress_reports_best_score_last_attempt_and_open_attempt(
    brand: Brand, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)
    user = enrolled(brand)
    module = make_module(brand, retake_cooldown_minutes=0)
    untouched = make_module(brand)
    good = start_attempt(user.pk, module)
    submit_attempt(good, answers_with_right(good, 4))
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    bad = start_attempt(user.pk, module)
    submit_attempt(bad, answers_with_right(bad, 1))
    time_machine.move_to(NOW + timedelta(minutes=2), tick=False)
    open_attempt = start_attempt(user.pk, module)

    progress = module_progress(user.pk, brand.pk)

    assert [p.module.pk for p in progress] == [module.pk, untouched.pk]
    mine, other = progress
    assert mine.passed is True
    assert mine.passed_since_trained is None
    assert mine.best_score == 80
    assert mine.last_attempt is not None and mine.last_attempt.pk == bad.pk
    assert mine.open_attempt is not None and mine.open_attempt.pk == open_attempt.pk
    assert mine.retake_at is None
    assert other == ModuleProgress(other.module, False, None, None, None, None, None)


# --- practice ----------------------------------------------------------------------------


def _corpus() -> list[dict[str, Any]]:
    path = settings.BASE_DIR / "helpdesk/x/sandbox/data/twitter-care-dev.json"
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_an_english_practice_question_is_a_real_first_message_with_the_real_reply(
    brand: Brand,
) -> None:
    corpus = _corpus()
    for seed in range(20):
        item = draw_practice_question(brand.pk, "en", random.Random(seed))

        dialog = corpus[int(item.key.removeprefix("en-"))]
        turns = dialog["dialogContent"]
        agent_turns = [t["message"] for t in turns if "agent" in t]
        assert item.language == "en"
        # The corpus was recorded from X: its text carries X's escapes, undone once here.
        assert item.question_text == unescape_x_text(turns[0]["message"])
        assert "client" in turns[0]
        expected = agent_turns[0] if agent_turns else dialog["agentURL"]["url_utterance"]
        assert item.reference_answer == unescape_x_text(expected)
        assert item.company == dialog["dialogHeader"]["company"]
        assert practice_item(item.key) == item


def test_a_french_practice_question_has_no_reference_and_no_placeholder(brand: Brand) -> None:
    items = {
        draw_practice_question(brand.pk, "fr-CA", random.Random(seed)).key for seed in range(10)
    }
    for key in items:
        item = practice_item(key)
        assert item is not None
        assert item.language == "fr"
        assert item.reference_answer == ""
        assert "{handle}" not in item.question_text
        assert item.question_text == item.question_text.strip()
    assert practice_item("fr-99999") is None
    assert practice_item("xx-1") is None


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records (and refuses) any attempt to open a connection or send an HTTP request."""
    tried: list[str] = []

    def refuse_connect(self: socket.socket, address: Any) -> None:
        tried.append(f"socket.connect {address!r}")
        raise OSError("network refused in this test")

    def refuse_send(self: requests.Session, request: Any, **kwargs: Any) -> None:
        tried.append(f"requests {request.method} {request.url}")
        raise requests.ConnectionError("network refused in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(requests.Session, "send", refuse_send)
    return tried


def test_practice_is_stored_and_graded_without_ever_touching_x(
    brand: Brand, no_network: list[str], settings: Any
) -> None:
    # Given no X sandbox and no network at all
    settings.X_API_BASE_URL = ""
    trainee = enrolled(brand, "trainee")
    supervisor = _user("sam")
    item = draw_practice_question(brand.pk, "en", random.Random(3))
    questions_before = Question.objects.count()
    audit_before = AuditEvent.objects.count()

    # When a practice answer is submitted and graded
    answer = submit_practice_answer(
        trainee.pk, brand.pk, item.question_text, item.reference_answer, "  Sorry! DM us. ^DT "
    )
    grade_practice_answer(answer, grade=PracticeGrade.PASS, feedback="", by_user=supervisor)

    # Then it is stored and graded, and nothing tried the network or touched the desk
    answer.refresh_from_db()
    assert answer.answer_text == "Sorry! DM us. ^DT"
    assert answer.question_text == item.question_text
    assert answer.reference_answer == item.reference_answer
    assert answer.grade == PracticeGrade.PASS
    assert answer.graded_by == supervisor
    assert no_network == []
    assert Question.objects.count() == questions_before
    assert AuditEvent.objects.count() == audit_before
    kinds = list(CharterEvent.objects.order_by("pk").values_list("kind", "actor", "to_value"))
    assert kinds == [
        ("practice.submitted", None, PracticeGrade.PENDING),
        ("practice.graded", supervisor.pk, PracticeGrade.PASS),
    ]


@pytest.mark.parametrize(
    ("answer_text", "standing"),
    [("", True), ("   ", True), ("x" * 1001, True), ("A fine answer", False)],
    ids=["empty", "blank", "too-long", "no-standing"],
)
def test_a_practice_answer_needs_text_and_a_standing(
    brand: Brand, answer_text: str, standing: bool
) -> None:
    user = enrolled(brand) if standing else _user("outsider")

    with pytest.raises(TrainingError):
        submit_practice_answer(user.pk, brand.pk, "Question?", "", answer_text)

    assert PracticeAnswer.objects.count() == 0
    assert CharterEvent.objects.count() == 0


def _pending(brand: Brand) -> tuple[PracticeAnswer, User]:
    trainee = enrolled(brand, "trainee")
    answer = submit_practice_answer(trainee.pk, brand.pk, "Q?", "Ref.", "My reply")
    return answer, _user("grader")


def test_a_fail_needs_feedback(brand: Brand) -> None:
    answer, grader = _pending(brand)

    with pytest.raises(TrainingError):
        grade_practice_answer(answer, grade=PracticeGrade.FAIL, feedback="  ", by_user=grader)

    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.PENDING
    assert answer.graded_by is None

    grade_practice_answer(
        answer,
        grade=PracticeGrade.FAIL,
        feedback=" Ask for the order number by DM. ",
        by_user=grader,
    )
    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.FAIL
    assert answer.feedback == "Ask for the order number by DM."
    assert answer.graded_at is not None


def test_a_graded_answer_keeps_its_grade(brand: Brand) -> None:
    answer, grader = _pending(brand)
    grade_practice_answer(answer, grade=PracticeGrade.PASS, feedback="", by_user=grader)
    before = PracticeAnswer.objects.values().get(pk=answer.pk)
    events_before = CharterEvent.objects.count()

    with pytest.raises(TrainingError):
        grade_practice_answer(
            answer, grade=PracticeGrade.FAIL, feedback="Changed my mind", by_user=_user("other")
        )

    assert PracticeAnswer.objects.values().get(pk=answer.pk) == before
    assert CharterEvent.objects.count() == events_before


@pytest.mark.parametrize("grade", [PracticeGrade.PENDING.value, "excellent", ""])
def test_only_pass_or_fail_is_a_grade(brand: Brand, grade: str) -> None:
    answer, grader = _pending(brand)

    with pytest.raises(TrainingError):
        grade_practice_answer(answer, grade=grade, feedback="Fine", by_user=grader)

    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.PENDING


def test_nobody_grades_their_own_answer(brand: Brand) -> None:
    answer, _grader = _pending(brand)

    with pytest.raises(TrainingError):
        grade_practice_answer(answer, grade=PracticeGrade.PASS, feedback="", by_user=answer.user)

    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.PENDING


def test_practice_queries_keep_to_the_brand(brand: Brand) -> None:
    other = make_brand()
    mine, _grader = _pending(brand)
    stranger = enrolled(other, "stranger")
    theirs = submit_practice_answer(stranger.pk, other.pk, "Q?", "", "Reply")

    assert list(practice_answers_to_grade(brand.pk)) == [mine]
    assert list(practice_answers_to_grade(other.pk)) == [theirs]
    assert list(practice_answers_of(mine.user_id, brand.pk)) == [mine]
    assert list(practice_answers_of(mine.user_id, other.pk)) == []


def test_practice_questions_read_as_the_customer_wrote_them() -> None:
    """The corpus was recorded from X, which sends ``&``, ``<`` and ``>`` escaped: practice
    shows the text once unescaped, as the desk's own questions are (issue 11, finding 7)."""
    from charter.training.practice import practice_corpus

    english = practice_corpus()["en"]
    texts = [item.question_text + item.reference_answer for item in english]

    assert not any("&amp;" in text or "&lt;" in text or "&gt;" in text for text in texts)
    assert any("&" in text for text in texts)
