"""The demo's management commands: ``seed_demo`` and ``demo`` (and its embedded wiring)."""

from __future__ import annotations

import os
import threading
from io import StringIO
from types import SimpleNamespace
from typing import Any, cast

import pytest
import requests
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, models
from django.test import Client

from helpdesk.management.commands import demo
from helpdesk.management.commands.demo import demo_site_url
from helpdesk.management.commands.seed_demo import DEMO_PASSWORD
from helpdesk.models import Brand, Customer, Question, Role, Store, Volunteer, XAccount
from helpdesk.reports.demo_history.cast import HISTORY_USER_PREFIX
from helpdesk.states import QuestionState
from tests.waiting import wait_for

SEEDED_MODELS: list[type[models.Model]] = [Brand, XAccount, Store, Volunteer, get_user_model()]


@pytest.fixture
def demo_settings(settings: Any) -> Any:
    settings.DEBUG = True
    return settings


def seed_demo(*args: str) -> str:
    """``seed_demo`` with two weeks of history unless told otherwise: the history's own
    figures are the reports' tests'; four months took most of this file's time."""
    out = StringIO()
    if "--no-history" not in args and not any(a.startswith("--history-days") for a in args):
        args = (*args, "--history-days", "14")
    call_command("seed_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values())
        for model in SEEDED_MODELS
    }


@pytest.mark.django_db
def test_seed_demo_creates_the_brand_its_accounts_stores_and_people(demo_settings: Any) -> None:
    output = seed_demo()

    brand = Brand.objects.get()
    assert (brand.slug, brand.name) == ("northwind", "Northwind Electronics")
    accounts = list(
        XAccount.objects.order_by("x_user_id").values_list(
            "brand__slug", "username", "x_user_id", "language", "poll_interval_seconds", "is_active"
        )
    )
    assert accounts == [
        ("northwind", "NorthwindHelp", "1600000000000000001", "en", 2, True),
        ("northwind", "NorthwindAide", "1600000000000000002", "fr", 2, True),
    ]
    help_account = XAccount.objects.get(username="NorthwindHelp")
    assert help_account.bearer_token == "demo-bearer-northwindhelp"
    assert all(
        [
            help_account.consumer_key,
            help_account.consumer_secret,
            help_account.access_token,
            help_account.access_token_secret,
        ]
    )
    stores = set(Store.objects.filter(brand=brand).values_list("code", flat=True))
    assert {"NW-SEA", "NW-CHI", "NW-MTL"} <= stores and len(stores) == 7
    demo_people = (
        Volunteer.objects.filter(brand=brand)
        .exclude(user__username__startswith=HISTORY_USER_PREFIX)
        .exclude(user__username__startswith="sim-")
    )
    roles = sorted(demo_people.values_list("role", flat=True))
    assert roles == sorted([Role.ADMIN, Role.AGENCY, Role.SUPERVISOR] + [Role.VOLUNTEER] * 4)
    volunteer_languages = Volunteer.objects.filter(role=Role.VOLUNTEER).values_list(
        "languages", flat=True
    )
    assert any("fr" in languages for languages in volunteer_languages)
    admin = get_user_model().objects.get(volunteer__role=Role.ADMIN)
    assert admin.is_superuser and admin.is_staff
    assert not get_user_model().objects.filter(is_staff=True).exclude(pk=admin.pk).exists()
    for volunteer in demo_people.select_related("user"):
        username = volunteer.user.get_username()
        assert authenticate(username=username, password=DEMO_PASSWORD) == volunteer.user
        assert f"  {username} " in output
    # The people of the history cannot log in: they have no password.
    history = Volunteer.objects.filter(user__username__startswith=HISTORY_USER_PREFIX)
    assert history.count() == 20
    assert not any(volunteer.user.has_usable_password() for volunteer in history)
    # Nor can the simulated colleagues, who answer while the demo runs.
    colleagues = Volunteer.objects.filter(user__username__startswith="sim-")
    assert colleagues.count() == 4
    assert not any(volunteer.user.has_usable_password() for volunteer in colleagues)
    assert "History for the reports:" in output
    assert "Log in to the desk (`python manage.py demo` prints its address)" in output
    assert DEMO_PASSWORD in output


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing_and_says_so(demo_settings: Any) -> None:
    seed_demo()
    before = snapshot()

    output = seed_demo()

    assert snapshot() == before
    assert "nothing changed" in output


