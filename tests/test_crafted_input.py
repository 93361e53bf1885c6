"""Issue 11, finding 4: crafted input gets a clear 4xx, never a 500, and writes nothing.

Unicode digits ("²".isdigit() is true, int("²") raises), ids beyond 64 bits (SQLite cannot
bind them), dates at the calendar's ends, a non-ASCII webhook signature, a websocket frame
of deeply nested arrays, and NUL characters (PostgreSQL text cannot hold them)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import Client

from helpdesk.models import Brand, Reply
from tests.people import People

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"  # beyond 64 bits


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("certified", f"/desk/questions/{HUGE}/"),
        ("certified", f"/desk/questions/{HUGE}/compose/"),
        ("supervisor", f"/desk/review/{HUGE}/approve/"),
        ("supervisor", "/desk/review/news/?seen=1,²,3"),
        ("supervisor", "/desk/saved-replies/?topic=²"),
        ("supervisor", f"/desk/saved-replies/?topic={HUGE}"),
        ("supervisor", "/exports/shift-hours.csv?start=0001-01-01&end=0001-01-02"),
        ("supervisor", "/exports/shift-hours.csv?start=9999-12-30&end=9999-12-31"),
        ("supervisor", "/exports/shift-hours.csv?end=0001-01-03"),
        ("agency", "/reports/?period=custom&first=0001-01-01&last=0001-01-02"),
        ("agency", "/reports/?period=custom&first=9999-12-30&last=9999-12-31"),
        ("agency", "/reports/?store=²"),
        ("agency", "/reports/?topic=a%00b"),
        ("supervisor", "/desk/saved-replies/?language=e%00n"),
    ],
)
def test_crafted_reads_answer_4xx_or_a_page(
    client: Client, people: People, kind: str, url: str
) -> None:
    people.log_in(client, kind)
    response = client.get(url)
    assert response.status_code in (200, 400, 404, 405), response.status_code


@pytest.mark.parametrize(
    ("kind", "url", "data"),
    [
        ("supervisor", "/desk/review/bulk/", {"reply": ["²", HUGE]}),
        ("supervisor", f"/desk/questions/{HUGE}/reassign/", {"to": "²"}),
        ("supervisor", f"/desk/questions/{HUGE}/take-back/", {}),
        ("certified", "/desk/shift/", {"action": "start\x00"}),
    ],
)
def test_crafted_forms_answer_4xx_and_write_nothing(
    client: Client, people: People, kind: str, url: str, data: dict[str, Any]
) -> None:
    people.log_in(client, kind)
    response = client.post(url, data)
    assert response.status_code in (302, 400, 404), response.status_code
    assert Reply.objects.count() == 0


def test_a_nul_in_any_parameter_is_refused_before_any_view(client: Client, people: People) -> None:
    people.log_in(client, "agency")
    response = client.get("/reports/", {"region": "North\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert '<header class="top">' in response.content.decode()  # the site's own page


def test_a_non_ascii_webhook_signature_is_refused(client: Client, settings: Any) -> None:
    settings.X_CONSUMER_SECRET = "consumer-secret"
    response = client.post(
        "/x/webhook",
        data=b"{}",
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": "sha256=é"},
    )
    assert response.status_code == 403


def test_a_compose_post_with_a_unicode_digit_saved_reply(
    client: Client, people: People, brand: Brand
) -> None:
    from tests.factories import publish_charter
    from tests.routing.onshift import question

    publish_charter(brand)
    volunteer = people.volunteer("certified")
    asked = question(brand)
    from routing.claims import claim_question
    from routing.presence import start_shift

    start_shift(volunteer.user, brand.pk)
    assert claim_question(asked.pk, volunteer.user).won
    people.log_in(client, "certified")
    response = client.post(
        f"/desk/questions/{asked.pk}/compose/",
        {"text": "@customer Thanks, we are on it. ^CE", "saved": "²", "action": "submit"},
    )
    assert response.status_code in (302, 400)


@pytest.mark.django_db(transaction=True)
def test_a_websocket_frame_of_nested_arrays_gets_an_error(people: People) -> None:
    from channels.testing import WebsocketCommunicator

    from helpdesk.asgi import application
    from tests.test_queue_consumer import headers_for

    headers = headers_for(people.user("agency"))

    async def flow() -> dict[str, Any]:
        comm = WebsocketCommunicator(application, "/ws/monitoring/", headers=headers)
        await comm.connect()
        try:
            hello = await comm.receive_json_from(timeout=3)
            assert hello["type"] == "hello"
            await comm.send_to(text_data="[" * 2000 + "]" * 2000)
            return dict(await comm.receive_json_from(timeout=3))
        finally:
            await comm.disconnect()

    reply = async_to_sync(flow)()
    assert reply["type"] == "error"
    assert json.dumps(reply)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (" 12 ", 12),
        ("²", None),
        ("١٢", None),
        ("0", None),
        ("-3", None),
        ("9" * 18, int("9" * 18)),
        ("1" + "0" * 18, None),
        ("", None),
        ("1e3", None),
    ],
)
def test_an_id_is_one_to_eighteen_ascii_digits(value: str, expected: int | None) -> None:
    from helpdesk.params import parse_id

    assert parse_id(value) == expected
