"""Training pages for every role (DESIGN invariant 8): modules, the quiz, practice and grading;
hostile module content comes out escaped (invariant 6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from charter.models import (
    CharterEvent,
    Level,
    PracticeAnswer,
    PracticeGrade,
    QuizAttempt,
    QuizQuestion,
    Standing,
    TrainingModule,
)
from charter.training.practice import practice_item, submit_practice_answer
from charter.training.quiz import start_attempt
from helpdesk.models import Brand
from tests.factories import make_brand, make_module, make_standing, make_volunteer
from tests.people import People, log_in

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)

LEARNING_ACCESS = [
    ("anonymous", 302),
    ("no-desk-record", 403),
    ("agency", 403),
    ("volunteer-without-standing", 403),
    ("untrained", 200),
    ("trainee", 200),
    ("certified", 200),
    ("mentor", 200),
    ("suspended", 200),
    ("supervisor", 200),
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), LEARNING_ACCESS, ids=[w for w, _ in LEARNING_ACCESS])
@pytest.mark.parametrize("page", ["modules", "module", "practice"])
def test_training_pages_open_to_people_with_a_standing_only(
    client: Client, who: str, status: int, page: str
) -> None:
    # Given a brand with a module
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand, title="The usage charter")
    people.log_in(client, who)
    url = {
        "modules": "/training/",
        "module": f"/training/modules/{module.slug}/",
        "practice": "/training/practice/",
    }[page]

    # When they open the page
    response = client.get(url)

    # Then only people with a standing see it, and nobody changed anything by looking
    assert response.status_code == status
    content = response.content.decode()
    if status == 302:
        assert response["Location"] == f"/accounts/login/?next={url}"
    if status == 200:
        assert '<html lang="en">' in content
        assert re.search(r"<title>[^<]+ · Helpforce</title>", content)
    if page != "practice":
        assert ("The usage charter" in content) is (status == 200)
    assert QuizAttempt.objects.count() == 0
    assert PracticeAnswer.objects.count() == 0
    assert CharterEvent.objects.count() == 0


@pytest.mark.parametrize(("who", "status"), LEARNING_ACCESS, ids=[w for w, _ in LEARNING_ACCESS])
def test_starting_a_quiz_is_for_people_with_a_standing_only(
    client: Client, who: str, status: int
) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand)
    user = people.user(who)
    log_in(client, user)

    response = client.post(f"/training/modules/{module.slug}/start/")

    if status == 200:
        attempt = QuizAttempt.objects.get()
        assert attempt.user == user
        assert response.status_code == 302
        assert response["Location"] == f"/training/attempts/{attempt.pk}/"
    else:
        assert response.status_code == status
        assert QuizAttempt.objects.count() == 0
        assert CharterEvent.objects.count() == 0


GRADING_ACCESS = [
    ("anonymous", 302),
    ("no-desk-record", 403),
    ("agency", 403),
    ("volunteer-without-standing", 403),
    ("untrained", 403),
    ("trainee", 403),
    ("certified", 403),
    ("mentor", 403),
    ("suspended", 403),
    ("supervisor", 200),
    ("admin", 200),
]


@pytest.mark.parametrize(("who", "status"), GRADING_ACCESS, ids=[w for w, _ in GRADING_ACCESS])
def test_grading_is_for_supervisors_and_admins(client: Client, who: str, status: int) -> None:
    # Given a pending practice answer of the brand
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    answer = submit_practice(brand, "trainee-x", "Sorry to hear that, DM us. ^TX")
    people.log_in(client, who)

    # When they open the grading page, and try to grade
    page = client.get("/training/practice/grade/")
    posted = client.post(
        f"/training/practice/grade/{answer.pk}/",
        {f"a{answer.pk}-grade": "pass", f"a{answer.pk}-feedback": ""},
    )

    # Then only supervisors and admins see the answer and grade it
    assert page.status_code == status
    assert ("Sorry to hear that, DM us." in page.content.decode()) is (status == 200)
    answer.refresh_from_db()
    if status == 200:
        assert posted.status_code == 302
        assert answer.grade == PracticeGrade.PASS
    else:
        assert posted.status_code == status
        assert answer.grade == PracticeGrade.PENDING
        assert answer.graded_by is None


def submit_practice(brand: Brand, username: str, text: str) -> PracticeAnswer:
    volunteer = make_volunteer(brand, username=username)
    make_standing(volunteer.user, brand, level=Level.TRAINEE)
    return submit_practice_answer(
        volunteer.user_id, brand.pk, "@Brand where is my order?", "We're on it!", text
    )


def field_values(page: str) -> dict[str, list[str]]:
    """Each quiz field's offered values, by field name."""
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(
        r'<input type="(?:radio|checkbox)" name="(q\d+)" value="(\d+)"', page
    ):
        fields.setdefault(name, []).append(value)
    return fields