@pytest.mark.django_db
def test_a_trained_demo_volunteer_has_passed_every_required_module(
    demo_settings: Any, client: Client
) -> None:
    """Issue 11 (19): the training page said "valid until" above modules "not passed yet"."""
    seed_demo("--no-history")
    client.force_login(get_user_model().objects.get(username="alice"))

    page = client.get("/training/").content.decode()

    assert "Your training is valid until" in page
    assert "Not passed yet" not in page


@pytest.mark.django_db
def test_seed_demo_restores_what_was_changed_since(demo_settings: Any) -> None:
    # (The history is the reports'; this is about the desk's own records.)
    seed_demo("--no-history")
    XAccount.objects.filter(username="NorthwindHelp").update(poll_interval_seconds=60)
    alice = get_user_model().objects.get(username="alice")
    alice.set_password("something else entirely")
    alice.save()

    output = seed_demo("--no-history")

    assert XAccount.objects.get(username="NorthwindHelp").poll_interval_seconds == 2
    assert authenticate(username="alice", password=DEMO_PASSWORD) is not None
    assert "0 created, 2 updated" in output
    assert "nothing changed" not in output


@pytest.mark.django_db
def test_make_demo_on_another_port_names_only_that_port(demo_settings: Any) -> None:
    # Given `make demo DEMO_ARGS='--port 8001'`: seed_demo, then the demo on port 8001
    seeded = seed_demo("--no-history")
    out = StringIO()
    command = demo.Command(stdout=out, stderr=StringIO())
    desk = SimpleNamespace(sandbox_url="http://127.0.0.1:8765", accounts=["@NorthwindHelp"])

    # When both have said where to log in
    command._announce(cast(demo.EmbeddedDesk, desk), "127.0.0.1", 8001, 0.5)
    printed = seeded + out.getvalue()

    # Then the only desk address printed is the one it listens on
    assert ":8000" not in printed
    assert "Helpforce desk:  http://127.0.0.1:8001/" in printed
    assert "Admin site:      http://127.0.0.1:8001/admin/" in printed


@pytest.mark.django_db
def test_seed_demo_refuses_with_debug_off(demo_settings: Any) -> None:
    demo_settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        seed_demo()

    assert Brand.objects.count() == 0
    assert get_user_model().objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_runs_with_debug_off_when_forced(demo_settings: Any) -> None:
    demo_settings.DEBUG = False

    seed_demo("--force", "--no-history")

    assert Brand.objects.filter(slug="northwind").exists()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 - the value under test
        ("::", False),
        ("192.168.1.20", False),
        ("desk.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert demo.is_loopback(host) is loopback


@pytest.fixture
def nothing_starts(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[dict[str, Any]]:
    """Record (and refuse) any attempt of the demo command to start the embedded desk."""
    calls: list[dict[str, Any]] = []

    def refuse(**kwargs: Any) -> Any:
        calls.append(kwargs)
        raise AssertionError("the embedded desk must not start")

    monkeypatch.setattr(demo, "start_embedded_desk", refuse)
    settings.X_API_BASE_URL = ""
    return calls


def assert_nothing_started(calls: list[dict[str, Any]], settings: Any) -> None:
    assert calls == []
    assert settings.X_API_BASE_URL == ""
    assert not [t for t in threading.enumerate() if t.name == "helpforce-poller"]


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "desk.example.com"])  # noqa: S104
def test_demo_refuses_a_non_loopback_host(
    host: str, nothing_starts: list[dict[str, Any]], settings: Any
) -> None:
    settings.EMBEDDED = True

    with pytest.raises(CommandError, match="--allow-external"):
        call_command("demo", host=host, stdout=StringIO())

    assert_nothing_started(nothing_starts, settings)


@pytest.mark.django_db
def test_demo_refuses_a_database_that_is_not_embedded(
    nothing_starts: list[dict[str, Any]], settings: Any
) -> None:
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="DATABASE_URL"):
        call_command("demo", stdout=StringIO())

    assert_nothing_started(nothing_starts, settings)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "options",
    [
        {"port": 0},
        {"port": 70000},
        {"sandbox_port": -1},
        {"rate": -1.0},
        {"rate": 1001.0},
        {"rate": float("nan")},
    ],
)
def test_demo_refuses_bad_ports_and_rates(
    options: dict[str, Any], nothing_starts: list[dict[str, Any]], settings: Any
) -> None:
    settings.EMBEDDED = True

    with pytest.raises(CommandError):
        call_command("demo", stdout=StringIO(), **options)

    assert_nothing_started(nothing_starts, settings)


