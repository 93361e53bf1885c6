"""Crisis mode on the desk's pages: the banner on the queue, the question and the composer;
the holding statement suggested first; a trainee told why they may not claim, and refused
by the server all the same."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from helpdesk.models import Question, Volunteer
from helpdesk.states import QuestionState
from routing.crisis import end_crisis, start_crisis
from routing.presence import start_shift
from tests.factories import make_saved_reply, make_topic
from tests.replies.conftest import Desk, _desk

CRISIS_CLAIM = "Crisis mode: only certified volunteers and mentors may claim these questions."


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


@pytest.fixture
def recall(desk: Desk) -> Any:
    return make_topic(desk.brand, slug="recall", name="Recall")


def on_shift(desk: Desk, state: str) -> Volunteer:
    volunteer = desk.member(state, languages=["en"], skills=["recall"])
    start_shift(volunteer.user, desk.brand.pk)
    return volunteer


def on_topic(desk: Desk, topic: Any, holder: Volunteer | None = None) -> Question:
    question = desk.question(holder)
    Question.objects.filter(pk=question.pk).update(topic=topic)
    question.refresh_from_db()
    return question


def test_the_banner_shows_on_the_queue_the_question_and_the_composer(
    client: Client, desk: Desk, recall: Any
) -> None:
    certified = on_shift(desk, "certified")
    queued, held = on_topic(desk, recall), on_topic(desk, recall, certified)
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user, reason="<b>Battery</b> recall")
    client.force_login(certified.user)

    pages = [
        client.get(reverse("helpdesk:queue")),
        client.get(reverse("desk:question", args=[queued.pk])),
        client.get(reverse("desk:compose", args=[held.pk])),
    ]

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert 'class="crisis-banner"' in html
        assert "On for the topic Recall:" in html
        assert "&lt;b&gt;Battery&lt;/b&gt; recall" in html and "<b>Battery" not in html
    assert 'class="crisis-mark"' in pages[0].content.decode()


def test_no_banner_on_another_topic_or_once_it_is_off(
    client: Client, desk: Desk, recall: Any
) -> None:
    certified = on_shift(desk, "certified")
    elsewhere = on_topic(desk, make_topic(desk.brand))
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    client.force_login(certified.user)

    question_page = client.get(reverse("desk:question", args=[elsewhere.pk])).content.decode()
    end_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    queue_page = client.get(reverse("helpdesk:queue")).content.decode()

    assert "crisis-banner" not in question_page
    assert "crisis-banner" not in queue_page


def test_the_holding_statement_is_suggested_first_in_the_composer(
    client: Client, desk: Desk, recall: Any
) -> None:
    certified = on_shift(desk, "certified")
    make_saved_reply(desk.brand, title="Aardvark first by title", topic=recall)
    holding = make_saved_reply(desk.brand, title="Zz holding statement")
    held = on_topic(desk, recall, certified)
    client.force_login(certified.user)
    before = client.get(reverse("desk:compose", args=[held.pk])).context["saved_choices"]
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user, holding_statement_id=holding.pk)

    page = client.get(reverse("desk:compose", args=[held.pk]))

    titles = [choice.saved.title for choice in page.context["saved_choices"]]
    assert before[0].saved.title == "Aardvark first by title"
    assert titles[0] == "Zz holding statement"
    html = page.content.decode()
    assert "start from the holding statement “Zz holding statement”" in html
    assert f"?saved={holding.pk}" in html


def test_a_trainee_is_told_and_refused_a_certified_volunteer_claims(
    client: Client, desk: Desk, recall: Any
) -> None:
    trainee, certified = on_shift(desk, "trainee"), on_shift(desk, "certified")
    question = on_topic(desk, recall)
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    client.force_login(trainee.user)

    page = client.get(reverse("desk:question", args=[question.pk])).content.decode()
    refused = client.post(reverse("desk:claim", args=[question.pk]))
    queue = client.get(reverse("helpdesk:queue")).context["questions"]

    assert CRISIS_CLAIM in page
    assert reverse("desk:claim", args=[question.pk]) not in page
    assert refused.status_code == 302
    assert [str(m) for m in get_messages(refused.wsgi_request)] == [f"{CRISIS_CLAIM} (crisis_mode)"]
    assert Question.objects.get(pk=question.pk).state == QuestionState.QUEUED
    assert list(queue) == []

    client.force_login(certified.user)
    won = client.post(reverse("desk:claim", args=[question.pk]))
    assert won["Location"] == reverse("desk:compose", args=[question.pk])
    assert Question.objects.get(pk=question.pk).claimed_by_id == certified.user.pk


def test_the_live_lists_reload_brings_the_banner_with_it(
    client: Client, desk: Desk, recall: Any
) -> None:
    """A crisis.started event makes the queue reload its rows: the banner is among them."""
    certified = on_shift(desk, "certified")
    client.force_login(certified.user)
    start_crisis(desk.brand.pk, None, desk.supervisor.user, reason="Outage")

    rows = client.get(reverse("helpdesk:queue"), headers={"HX-Request": "true"})

    assert rows.templates[0].name == "helpdesk/_queue_rows.html"
    assert "On for every question of the brand:" in rows.content.decode()
