"""Issue 11, finding 16: escalated questions are in front of supervisors, with the thread
and the note, and a way to send them back or close them; nobody else may."""

from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.audit import events
from helpdesk.models import Brand, Question
from helpdesk.states import QuestionState
from routing.claims import claim_question
from routing.handover import escalate_question
from tests.factories import publish_charter
from tests.people import People
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

NOTE = "Customer wants a refund over $500 <b>"


@pytest.fixture
def escalated(brand: Brand, people: People) -> Question:
    publish_charter(brand)
    volunteer = member(brand, "certified")
    asked = question(brand, text="My order 123 never came, I want my money back")
    assert claim_question(asked.pk, volunteer.user).won
    escalate_question(asked.pk, volunteer.user, NOTE)
    return Question.objects.get(pk=asked.pk)


def test_the_list_shows_the_question_the_thread_and_the_note(
    escalated: Question, people: People
) -> None:
    client = Client()
    people.log_in(client, "supervisor")
    page = client.get("/desk/escalations/").content.decode()
    assert f'id="escalation-{escalated.pk}"' in page
    assert "My order 123 never came" in page
    assert "Customer wants a refund over $500 &lt;b&gt;" in page
    assert 'href="/desk/escalations/"' in page  # in the supervisors' menu


def test_the_question_page_says_it_is_escalated_with_the_note(
    escalated: Question, people: People
) -> None:
    client = Client()
    people.log_in(client, "supervisor")
    page = client.get(f"/desk/questions/{escalated.pk}/").content.decode()
    assert "Escalated to the care team:" in page
    assert "Customer wants a refund over $500 &lt;b&gt;" in page
    assert f"/desk/escalations/{escalated.pk}/back-to-queue/" in page


def test_back_to_the_queue(escalated: Question, people: People) -> None:
    client = Client()
    people.log_in(client, "supervisor")
    response = client.post(f"/desk/escalations/{escalated.pk}/back-to-queue/")
    assert response.status_code == 302
    escalated.refresh_from_db()
    assert (escalated.state, escalated.claimed_by_id) == (QuestionState.QUEUED, None)
    assert events().filter(kind="question.returned_from_escalation").count() == 1
    assert f"escalation-{escalated.pk}" not in client.get("/desk/escalations/").content.decode()


def test_closing_keeps_it_escalated_and_takes_it_off_the_list(
    escalated: Question, people: People
) -> None:
    client = Client()
    supervisor = people.log_in(client, "supervisor")
    response = client.post(
        f"/desk/escalations/{escalated.pk}/close/", {"note": "Refunded by the care team"}
    )
    assert response.status_code == 302
    escalated.refresh_from_db()
    assert escalated.state == QuestionState.ESCALATED
    assert escalated.escalation_closed_at is not None
    assert supervisor is not None and escalated.escalation_closed_by_id == supervisor.user_id
    event = events().get(kind="question.escalation_closed")
    assert event.data == {"note": "Refunded by the care team"}
    assert f"escalation-{escalated.pk}" not in client.get("/desk/escalations/").content.decode()
    # Closing twice says so and changes nothing.
    client.post(f"/desk/escalations/{escalated.pk}/close/")
    assert events().filter(kind="question.escalation_closed").count() == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("anonymous", 302),
        ("certified", 403),
        ("trainee", 403),
        ("agency", 403),
        ("other-brand-supervisor", 404),
    ],
)
def test_only_the_brands_supervisors_act_on_escalations(
    escalated: Question, people: People, kind: str, status: int
) -> None:
    client = Client()
    people.log_in(client, kind)
    list_status = client.get("/desk/escalations/").status_code
    assert list_status == (200 if kind == "other-brand-supervisor" else status)
    for action in ("back-to-queue", "close"):
        assert client.post(f"/desk/escalations/{escalated.pk}/{action}/").status_code == status
    escalated.refresh_from_db()
    assert escalated.state == QuestionState.ESCALATED
    assert escalated.escalation_closed_at is None