@pytest.mark.django_db(transaction=True)
def test_embedded_desk_turns_sandbox_traffic_into_queued_questions(
    demo_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_demo()
    history = set(Question.objects.values_list("pk", flat=True))
    demo_settings.X_API_BASE_URL = ""
    monkeypatch.delenv("X_API_BASE_URL", raising=False)
    demo_settings.X_HTTP_TIMEOUT_SECONDS = 5.0

    desk = demo.start_embedded_desk(sandbox_port=0, rate=0.0, poll_interval=0.2, seed=1)
    try:
        assert desk.sandbox_url == demo_settings.X_API_BASE_URL == os.environ["X_API_BASE_URL"]
        assert desk.accounts == ["@NorthwindHelp", "@NorthwindAide"]
        base = desk.sandbox_url.rstrip("/")
        response = requests.post(
            f"{base}/_sandbox/users",
            json={"username": "somecustomer", "name": "Some Customer"},
            timeout=5,
        )
        assert response.status_code == 201, response.text
        response = requests.post(
            f"{base}/_sandbox/tweets",
            json={
                "tweets": [
                    {
                        "author_username": "somecustomer",
                        "text": "@NorthwindHelp my order never arrived",
                    }
                ]
            },
            timeout=5,
        )
        assert response.status_code == 201, response.text

        def queued() -> Question | None:
            try:
                return (
                    Question.objects.filter(state=QuestionState.QUEUED)
                    .exclude(pk__in=history)
                    .select_related("account", "customer")
                    .first()
                )
            except OperationalError as error:
                # The in-memory test database is in SQLite's shared-cache mode, which refuses
                # a read at once while the poller's thread writes, instead of waiting: ask
                # again on the next round.
                if "is locked" not in str(error):
                    raise
                return None

        question = wait_for("the tweet queued as a question", queued, 15)
    finally:
        desk.stop()

    assert question.text == "@NorthwindHelp my order never arrived"
    assert question.account is not None and question.account.username == "NorthwindHelp"
    assert question.customer == Customer.objects.get(username="somecustomer")
    assert question.customer.name == "Some Customer"
    assert Question.objects.exclude(pk__in=history).count() == 1
    assert not desk.poller.is_alive()
    assert demo_settings.X_API_BASE_URL == ""
    assert "X_API_BASE_URL" not in os.environ


@pytest.mark.django_db
def test_seed_demo_puts_every_desk_member_through_the_gate(demo_settings: Any) -> None:
    from django.contrib.auth.models import User

    from charter.gate import may_claim, may_send
    from charter.models import TrainingModule

    seed_demo("--no-history")
    brand = Brand.objects.get(slug="northwind")

    def user(name: str) -> User:
        return User.objects.get(username=name)

    assert TrainingModule.objects.filter(brand=brand).count() == 3
    for name in ("alice", "bruno", "camille", "dev", "sam", "admin"):
        assert may_claim(user(name), brand.pk).allowed is True, name
    assert may_claim(user("agnes"), brand.pk).codes == ["not_enrolled"]
    trainee = may_send(
        user("dev"), brand.pk, "Usually about 2 days. ^DP", reply_key="x", signature="^DP"
    )
    assert (trainee.allowed, trainee.needs_review, trainee.codes) == (
        True,
        True,
        ["trainee_review"],
    )


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("::1", 8000, "http://[::1]:8000"),
        ("::", 9000, "http://127.0.0.1:9000"),
        ("localhost", 8000, "http://localhost:8000"),
    ],
)
def test_the_demo_links_to_where_it_listens(host: str, port: int, url: str) -> None:
    """The weekly e-mail's links said port 8000 whatever ``--port`` said."""
    assert demo_site_url(host, port) == url


@pytest.mark.parametrize(
    ("given", "rate"), [("auto", None), ("AUTO", None), ("0.5", 0.5), ("0", 0.0)]
)
def test_demo_rate_is_auto_or_a_number(given: str, rate: float | None) -> None:
    assert demo._rate(given) == rate


def test_demo_rate_refuses_words_other_than_auto() -> None:
    with pytest.raises(CommandError, match="not a number or 'auto'"):
        call_command("demo", "--rate", "fast", stdout=StringIO(), stderr=StringIO())
