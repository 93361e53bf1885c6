"""``manage.py seed_training``: the default training set, created once per brand."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from charter.models import CharterEvent, Level, QuestionKind, QuizQuestion, TrainingModule
from charter.training.quiz import modules_for, start_attempt, submit_attempt
from tests.factories import make_brand, make_module, make_standing

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("seed_training", *args, stdout=out)
    return out.getvalue()


def test_every_brand_gets_three_required_modules_with_sound_question_banks() -> None:
    # Given two brands without training
    northwind = make_brand(slug="northwind")
    contoso = make_brand(slug="contoso")

    # When the command runs
    output = run()

    # Then each brand has the three modules, set as the brief says
    assert "northwind: created 3 training modules." in output
    assert "contoso: created 3 training modules." in output
    for brand in (northwind, contoso):
        modules = list(modules_for(brand.pk))
        assert [m.slug for m in modules] == [
            "usage-charter",
            "answering-on-x",
            "safety-and-privacy",
        ]
        for module in modules:
            assert module.is_required
            assert module.language == ""
            assert module.pass_mark_percent == 80
            assert module.questions_per_attempt == 5
            assert module.retake_cooldown_minutes == 60
            assert module.video_url.startswith("https://example.com/")
            assert len(module.content) > 500
            questions = list(module.questions.all())
            assert len(questions) >= 8
            assert {q.kind for q in questions} == {QuestionKind.SINGLE, QuestionKind.MULTIPLE}
            for q in questions:
                assert q.correct, q.prompt
                assert all(0 <= i < len(q.choices) for i in q.correct), q.prompt
                assert len(set(q.correct)) == len(q.correct), q.prompt
                assert (len(q.correct) == 1) is (q.kind == QuestionKind.SINGLE), q.prompt
                assert q.explanation, q.prompt
    assert CharterEvent.objects.filter(kind="training.modules_seeded").count() == 2


def test_a_second_run_changes_nothing_and_a_brands_own_modules_are_left_alone() -> None:
    own = make_brand(slug="own")
    make_module(own, slug="our-module")
    make_brand(slug="northwind")
    run()
    before = list(TrainingModule.objects.order_by("pk").values_list("pk", "brand__slug", "slug"))
    questions_before = QuizQuestion.objects.count()

    output = run()

    assert "northwind: has training modules already; left alone." in output
    assert "own: has training modules already; left alone." in output
    assert list(TrainingModule.objects.order_by("pk").values_list("pk", "brand__slug", "slug")) == (
        before
    )
    assert QuizQuestion.objects.count() == questions_before
    assert list(TrainingModule.objects.filter(brand=own).values_list("slug", flat=True)) == [
        "our-module"
    ]


def test_one_brand_only_and_an_unknown_brand_is_an_error() -> None:
    make_brand(slug="northwind")
    make_brand(slug="contoso")

    output = run("--brand", "contoso")

    assert output.strip() == "contoso: created 3 training modules."
    assert TrainingModule.objects.filter(brand__slug="northwind").count() == 0
    with pytest.raises(CommandError, match="No brand with the slug 'nope'"):
        run("--brand", "nope")


def test_passing_the_seeded_modules_makes_a_trainee() -> None:
    brand = make_brand(slug="northwind")
    run()
    user = User.objects.create_user(username="dana")
    make_standing(user, brand)

    for module in modules_for(brand.pk):
        attempt = start_attempt(user.pk, module)
        right = {
            str(q.pk): list(q.correct)
            for q in QuizQuestion.objects.filter(pk__in=attempt.question_ids)
        }
        assert submit_attempt(attempt, right).passed

    standing = user.standings.get()
    assert standing.level == Level.TRAINEE