def test_a_whole_quiz_through_the_pages_makes_an_enrolled_person_a_trainee(
    client: Client, time_machine: time_machine.TimeMachineFixture
) -> None:
    # Given an enrolled volunteer and a brand with one required module of eight questions
    time_machine.move_to(NOW, tick=False)
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand, n_questions=8, questions_per_attempt=5, title="Answering on X")
    user = people.user("untrained")
    log_in(client, user)
    assert user is not None

    # When they read the module and start the quiz
    assert client.get(f"/training/modules/{module.slug}/").status_code == 200
    started = client.post(f"/training/modules/{module.slug}/start/")
    attempt = QuizAttempt.objects.get(user=user)
    assert started["Location"] == f"/training/attempts/{attempt.pk}/"
    quiz = client.get(started["Location"]).content.decode()

    # Then the page asks the five drawn questions, radios for single and boxes for multiple
    offered = field_values(quiz)
    assert sorted(offered) == sorted(f"q{pk}" for pk in attempt.question_ids)
    assert all(values == ["0", "1", "2", "3"] for values in offered.values())
    for question in QuizQuestion.objects.filter(pk__in=attempt.question_ids):
        kind = "radio" if question.kind == "single" else "checkbox"
        assert f'type="{kind}" name="q{question.pk}"' in quiz
        assert question.prompt in quiz

    # When they answer every question right and submit
    answers = {
        f"q{q.pk}": [str(i) for i in q.correct]
        for q in QuizQuestion.objects.filter(pk__in=attempt.question_ids)
    }
    submitted = client.post(f"/training/attempts/{attempt.pk}/", answers)

    # Then they see a pass, and they are a trainee for a year
    assert submitted.status_code == 302
    assert submitted["Location"] == f"/training/attempts/{attempt.pk}/result/"
    result = client.get(submitted["Location"]).content.decode()
    assert "Your score: 100% (pass mark 80%)." in result
    assert "Passed." in result
    assert "You completed the required training." in result
    standing = Standing.objects.get(user=user)
    assert standing.level == Level.TRAINEE
    assert standing.training_expires_at == NOW + timedelta(days=365)

    # And the attempt cannot be submitted again: the page sends back to the result
    again = client.post(f"/training/attempts/{attempt.pk}/", answers)
    assert again["Location"] == f"/training/attempts/{attempt.pk}/result/"
    assert CharterEvent.objects.filter(kind="standing.trained").count() == 1


def test_a_failed_quiz_shows_what_to_review_and_when_to_retake(
    client: Client, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand, retake_cooldown_minutes=60)
    user = people.user("untrained")
    log_in(client, user)
    client.post(f"/training/modules/{module.slug}/start/")
    attempt = QuizAttempt.objects.get(user=user)
    wrong = {f"q{pk}": ["3"] for pk in attempt.question_ids}

    client.post(f"/training/attempts/{attempt.pk}/", wrong)
    result = client.get(f"/training/attempts/{attempt.pk}/result/").content.decode()

    assert "Your score: 0% (pass mark 80%)." in result
    assert "Not passed." in result
    assert "Next retake allowed:" in result
    assert '<time datetime="2026-11-20T10:30:00+00:00">' in result
    for question in QuizQuestion.objects.filter(pk__in=attempt.question_ids):
        assert question.explanation in result
    # And a retake during the cool-down is refused, creating nothing
    refused = client.post(f"/training/modules/{module.slug}/start/")
    assert refused.status_code == 409
    assert QuizAttempt.objects.count() == 1


