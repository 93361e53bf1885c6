"""The desk's pages and probes: /healthz, and the queue for every role (DESIGN invariant 8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from helpdesk.models import AuditEvent, Brand, Question, Role, Source
from helpdesk.states import QuestionState
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from tests.factories import make_account, make_brand, make_volunteer
from tests.people import People

PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets
BASE_ID = 1_880_000_000_000_000_000
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
METRICS_TOKEN = "metrics-token-for-tests"
MONITOR = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def monitor(settings: Any) -> dict[str, str]:
    """The headers of a monitor that holds the metrics token."""
    settings.METRICS_TOKEN = METRICS_TOKEN
    return MONITOR


def tweet_id(n: int) -> str:
    return str(BASE_ID + n)


def ingest(brand: Brand, *numbers: int) -> None:
    tweets = [{"id": tweet_id(n), "text": f"@CareDesk question {n}"} for n in numbers]
    ingest_batch(brand, parse_v2_response({"data": tweets}), source=Source.MENTIONS)


def listed_tweet_ids(page: str) -> list[str]:
    return re.findall(r'data-tweet-id="([0-9]+)"', page)


@pytest.mark.django_db
def test_healthz_reports_each_part_and_each_x_account(
    client: Client, brand: Brand, monitor: dict[str, str]
) -> None:
    # Given two care accounts, one of which failed its last poll
    make_account(brand, username="AHealthy", next_poll_at=NOW)
    make_account(
        brand,
        username="BFailing",
        next_poll_at=datetime(2026, 11, 20, 9, 45, tzinfo=UTC),
        last_polled_at=datetime(2026, 11, 20, 9, 29, tzinfo=UTC),
        consecutive_failures=3,
        last_error="TooManyRequests: 429 Too Many Requests",
        last_error_at=datetime(2026, 11, 20, 9, 29, 30, tzinfo=UTC),
    )

    # When a monitor with the metrics token asks the probe
    response = client.get("/healthz", headers=monitor)

    # Then the database, the channel layer and the broker answer, and each account is listed
    eager = django_settings.CELERY_TASK_ALWAYS_EAGER
    report = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert report["ok"] is True
    assert report["database"] == {"ok": True, "vendor": connection.vendor}
    assert report["channel_layer"]["ok"] is True
    assert report["events_layer"]["ok"] is True
    assert report["credentials"] == {"ok": True}
    assert report["broker"] == {"ok": True, "mode": "in-process" if eager else "redis"}
    assert report["x_accounts"] == [
        {
            "username": "AHealthy",
            "active": True,
            "last_polled_at": None,
            "next_poll_at": "2026-11-20T09:30:00+00:00",
            "consecutive_failures": 0,
            "last_error": "",
            "last_error_at": None,
        },
        {
            "username": "BFailing",
            "active": True,
            "last_polled_at": "2026-11-20T09:29:00+00:00",
            "next_poll_at": "2026-11-20T09:45:00+00:00",
            "consecutive_failures": 3,
            "last_error": "TooManyRequests: 429 Too Many Requests",
            "last_error_at": "2026-11-20T09:29:30+00:00",
        },
    ]


@pytest.mark.django_db
def test_healthz_is_unhealthy_without_a_channel_layer(
    client: Client, settings: Any, monitor: dict[str, str]
) -> None:
    # Given no channel layer configured
    settings.CHANNEL_LAYERS = {}

    # When the probe is asked
    response = client.get("/healthz", headers=monitor)

    # Then it says which part failed, with a 503 for the load balancer
    assert response.status_code == 503
    report = response.json()
    assert report["ok"] is False
    assert report["channel_layer"] == {"ok": False, "error": "no channel layer configured"}
    assert report["events_layer"]["ok"] is False
    assert report["database"]["ok"] is True


def _failing_account(brand: Brand) -> None:
    make_account(
        brand,
        username="SecretCare",
        consecutive_failures=2,
        last_error="Unauthorized: 401 Unauthorized",
        last_error_at=NOW,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "headers"),
    [
        ("anonymous", {}),
        ("anonymous", {"Authorization": "Bearer wrong-token"}),
        ("anonymous", {"Authorization": f"Basic {METRICS_TOKEN}"}),
        ("anonymous", {"Authorization": "Bearer "}),
        *[(role.value, {}) for role in Role],
        ("staff", {}),
    ],
)
def test_healthz_tells_everyone_else_only_whether_the_desk_is_up(
    client: Client, brand: Brand, settings: Any, who: str, headers: dict[str, str]
) -> None:
    # Given a metrics token, and a care account whose last poll failed
    settings.METRICS_TOKEN = METRICS_TOKEN
    _failing_account(brand)
    if who == "staff":  # the admin site's staff, not a superuser
        user = get_user_model().objects.create_user("staffer", password=PASSWORD, is_staff=True)
        client.force_login(user)
    elif who != "anonymous":
        client.force_login(make_volunteer(brand, role=Role(who)).user)

    # When anyone without the token, or signed in but not a superuser, asks the probe
    response = client.get("/healthz", headers=headers)

    # Then it says the desk is up, and nothing about its parts or any brand's accounts
    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert "SecretCare" not in response.text


@pytest.mark.django_db
def test_healthz_tells_anyone_when_the_desk_is_down_but_not_why(
    client: Client, settings: Any
) -> None:
    settings.CHANNEL_LAYERS = {}

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"ok": False}


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["token", "superuser"])
def test_healthz_details_for_a_superuser_and_the_metrics_token(
    client: Client, brand: Brand, settings: Any, how: str
) -> None:
    settings.METRICS_TOKEN = METRICS_TOKEN
    _failing_account(brand)
    headers = MONITOR if how == "token" else {}
    if how == "superuser":
        user = get_user_model().objects.create_superuser("root", password=PASSWORD)
        client.force_login(user)

    response = client.get("/healthz", headers=headers)

    report = response.json()
    assert response.status_code == 200
    assert report["database"] == {"ok": True, "vendor": connection.vendor}
    assert [(a["username"], a["last_error"]) for a in report["x_accounts"]] == [
        ("SecretCare", "Unauthorized: 401 Unauthorized")
    ]


@pytest.mark.django_db
def test_healthz_without_a_metrics_token_set_opens_to_no_token(
    client: Client, brand: Brand, settings: Any
) -> None:
    settings.METRICS_TOKEN = ""

    response = client.get("/healthz", headers={"Authorization": "Bearer "})

    assert response.json() == {"ok": True}


@pytest.mark.django_db
def test_healthz_answers_only_get(client: Client) -> None:
    response = client.post("/healthz")

    assert response.status_code == 405


QUEUE_ACCESS = [
    ("anonymous", 302),
    ("no-desk-record", 403),
    ("agency", 403),
    ("volunteer-without-standing", 200),
    ("untrained", 200),
    ("certified", 200),
    ("suspended", 200),
    ("supervisor", 200),
    ("admin", 200),
    ("other-brand-volunteer", 200),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "status"), QUEUE_ACCESS, ids=[w for w, _ in QUEUE_ACCESS])
def test_queue_shows_only_the_own_brands_queued_questions_to_desk_members(
    who: str, status: int, client: Client
) -> None:
    # Given two brands' questions: queued, dismissed, and another brand's queued one
    brand = make_brand(slug="northwind")
    other = make_brand(slug="contoso")
    ingest(brand, 1, 2, 3)
    ingest(other, 4)
    Question.objects.filter(tweet_id=tweet_id(3)).update(state=QuestionState.DISMISSED)
    states_before = dict(Question.objects.values_list("tweet_id", "state"))
    events_before = AuditEvent.objects.count()
    People(brand).log_in(client, who)

    # When they open the queue
    response = client.get("/queue/")

    # Then desk members see their brand's queued questions (off shift, to read only), and
    # nobody else sees any
    assert response.status_code == status
    page = response.content.decode("utf-8")
    if status == 302:
        assert response["Location"] == "/accounts/login/?next=/queue/"
    if status == 200 and who != "other-brand-volunteer":
        assert listed_tweet_ids(page) == [tweet_id(1), tweet_id(2)]
        assert "2 questions waiting" in page
    else:
        assert listed_tweet_ids(page) == []
        assert "@CareDesk question" not in page
    assert dict(Question.objects.values_list("tweet_id", "state")) == states_before
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_htmx_refresh_gets_only_the_rows_fragment(
    client: Client, brand: Brand, people: People
) -> None:
    # Given a volunteer with one queued question
    ingest(brand, 1)
    people.log_in(client, "volunteer-without-standing")

    # When htmx asks for the queue
    response = client.get("/queue/", headers={"HX-Request": "true"})

    # Then it gets the rows alone, not a whole page
    page = response.content.decode("utf-8")
    assert response.status_code == 200
    assert "<html" not in page
    assert "<title>" not in page
    assert listed_tweet_ids(page) == [tweet_id(1)]
    assert "1 question waiting" in page


@pytest.mark.django_db
def test_queue_page_declares_its_language_and_title(
    client: Client, brand: Brand, people: People
) -> None:
    people.log_in(client, "volunteer-without-standing")

    response = client.get("/queue/")

    page = response.content.decode("utf-8")
    assert '<html lang="en">' in page
    assert "<title>Queue · Helpforce</title>" in page


@pytest.mark.django_db
def test_login_page_declares_its_language_and_title(client: Client) -> None:
    response = client.get("/accounts/login/")

    page = response.content.decode("utf-8")
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert re.search(r"<title>[^<]+</title>", page) is not None


@pytest.mark.django_db
def test_a_french_browser_gets_a_french_page(client: Client, brand: Brand, people: People) -> None:
    # Given a volunteer whose browser prefers French
    people.log_in(client, "volunteer-without-standing")

    # When they open the queue
    response = client.get("/queue/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})

    # Then the page says it is French, and caches know it depends on the language
    page = response.content.decode("utf-8")
    assert response.status_code == 200
    assert '<html lang="fr">' in page
    assert "Accept-Language" in response["Vary"]


@pytest.mark.django_db
def test_healthz_says_when_the_credentials_cannot_be_decrypted(
    client: Client, settings: Any, monitor: dict[str, str]
) -> None:
    # Given an account stored under one secret key, and a process started with another
    make_account(make_brand(), username="Care")
    settings.SECRET_KEY = "another-secret-key"

    # When the probe is asked
    response = client.get("/healthz", headers=monitor)

    # Then it is unhealthy and says why, instead of failing with a 500
    assert response.status_code == 503
    report = response.json()
    assert report["credentials"]["ok"] is False
    assert "SECRET_KEY or HELPFORCE_TOKEN_KEY" in report["credentials"]["error"]
    assert [a["username"] for a in report["x_accounts"]] == ["Care"]
