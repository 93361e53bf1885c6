"""The agency's export of hours on shift."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from helpdesk.models import Role, Store
from routing.models import Shift
from tests.factories import make_brand, make_volunteer
from tests.people import People

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def rows(response: object) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))  # type: ignore[attr-defined]


@pytest.fixture
def staffed() -> dict[str, object]:
    brand = make_brand()
    store = Store.objects.create(brand=brand, code="NW-1", name="One")
    ann = make_volunteer(brand, store=store, display_name="Ann", username="ann")
    eve = make_volunteer(brand, display_name="=cmd|' /C calc'!A0", username="eve")
    Shift.objects.create(
        user=ann.user,
        brand=brand,
        started_at=DAY + timedelta(hours=9),
        ended_at=DAY + timedelta(hours=12, minutes=30),
    )
    # Crosses the window's end: only the part inside counts.
    Shift.objects.create(
        user=eve.user,
        brand=brand,
        started_at=DAY + timedelta(hours=23),
        ended_at=DAY + timedelta(days=1, hours=1),
    )
    other = make_brand()
    outsider = make_volunteer(other, username="zed")
    Shift.objects.create(
        user=outsider.user, brand=other, started_at=DAY, ended_at=DAY + timedelta(hours=8)
    )
    return {"brand": brand}


@pytest.mark.parametrize("who", ["agency", "supervisor", "admin"])
def test_readers_export_their_brand_s_hours_clipped_to_the_period(
    client: Client, staffed: dict[str, object], who: str
) -> None:
    People(staffed["brand"]).log_in(client, who)  # type: ignore[arg-type]

    response = client.get("/exports/shift-hours.csv?start=2026-11-20&end=2026-11-20")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows(response) == [
        ["username", "name", "store", "seconds", "hours"],
        ["ann", "Ann", "NW-1", "12600", "3.50"],
        ["eve", "'=cmd|' /C calc'!A0", "", "3600", "1.00"],
    ]


def test_anonymous_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/exports/shift-hours.csv")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    "who",
    [
        "no-desk-record",
        "volunteer-without-standing",
        "untrained",
        "certified",
        "mentor",
        "suspended",
    ],
)
def test_volunteers_and_outsiders_may_not_export(
    client: Client, staffed: dict[str, object], who: str
) -> None:
    People(staffed["brand"]).log_in(client, who)  # type: ignore[arg-type]

    assert client.get("/exports/shift-hours.csv").status_code == 403


@pytest.mark.parametrize(
    "query",
    ["start=2026-11-21&end=2026-11-20", "start=yesterday", "start=2024-01-01&end=2026-01-01"],
)
def test_a_bad_period_is_refused_with_the_reason(
    client: Client, staffed: dict[str, object], query: str
) -> None:
    client.force_login(make_volunteer(staffed["brand"], role=Role.AGENCY).user)  # type: ignore[arg-type]

    response = client.get(f"/exports/shift-hours.csv?{query}")

    assert response.status_code == 400
    assert response.json()["errors"]