def test_an_incomplete_quiz_is_sent_back_with_errors_and_not_scored(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand)
    user = people.user("untrained")
    log_in(client, user)
    client.post(f"/training/modules/{module.slug}/start/")
    attempt = QuizAttempt.objects.get(user=user)
    first = attempt.question_ids[0]

    response = client.post(f"/training/attempts/{attempt.pk}/", {f"q{first}": ["0"]})

    assert response.status_code == 400
    assert "Answer every question, then submit." in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted_at is None
    assert attempt.score_percent is None


def test_another_persons_attempt_is_not_found(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand)
    owner = make_volunteer(brand, username="owner")
    make_standing(owner.user, brand)
    attempt = start_attempt(owner.user_id, module)
    people.log_in(client, "trainee")

    assert client.get(f"/training/attempts/{attempt.pk}/").status_code == 404
    assert client.get(f"/training/attempts/{attempt.pk}/result/").status_code == 404
    posted = client.post(f"/training/attempts/{attempt.pk}/", {})
    assert posted.status_code == 404
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_another_brands_module_is_not_found(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    other = make_brand(slug="contoso")
    theirs = make_module(other, slug="their-module")
    people.log_in(client, "trainee")

    assert client.get("/training/modules/their-module/").status_code == 404
    assert client.post("/training/modules/their-module/start/").status_code == 404
    assert QuizAttempt.objects.filter(module=theirs).count() == 0


def test_a_practice_answer_goes_from_the_trainee_to_a_supervisors_grade(client: Client) -> None:
    # Given a trainee on the practice page
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    trainee = people.user("trainee")
    log_in(client, trainee)
    page = client.get("/training/practice/?lang=en").content.decode()
    key = re.search(r'name="key" value="(en-\d+)"', page)
    assert key is not None
    item = practice_item(key.group(1))
    assert item is not None

    # When they answer it
    posted = client.post("/training/practice/", {"key": item.key, "answer": "Sorry! DM us. ^TR"})

    # Then the answer is stored with the real question and reference, waiting for a grade
    assert posted.status_code == 302
    answer = PracticeAnswer.objects.get()
    assert answer.user == trainee
    assert answer.brand == brand
    assert answer.question_text == item.question_text
    assert answer.reference_answer == item.reference_answer
    assert answer.grade == PracticeGrade.PENDING

    # When a supervisor fails it without feedback, then with feedback
    supervisor_client = Client()
    supervisor = people.user("supervisor")
    log_in(supervisor_client, supervisor)
    listing = supervisor_client.get("/training/practice/grade/").content.decode()
    assert f'data-answer-id="{answer.pk}"' in listing
    url = f"/training/practice/grade/{answer.pk}/"
    no_feedback = supervisor_client.post(url, {f"a{answer.pk}-grade": "fail"})
    assert no_feedback.status_code == 400
    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.PENDING
    graded = supervisor_client.post(
        url, {f"a{answer.pk}-grade": "fail", f"a{answer.pk}-feedback": "Add your signature."}
    )

    # Then the grade and feedback are stored and the trainee sees them
    assert graded.status_code == 302
    answer.refresh_from_db()
    assert answer.grade == PracticeGrade.FAIL
    assert answer.feedback == "Add your signature."
    assert answer.graded_by == supervisor
    mine = client.get("/training/practice/").content.decode()
    assert "Add your signature." in mine
    assert "Needs work" in mine
    assert (
        f'data-answer-id="{answer.pk}"'
        not in supervisor_client.get("/training/practice/grade/").content.decode()
    )


def test_a_tampered_practice_key_is_refused(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    people.log_in(client, "trainee")

    response = client.post("/training/practice/", {"key": "en-999999", "answer": "Hello"})

    assert response.status_code == 400
    assert PracticeAnswer.objects.count() == 0


def test_another_brands_practice_answer_is_not_found(client: Client) -> None:
    # Given a pending answer in another brand
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    other = make_brand(slug="contoso")
    theirs = submit_practice(other, "contoso-trainee", "Their reply")
    people.log_in(client, "supervisor")

    # When a supervisor of this brand tries to see or grade it
    listing = client.get("/training/practice/grade/").content.decode()
    response = client.post(
        f"/training/practice/grade/{theirs.pk}/",
        {f"a{theirs.pk}-grade": "pass", f"a{theirs.pk}-feedback": ""},
    )

    # Then it is not listed and not found, and stays pending
    assert "Their reply" not in listing
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.grade == PracticeGrade.PENDING
    assert not CharterEvent.objects.filter(kind="practice.graded").exists()


def test_a_supervisor_cannot_grade_their_own_practice_answer(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    supervisor = people.user("supervisor")
    log_in(client, supervisor)
    assert supervisor is not None
    own = submit_practice_answer(supervisor.pk, brand.pk, "Q?", "", "My own reply")

    listing = client.get("/training/practice/grade/").content.decode()
    response = client.post(f"/training/practice/grade/{own.pk}/", {f"a{own.pk}-grade": "pass"})

    assert "My own reply" not in listing
    assert response.status_code == 404
    own.refresh_from_db()
    assert own.grade == PracticeGrade.PENDING


HOSTILE = '<script>alert("module")</script><img src=x onerror=alert(1)>'


def test_hostile_module_content_is_sanitised_and_escaped(client: Client) -> None:
    # Given a module whose title, content, video link and questions are hostile
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(
        brand,
        title=f"Title {HOSTILE}",
        content=(
            f"# Heading\n\n{HOSTILE}\n\n[click](javascript:alert(2)) and "
            '<a href="https://example.com/ok" onclick="alert(3)">fine link</a>\n\n'
            "<style>body{display:none}</style>**bold**"
        ),
        video_url="javascript:alert(4)",
        questions_per_attempt=8,
    )
    QuizQuestion.objects.filter(module=module).update(
        prompt=f"Prompt {HOSTILE}", explanation=f"Because {HOSTILE}"
    )
    user = people.user("untrained")
    log_in(client, user)

    # When the module, the quiz and the result pages are shown
    module_page = client.get(f"/training/modules/{module.slug}/").content.decode()
    client.post(f"/training/modules/{module.slug}/start/")
    attempt = QuizAttempt.objects.get(user=user)
    quiz_page = client.get(f"/training/attempts/{attempt.pk}/").content.decode()
    client.post(
        f"/training/attempts/{attempt.pk}/", {f"q{pk}": ["3"] for pk in attempt.question_ids}
    )
    result_page = client.get(f"/training/attempts/{attempt.pk}/result/").content.decode()
    list_page = client.get("/training/").content.decode()

    # Then no markup from the module runs: scripts, handlers and javascript: links are gone
    for page in (module_page, quiz_page, result_page, list_page):
        assert "<script>alert" not in page
        assert re.search(r"<[^>]*\son\w+=", page) is None  # no event handler attribute
        assert "<img" not in page
        assert "javascript:" not in page
        assert "onclick" not in page
    assert "&lt;script&gt;alert(&quot;module&quot;)&lt;/script&gt;" in module_page  # the title
    assert "<strong>bold</strong>" in module_page
    assert 'href="https://example.com/ok"' in module_page
    assert "display:none" not in module_page
    assert "Prompt &lt;script&gt;" in quiz_page
    assert "Because &lt;script&gt;" in result_page
    assert TrainingModule.objects.get(pk=module.pk).title == f"Title {HOSTILE}"


def test_the_video_link_is_shown_as_a_link(client: Client) -> None:
    brand = make_brand(slug="northwind")
    people = People(brand, staff_level="mentor")
    module = make_module(brand, video_url="https://example.com/training/video-1")
    people.log_in(client, "untrained")

    page = client.get(f"/training/modules/{module.slug}/").content.decode()

    assert '<a href="https://example.com/training/video-1" rel="noopener noreferrer">' in page
