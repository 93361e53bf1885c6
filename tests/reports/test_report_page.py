"""The report page (/reports/): who sees which figures, the filters, hostile text, and that
the page shows what the query layer computed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.models import Store
from helpdesk.reports.models import OpeningHours
from helpdesk.reports.period import Period
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import build_report
from helpdesk.reports.templatetags.reports import duration
from tests.factories import make_account, make_brand, make_store, make_topic, make_volunteer
from tests.people import People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db

ZONE = "America/Chicago"
HOSTILE = '<script>alert("x")</script>&amp;'


@pytest.fixture
def desk() -> dict[str, Any]:
    """A brand with two stores, people in every role, and a week of questions: store A's
    answered within the hour, store B's after a day, a dismissal with a hostile reason."""
    brand = make_brand(time_zone=ZONE)
    account = make_account(brand)
    store_a = make_store(brand, code="A1", name=HOSTILE, region="North")
    store_b = make_store(brand, code="B2", name="Bravo", region="South")
    topic = make_topic(brand, name="Billing <b>")
    alice = make_volunteer(brand, store=store_a, display_name="Alice")
    bruno = make_volunteer(brand, store=store_b, display_name="Bruno")
    other = make_brand(time_zone="UTC")
    people = People(brand, store=store_a, other_store=store_b, other_brand=other)
    make_question(other, received_at=timezone.now() - timedelta(days=1))
    now = timezone.now()
    for i in range(6):
        received = now - timedelta(days=2, hours=i)
        question = make_question(brand, received_at=received, topic=topic)
        answer(
            question,
            alice.user,
            account,
            sent_at=received + timedelta(minutes=10 + i),
            store=store_a,
        )
        question = make_question(brand, received_at=received, lang="fr")
        answer(question, bruno.user, account, sent_at=received + timedelta(days=1), store=store_b)
    make_question(
        brand,
        received_at=now - timedelta(days=1),
        state="dismissed",
        dismissed_reason=HOSTILE,
    )
    return {"brand": brand, "store_a": store_a, "store_b": store_b, "people": people}


def scope_of(desk: dict[str, Any], **filters: Any) -> Scope:
    zone = ZoneInfo(ZONE)
    today = timezone.now().astimezone(zone).date()
    period = Period(today - timedelta(days=29), today, zone)
    return Scope(brand_id=desk["brand"].pk, period=period, **filters)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("certified", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("supervisor", 200),
        ("supervisor-other-store", 200),
        ("agency", 200),
        ("admin", 200),
        ("other-brand-agency", 200),
    ],
)
def test_who_may_open_the_report(
    client: Client, desk: dict[str, Any], role: str, status: int
) -> None:
    desk["people"].log_in(client, role)

    response = client.get("/reports/")

    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


def test_agency_staff_see_their_brand_whole(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/").content.decode()

    assert "13</span>" in page  # 13 questions received in the last 30 days
    assert "A1 " in page and "B2 Bravo" in page


def test_another_brands_staff_see_only_their_own(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "other-brand-agency")

    page = client.get("/reports/").content.decode()

    # "A1 " with its space: a page's random CSRF token may hold "A1" (1 run in 60 did).
    assert "Bravo" not in page and "A1 " not in page
    assert '<span class="value">1</span>' in page  # their own single question


def test_a_store_of_another_brand_is_refused(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "other-brand-agency")

    response = client.get(f"/reports/?store={desk['store_b'].pk}")

    assert response.status_code == 400
    assert "Not a store you can see reports of." in response.content.decode()
    assert "Bravo" not in response.content.decode()


def test_a_supervisor_sees_their_store_only(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "supervisor")

    page = client.get("/reports/").content.decode()
    refused = client.get(f"/reports/?store={desk['store_b'].pk}")

    expected = build_report(scope_of(desk, stores=frozenset({desk["store_a"].pk})))
    assert expected.summary.volumes.received == 6
    assert f'<span class="value">{expected.summary.volumes.received}</span>' in page
    assert "B2 Bravo" not in page
    assert refused.status_code == 400


def test_the_page_shows_the_query_layers_figures(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/?period=30d&group_by=store").content.decode()

    report = build_report(scope_of(desk))
    summary = report.summary
    assert summary.volumes.received == 13
    assert summary.volumes.answered == 12
    assert f'<span class="value">{duration(summary.first_response.p50)}</span>' in page
    # The card and the table's total row come from the same figures.
    total = re.search(r"<tfoot><tr><th scope=\"row\">Total</th><td>(\d+)</td><td>(\d+)</td>", page)
    assert total is not None
    assert (int(total[1]), int(total[2])) == (13, 12)
    for row in report.groups:
        assert f"<td>{row.figures.volumes.received}</td>" in page


def test_hostile_text_is_escaped_in_tables_and_charts(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/").content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;" in page
    assert "Billing <b>" not in page


@pytest.mark.parametrize(
    "query",
    [
        "store=%C2%B2",  # a Unicode digit
        "store=99999999999999999999999",
        "first=0001-01-01&last=0001-01-02&period=custom",
        "first=9999-12-30&last=9999-12-31&period=custom",
        "first=2026-02-01&last=2026-01-01&period=custom",
        "first=2024-01-01&last=2026-01-01&period=custom",
        "first=2026-01-01",
        "period=forever",
        "group_by=customer",
        "topic=-3",
    ],
)
def test_bad_filters_are_a_400_with_the_form(
    client: Client, desk: dict[str, Any], query: str
) -> None:
    desk["people"].log_in(client, "agency")

    response = client.get(f"/reports/?{query}")

    assert response.status_code == 400
    assert 'class="filters"' in response.content.decode()


def test_business_time_says_when_no_hours_are_set(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    without = client.get("/reports/?business_time=on").content.decode()
    OpeningHours.objects.create(
        brand=desk["brand"], weekday=0, opens_at=time(9), closes_at=time(17)
    )
    with_hours = client.get("/reports/?business_time=on").content.decode()

    assert "No opening hours are set: business time equals calendar time." in without
    assert "Times count opening hours only." in with_hours


def test_the_page_in_french(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert '<html lang="fr">' in page
    assert "Rapports" in page


def test_charts_and_tables_are_on_the_page(client: Client, desk: dict[str, Any]) -> None:
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/").content.decode()

    assert page.count('<svg class="chart') == 5
    assert page.count("<title>") >= 6  # the page's and one per chart
    assert "<script" not in page.split("</head>", 1)[1]  # no inline script in the body


def test_stores_with_the_same_name_stay_apart(client: Client, desk: dict[str, Any]) -> None:
    twin = Store.objects.create(brand=desk["brand"], code="C3", name="Bravo")
    desk["people"].log_in(client, "agency")

    page = client.get("/reports/").content.decode()

    assert f'<option value="{twin.pk}">C3 Bravo</option>' in page


def test_the_default_period_is_the_last_30_days_in_the_brands_zone(
    client: Client, desk: dict[str, Any]
) -> None:
    desk["people"].log_in(client, "agency")
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()

    page = client.get("/reports/").content.decode()

    first = (today - timedelta(days=29)).isoformat()
    assert f"From {first} to {today.isoformat()}, days in {ZONE}." in page
    assert date.fromisoformat(first) < today


def test_the_earliest_period_still_compares_with_the_one_before(
    client: Client, desk: dict[str, Any]
) -> None:
    # Found by schemathesis: the period before 2000-01-01 lies in 1999.
    desk["people"].log_in(client, "agency")

    response = client.get("/reports/?period=custom&first=2000-01-01&last=2000-01-05")

    assert response.status_code == 200
    assert "From 2000-01-01 to 2000-01-05" in response.content.decode()
