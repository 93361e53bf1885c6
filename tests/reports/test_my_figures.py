"""My figures (/reports/me/): a volunteer's own work, from the query layer, and nobody
else's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.reports import queries
from helpdesk.reports.period import Period, presets
from helpdesk.reports.queries import Scope
from helpdesk.reports.templatetags.reports import duration
from routing.models import Shift
from tests.factories import make_account, make_brand, make_store, make_volunteer
from tests.people import People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk() -> dict[str, Any]:
    brand = make_brand(time_zone="Europe/Paris")
    account = make_account(brand)
    store = make_store(brand)
    ana = make_volunteer(brand, store=store, display_name="Ana")
    zoe = make_volunteer(brand, store=store, display_name="Zoé Secret")
    now = timezone.now()
    for i in range(5):
        received = now - timedelta(days=3, hours=i)
        answer(
            make_question(brand, received_at=received),
            ana.user,
            account,
            sent_at=received + timedelta(minutes=5 * (i + 1)),
            store=store,
        )
    for i in range(9):
        received = now - timedelta(days=2, hours=i)
        answer(
            make_question(brand, received_at=received),
            zoe.user,
            account,
            sent_at=received + timedelta(hours=7),
            store=store,
        )
    Shift.objects.create(
        user=ana.user,
        brand=brand,
        started_at=now - timedelta(days=3, hours=2),
        last_seen_at=now,
        ended_at=now - timedelta(days=3),
    )
    everyone = People(brand, store=store)
    people = {
        "volunteer": ana,  # answered questions, so has figures
        "other-volunteer": zoe,
        **{kind: everyone.volunteer(kind) for kind in ("untrained", "suspended")},
        **{kind: everyone.volunteer(kind) for kind in ("supervisor", "agency", "admin")},
    }
    return {"brand": brand, "people": people}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("volunteer", 200),
        ("untrained", 200),
        ("suspended", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("agency", 403),
    ],
)
def test_who_has_figures(client: Client, desk: dict[str, Any], role: str, status: int) -> None:
    client.force_login(desk["people"][role].user)

    assert client.get("/reports/me/").status_code == status


def test_my_figures_are_mine_from_the_query_layer(client: Client, desk: dict[str, Any]) -> None:
    ana = desk["people"]["volunteer"]
    client.force_login(ana.user)

    page = client.get("/reports/me/?period=7d").content.decode()

    zone = ZoneInfo("Europe/Paris")
    first, last = presets(timezone.now().astimezone(zone).date())["7d"]
    scope = Scope(
        brand_id=desk["brand"].pk, period=Period(first, last, zone), volunteer_id=ana.user_id
    )
    mine = queries.figures(scope)
    assert mine.volumes.answered == 5
    assert f'<span class="value">{duration(mine.first_response.p50)}</span>' in page
    assert "You answered 5 customers in this period. Thank you!" in page
    assert '<span class="value">2.0</span>' in page  # hours on shift
    assert "Zoé Secret" not in page
    assert duration(7 * 3600 + 60) not in page  # Zoé's response times


def test_a_quiet_period_points_at_the_queue(client: Client, desk: dict[str, Any]) -> None:
    client.force_login(desk["people"]["supervisor"].user)

    page = client.get("/reports/me/").content.decode()

    assert "No answers of yours in this period yet" in page
    assert 'href="/queue/"' in page


@pytest.mark.parametrize("period", ["forever", "90d"])
def test_an_unknown_period_falls_back_to_30_days(
    client: Client, desk: dict[str, Any], period: str
) -> None:
    client.force_login(desk["people"]["volunteer"].user)

    response = client.get(f"/reports/me/?period={period}")

    assert response.status_code == 200
    expected = "90d" if period == "90d" else "30d"
    assert f'<option value="{expected}" selected>' in response.content.decode()


def test_a_nul_in_the_period_is_the_400_page(client: Client, desk: dict[str, Any]) -> None:
    # Refused before the view (helpdesk.security.FormTextMiddleware), as everywhere.
    client.force_login(desk["people"]["volunteer"].user)

    response = client.get("/reports/me/?period=%00")

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
