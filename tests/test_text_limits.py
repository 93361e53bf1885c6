"""Issue 11, finding 5: no field takes more than HELPFORCE_MAX_TEXT_CHARS characters. An
overlong text is refused with the 400 page, which says how long it was and what the limit
is, before any view runs: nothing is linted, stored or changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from charter.models import Standing
from helpdesk.models import Brand, Reply
from helpdesk.states import ReplyState
from routing.claims import claim_question
from routing.presence import start_shift
from tests.factories import publish_charter
from tests.people import People
from tests.routing.onshift import question

pytestmark = pytest.mark.django_db

LIMIT = 10_000


@pytest.fixture
def held(brand: Brand, people: People, settings: Any) -> dict[str, Any]:
    """A certified volunteer holding a question, signed in."""
    settings.MAX_TEXT_CHARS = LIMIT
    publish_charter(brand)
    volunteer = people.volunteer("certified")
    asked = question(brand)
    start_shift(volunteer.user, brand.pk)
    assert claim_question(asked.pk, volunteer.user).won
    client = Client()
    people.log_in(client, "certified")
    return {"client": client, "question": asked, "volunteer": volunteer}


def test_a_two_megabyte_draft_is_refused_unlinted(held: dict[str, Any]) -> None:
    draft = "please call us " * 140_000  # about 2 MB
    response = held["client"].post(f"/desk/questions/{held['question'].pk}/lint/", {"text": draft})
    page = response.content.decode()
    assert response.status_code == 400
    assert f"{len(draft):,} characters long" in page
    assert f"at most {LIMIT:,}" in page
    assert '<header class="top">' in page


def test_an_overlong_reply_is_not_submitted(held: dict[str, Any]) -> None:
    response = held["client"].post(
        f"/desk/questions/{held['question'].pk}/compose/",
        {"text": "x" * (LIMIT + 1), "action": "submit"},
    )
    assert response.status_code == 400
    assert Reply.objects.count() == 0
    held["question"].refresh_from_db()
    assert held["question"].state == "claimed"


def test_a_text_at_the_limit_reaches_the_view(held: dict[str, Any]) -> None:
    response = held["client"].post(
        f"/desk/questions/{held['question'].pk}/compose/",
        {"text": "x" * LIMIT, "action": "check"},
    )
    assert response.status_code == 200  # the composer, with the linter's verdict


def test_megabytes_of_feedback_or_reasons_are_not_stored(
    brand: Brand, people: People, settings: Any
) -> None:
    settings.MAX_TEXT_CHARS = LIMIT
    client = Client()
    people.log_in(client, "supervisor")
    suspended_before = Standing.objects.filter(suspended_at__isnull=False).count()
    target = people.volunteer("certified")
    huge = "a" * 3_000_000
    for url, data in (
        (f"/supervision/people/{target.pk}/suspend/", {"reason": huge}),
        ("/desk/review/1/reject/", {"feedback": huge}),
    ):
        response = client.post(url, data)
        assert response.status_code == 400
    assert Standing.objects.filter(suspended_at__isnull=False).count() == suspended_before
    assert not Reply.objects.filter(state=ReplyState.REJECTED).exists()
