"""/metrics: refused without the token or an allowed address; Prometheus's own parser reads
it; its figures equal the rows; failed tasks and open websockets are counted."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from helpdesk.models import Brand, Reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.tasks import poll_account as poll_account_task
from tests.factories import make_account, make_brand, make_volunteer
from tests.reports.factories import make_question

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-metrics-token"


@pytest.fixture(autouse=True)
def _token(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED = []


def scrape(
    client: Client | None = None, **headers: str
) -> dict[tuple[str, tuple[Any, ...]], float]:
    response = (client or Client()).get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.parametrize(
    "authorization", ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_refused_without_the_token(authorization: str) -> None:
    response = Client().get("/metrics", headers={"Authorization": authorization})
    assert response.status_code == 403
    assert b"helpforce_questions" not in response.content


def test_refused_to_a_signed_in_person_too(settings: Any) -> None:
    brand = make_brand()
    agency = make_volunteer(brand, role="agency")
    client = Client()
    client.force_login(agency.user)
    assert client.get("/metrics").status_code == 403


def test_read_from_an_allowed_address_without_the_token(settings: Any) -> None:
    settings.METRICS_ALLOWED = [ipaddress.ip_network("127.0.0.0/8")]
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 403


def test_the_figures_equal_the_rows() -> None:
    now = timezone.now()
    brand: Brand = make_brand(slug="northwind")
    account = make_account(brand, username="northwind_care")
    author = make_volunteer(brand).user
    for minutes in (3, 8, 20):
        make_question(brand, received_at=now - timedelta(minutes=minutes))
    make_question(brand, received_at=now - timedelta(minutes=1), state=QuestionState.DISMISSED)
    for _ in range(2):
        approved = make_question(brand, received_at=now, state=QuestionState.APPROVED)
        Reply.objects.create(
            question=approved,
            author=author,
            account=account,
            text="Hi ^AB",
            state=ReplyState.QUEUED,
            queued_at=now,
        )
    samples = scrape()
    assert samples[("helpforce_questions", (("brand", "northwind"), ("state", "queued")))] == 3
    assert samples[("helpforce_questions", (("brand", "northwind"), ("state", "dismissed")))] == 1
    assert samples[("helpforce_questions", (("brand", "northwind"), ("state", "answered")))] == 0
    oldest = samples[("helpforce_oldest_waiting_seconds", (("brand", "northwind"),))]
    assert 20 * 60 <= oldest < 21 * 60
    assert samples[("helpforce_send_queue", (("account", "northwind_care"),))] == 2
    assert samples[("helpforce_last_poll_age_seconds", (("account", "northwind_care"),))] == -1


def test_a_failed_task_is_counted() -> None:
    key = ("helpforce_task_failures_total", (("task", poll_account_task.name),))
    before = scrape().get(key, 0)
    # Run in-process as a worker runs it: the failure is reported, not raised to the caller
    # (in-process tasks otherwise raise, CELERY_TASK_EAGER_PROPAGATES).
    result = poll_account_task.apply(args=(987654321,), throw=False)  # no such account
    assert result.failed()
    after = scrape()[key]
    assert after == before + 1


def test_x_calls_and_spend_of_the_month() -> None:
    from helpdesk.models import XApiCall

    brand = make_brand()
    account = make_account(brand, username="care_x")
    now = timezone.now()
    for micros in (15_000, 200_000):
        XApiCall.objects.create(
            at=now,
            brand=brand,
            account=account,
            endpoint="POST /2/tweets",
            category="post_create",
            units=1,
            unit_price_micros=micros,
            cost_micros=micros,
        )
    XApiCall.objects.create(
        at=now - timedelta(days=40),
        brand=brand,
        account=account,
        endpoint="POST /2/tweets",
        category="post_create",
        units=1,
        unit_price_micros=15_000,
        cost_micros=15_000,
    )
    samples = scrape()
    label = (("account", "care_x"), ("category", "post_create"))
    assert samples[("helpforce_x_calls_month", label)] == 2
    assert samples[("helpforce_x_spend_month_usd", label)] == pytest.approx(0.215)
