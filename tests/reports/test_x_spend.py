"""The X bill in the reports and for monitoring: spend per local day, account, category and
answered question, computed independently from the calls written here; and the budget's
80 % warning, e-mailed once a month to supervisors and agency staff."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client

from helpdesk.models import Brand, Role, XAccount, XApiCall
from helpdesk.monitoring.budget import warn_budgets
from helpdesk.monitoring.tasks import warn_x_budgets
from helpdesk.reports.period import Period
from helpdesk.reports.queries import Scope
from helpdesk.reports.queries.spend import spend_summary
from helpdesk.reports.report import build_report
from tests.factories import make_account, make_brand, make_store, make_volunteer
from tests.people import People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
# 1 November 2026 is the day Chicago's clocks go back: a 25-hour local day.
NOW = datetime(2026, 11, 3, 12, 0, tzinfo=CHICAGO)
PRICES = {"owned_read": 1_000, "post_read": 5_000, "post_create": 15_000, "post_delete": 10_000}


def call(account: XAccount | None, brand: Brand, at: datetime, category: str, units: int) -> None:
    XApiCall.objects.create(
        brand=brand,
        account=account,
        at=at,
        endpoint="GET /2/users/:id/mentions",
        category=category,
        units=units,
        unit_price_micros=PRICES.get(category, 0),
        cost_micros=units * PRICES.get(category, 0),
        status=200,
    )


@pytest.fixture
def desk() -> dict[str, Any]:
    brand = make_brand(time_zone="America/Chicago", name="Acme")
    care, french = make_account(brand), make_account(brand)
    other = make_brand()
    author = make_volunteer(brand)
    # Calls around the local midnights of the period (31 Oct - 2 Nov) and outside it
    moments = [
        (care, datetime(2026, 10, 30, 23, 59, tzinfo=CHICAGO), "owned_read", 7),  # before
        (care, datetime(2026, 10, 31, 0, 0, tzinfo=CHICAGO), "owned_read", 3),
        (french, datetime(2026, 10, 31, 23, 59, tzinfo=CHICAGO), "post_read", 10),
        (care, datetime(2026, 11, 1, 1, 30, tzinfo=CHICAGO), "post_create", 1),
        (care, datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO), "post_create", 1),
        (None, datetime(2026, 11, 1, 23, 0, tzinfo=CHICAGO), "unpriced", 0),
        (french, datetime(2026, 11, 2, 10, 0, tzinfo=CHICAGO), "post_delete", 1),
        (care, datetime(2026, 11, 2, 12, 0, tzinfo=CHICAGO), "post_create", 0),  # refused
        (care, datetime(2026, 11, 3, 0, 0, tzinfo=CHICAGO), "owned_read", 100),  # after
    ]
    for account, at, category, units in moments:
        call(account, brand, at, category, units)
    call(None, other, datetime(2026, 11, 1, 12, 0, tzinfo=CHICAGO), "post_read", 50)
    for day in (31, 1, 2):
        month = 10 if day == 31 else 11
        received = datetime(2026, month, day, 9, 0, tzinfo=CHICAGO)
        answer(make_question(brand, received_at=received), author.user, care, sent_at=received)
        make_question(brand, received_at=received)  # not answered
    return {"brand": brand, "care": care, "french": french, "moments": moments}


def expected(desk: dict[str, Any], period: Period) -> dict[str, Any]:
    """The same figures, from the list of calls above, in plain Python."""
    by_day: dict[date, int] = defaultdict(int)
    by_account: dict[Any, int] = defaultdict(int)
    by_category: dict[str, tuple[int, int, int]] = {}
    for account, at, category, units in desk["moments"]:
        local = at.astimezone(CHICAGO).date()
        if not period.first <= local <= period.last:
            continue
        cost = units * PRICES.get(category, 0)
        by_day[local] += cost
        by_account[account.pk if account else None] += cost
        calls, billed, micros = by_category.get(category, (0, 0, 0))
        by_category[category] = (calls + 1, billed + units, micros + cost)
    return {"by_day": by_day, "by_account": by_account, "by_category": by_category}


def test_the_reports_spend_equals_an_independent_sum_of_the_calls(desk: dict[str, Any]) -> None:
    period = Period(date(2026, 10, 31), date(2026, 11, 2), CHICAGO)

    report = build_report(Scope(brand_id=desk["brand"].pk, period=period, now=NOW))

    want = expected(desk, period)
    spend = report.spend
    assert spend is not None
    assert [(row.key, row.micros) for row in spend.by_day] == [
        (day, want["by_day"].get(day, 0)) for day in period.dates()
    ]
    assert {row.key: row.micros for row in spend.by_account} == dict(want["by_account"])
    assert {row.key: (row.calls, row.units, row.micros) for row in spend.by_category} == (
        want["by_category"]
    )
    total = sum(want["by_day"].values())
    assert total == 3_000 + 50_000 + 30_000 + 10_000
    assert (spend.total.micros, spend.total.calls, spend.answered) == (total, 7, 3)
    assert spend.per_answered_micros == round(total / 3)
    data = json.loads(json.dumps(report.as_json()))["x_spend"]
    assert data["usd"] == "0.093" and data["per_answered_usd"] == "0.031"
    assert [day["key"] for day in data["by_day"]] == ["2026-10-31", "2026-11-01", "2026-11-02"]


def test_a_report_narrowed_by_a_filter_shows_no_bill(desk: dict[str, Any]) -> None:
    period = Period(date(2026, 10, 31), date(2026, 11, 2), CHICAGO)
    store = make_store(desk["brand"])

    report = build_report(
        Scope(brand_id=desk["brand"].pk, period=period, stores=frozenset({store.pk}), now=NOW)
    )

    assert report.spend is None and report.as_json()["x_spend"] is None


def test_the_monitoring_summary_has_today_the_month_and_the_budget(desk: dict[str, Any]) -> None:
    brand = desk["brand"]
    brand.x_monthly_budget = Decimal("0.10")
    brand.save()
    now = datetime(2026, 11, 2, 18, 0, tzinfo=CHICAGO)

    (state,) = spend_summary([brand.pk], now)

    # November so far: the two posts, the deletion, the refused post and the unpriced call
    assert state.month == date(2026, 11, 1)
    assert (state.today_micros, state.month_micros) == (10_000, 40_000)
    assert state.budget_micros == 100_000 and state.share == Decimal("0.4")
    assert not state.warning and not state.listening_paused
    assert {row.key: row.micros for row in state.by_account} == {
        desk["care"].pk: 30_000,
        desk["french"].pk: 10_000,
        None: 0,
    }


def test_the_report_page_shows_the_bill_and_the_budget(
    client: Client, desk: dict[str, Any]
) -> None:
    brand = desk["brand"]
    brand.x_monthly_budget = Decimal("0.05")
    brand.x_pause_listening_when_spent = True
    brand.save()
    People(brand).log_in(client, "agency")

    with time_machine.travel(datetime(2026, 11, 2, 18, 0, tzinfo=CHICAGO), tick=False):
        page = client.get("/reports/?period=custom&first=2026-10-31&last=2026-11-02")

    text = page.content.decode()
    assert page.status_code == 200
    assert "X API spend" in text and "$0.093" in text and "$0.031 per answered question" in text
    assert "of a $0.050 budget (80.0 %)" in text and "More than 80 %" in text


def budget_desk(settings: Any) -> tuple[Brand, dict[str, Any]]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    brand = make_brand(time_zone="America/Chicago", name="Acme", x_monthly_budget=Decimal("1"))
    people: dict[str, Any] = {}
    for role in (Role.VOLUNTEER, Role.SUPERVISOR, Role.AGENCY, Role.ADMIN):
        person = make_volunteer(brand, role=role)
        person.user.email = f"{role}@acme.example"
        person.user.save()
        people[role] = person
    return brand, people


def test_the_80_percent_warning_is_e_mailed_once_a_month(settings: Any) -> None:
    brand, _people = budget_desk(settings)
    account = make_account(brand)
    call(account, brand, datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO), "post_create", 53)
    now = datetime(2026, 11, 2, 10, 0, tzinfo=CHICAGO)

    # 79.5 %: no warning
    assert warn_budgets(now) == 0 and mail.outbox == []

    call(account, brand, datetime(2026, 11, 2, 9, 30, tzinfo=CHICAGO), "owned_read", 5)
    assert warn_budgets(now) == 1
    assert warn_budgets(now + timedelta(hours=5)) == 0
    with time_machine.travel(now, tick=False):
        assert warn_x_budgets() == 0

    assert sorted(m.to[0] for m in mail.outbox) == [
        "agency@acme.example",
        "supervisor@acme.example",
    ]
    assert mail.outbox[0].subject == "Acme: 80.0 % of this month's X budget is spent"
    assert "$0.800 of its $1.00 monthly budget" in mail.outbox[0].body
    brand.refresh_from_db()
    assert brand.x_budget_warned_month == date(2026, 11, 1)

    # December starts from nothing; crossing 80 % again warns again
    december = datetime(2026, 12, 1, 8, 0, tzinfo=CHICAGO)
    assert warn_budgets(december) == 0
    call(account, brand, december, "post_create", 60)
    assert warn_budgets(december + timedelta(minutes=1)) == 1
    assert len(mail.outbox) == 4


def test_a_warning_that_could_not_be_sent_is_tried_again(settings: Any) -> None:
    brand, _people = budget_desk(settings)
    call(None, brand, datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO), "post_create", 60)
    now = datetime(2026, 11, 2, 10, 0, tzinfo=CHICAGO)
    settings.EMAIL_BACKEND = "tests.reports.test_weekly_email.FailingBackend"

    assert warn_budgets(now) == 0

    brand.refresh_from_db()
    assert brand.x_budget_warned_month is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert warn_budgets(now) == 1 and len(mail.outbox) == 2


def test_no_budget_no_warning(settings: Any) -> None:
    brand, _people = budget_desk(settings)
    Brand.objects.filter(pk=brand.pk).update(x_monthly_budget=None)
    call(None, brand, datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO), "post_create", 600)

    assert warn_budgets(datetime(2026, 11, 2, 10, 0, tzinfo=UTC)) == 0
    assert mail.outbox == []


def test_the_report_page_says_when_listening_is_paused(
    client: Client, desk: dict[str, Any]
) -> None:
    brand = desk["brand"]
    brand.x_monthly_budget = Decimal("0.04")
    brand.x_pause_listening_when_spent = True
    brand.save()
    People(brand).log_in(client, "agency")

    with time_machine.travel(datetime(2026, 11, 2, 18, 0, tzinfo=CHICAGO), tick=False):
        text = client.get("/reports/?period=7d").content.decode()

    assert "of a $0.040 budget (100.0 %)" in text
    assert "listening queries are paused until next month" in text
