"""Under crisis mode every reply to the affected questions goes to review, and says why
("crisis mode") to the volunteer and the supervisor, unless the brand said otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from helpdesk.models import Brand, Question
from helpdesk.replies import reject_reply, submit_reply
from helpdesk.states import QuestionState, ReplyState
from routing.crisis import end_crisis, start_crisis
from tests.factories import make_topic
from tests.replies.conftest import Desk

pytestmark = pytest.mark.django_db

CRISIS_REVIEW = "Crisis mode: every reply is approved by a supervisor before it goes."


def _text(question: Question, signature: str) -> str:
    handle = question.customer.username if question.customer else ""
    return f"@{handle} Thanks for the wait, we are looking into it now. {signature}"


def _on_topic(desk: Desk, holder: Any, topic: Any) -> Question:
    question = desk.question(holder)
    Question.objects.filter(pk=question.pk).update(topic=topic)
    question.refresh_from_db()
    return question


@pytest.fixture
def recall(desk: Desk) -> Any:
    return make_topic(desk.brand, slug="recall", name="Recall")


@pytest.mark.parametrize("level", ["certified", "mentor"])
def test_under_crisis_mode_a_certified_reply_goes_to_review_and_says_why(
    desk: Desk, recall: Any, level: str
) -> None:
    author = desk.member(level)
    question = _on_topic(desk, author, recall)
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)

    reply = submit_reply(question, author.user, _text(question, author.signature), language="en")

    question.refresh_from_db()
    assert reply.state == ReplyState.PENDING_REVIEW and reply.needs_review is True
    assert reply.review_reasons == [{"code": "crisis_review", "message": CRISIS_REVIEW}]
    assert question.state == QuestionState.IN_REVIEW


def test_a_whole_brand_crisis_sends_replies_on_every_topic_to_review(desk: Desk) -> None:
    author = desk.member("certified")
    question = desk.question(author)
    start_crisis(desk.brand.pk, None, desk.supervisor.user)

    reply = submit_reply(question, author.user, _text(question, author.signature), language="en")

    assert reply.state == ReplyState.PENDING_REVIEW
    assert [r["code"] for r in reply.review_reasons] == ["crisis_review"]


def test_other_topics_and_the_time_after_the_crisis_are_unaffected(desk: Desk, recall: Any) -> None:
    author = desk.member("certified")
    elsewhere = _on_topic(desk, author, make_topic(desk.brand))
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)

    first = submit_reply(elsewhere, author.user, _text(elsewhere, author.signature), language="en")
    end_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    after = _on_topic(desk, author, recall)
    second = submit_reply(after, author.user, _text(after, author.signature), language="en")

    assert (first.state, second.state) == (ReplyState.QUEUED, ReplyState.QUEUED)


def test_the_brand_may_say_certified_replies_skip_review_under_crisis(
    desk: Desk, recall: Any
) -> None:
    Brand.objects.filter(pk=desk.brand.pk).update(crisis_skips_review=True)
    author, trainee = desk.member("certified"), desk.member("trainee")
    question, trainees = _on_topic(desk, author, recall), _on_topic(desk, trainee, recall)
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)

    reply = submit_reply(question, author.user, _text(question, author.signature), language="en")
    held = submit_reply(trainees, trainee.user, _text(trainees, trainee.signature), language="en")

    assert reply.state == ReplyState.QUEUED and reply.review_reasons == []
    assert held.state == ReplyState.PENDING_REVIEW
    assert [r["code"] for r in held.review_reasons] == ["trainee_review"]


def test_the_composer_and_the_review_page_say_crisis_mode(
    desk: Desk, recall: Any, client: Client
) -> None:
    author = desk.member("certified")
    question = _on_topic(desk, author, recall)
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    client.force_login(author.user)

    preview = client.post(
        reverse("desk:lint", args=[question.pk]),
        {"text": _text(question, author.signature)},
    )
    submit_reply(question, author.user, _text(question, author.signature), language="en")
    client.force_login(desk.supervisor.user)
    review = client.get(reverse("desk:review"))

    assert preview.status_code == 200 and CRISIS_REVIEW in preview.content.decode()
    assert review.status_code == 200 and CRISIS_REVIEW in review.content.decode()


def test_a_rejected_trainee_under_crisis_hands_the_question_back_to_the_queue(
    desk: Desk, recall: Any
) -> None:
    trainee, certified = desk.member("trainee"), desk.member("certified")
    mine, theirs = _on_topic(desk, trainee, recall), _on_topic(desk, certified, recall)
    held = submit_reply(mine, trainee.user, _text(mine, trainee.signature), language="en")
    start_crisis(desk.brand.pk, recall.pk, desk.supervisor.user)
    sent = submit_reply(theirs, certified.user, _text(theirs, certified.signature), language="en")

    reject_reply(held, by=desk.supervisor.user, feedback="Use the holding statement.")
    reject_reply(sent, by=desk.supervisor.user, feedback="Use the holding statement.")

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.state, mine.claimed_by_id) == (QuestionState.QUEUED, None)
    assert (theirs.state, theirs.claimed_by_id) == (QuestionState.DRAFTING, certified.user.pk)
