"""Every person lands on the page made for their role, and a refusal anywhere is a page in
the site's layout and the person's language that says what they can do instead."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from helpdesk.log_filters import PermissionDeniedOneLine
from helpdesk.models import Brand, Enrolment
from tests.factories import make_brand, make_store
from tests.people import People

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
HOMES = {
    "volunteer-without-standing": "/queue/",
    "untrained": "/queue/",
    "certified": "/queue/",
    "suspended": "/queue/",
    "supervisor": "/desk/review/",
    "agency": "/reports/",
    "admin": "/desk/floor/",
}


@pytest.fixture
def people(brand: Brand) -> People:
    """The shared people, working in a store of the brand."""
    return People(brand, store=make_store(brand))


@pytest.mark.parametrize("role", list(HOMES))
def test_login_lands_on_the_roles_page(client: Client, people: People, role: str) -> None:
    response = client.post(
        "/accounts/login/", {"username": people.user(role).username, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == HOMES[role]
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("role", list(HOMES))
def test_the_root_sends_each_role_home(client: Client, people: People, role: str) -> None:
    people.log_in(client, role)

    response = client.get("/")

    assert (response.status_code, response["Location"]) == (302, HOMES[role])


def test_a_safe_next_still_wins(client: Client, people: People) -> None:
    response = client.post(
        "/accounts/login/?next=/reports/me/",
        {"username": people.user("volunteer-without-standing").username, "password": PASSWORD},
    )

    assert response["Location"] == "/reports/me/"


def test_someone_outside_every_programme_is_told_how_to_join(
    client: Client, people: People
) -> None:
    login = client.post(
        "/accounts/login/",
        {"username": people.user("no-desk-record").username, "password": PASSWORD},
    )
    page = client.get("/")

    assert login["Location"] == "/"
    assert page.status_code == 200
    assert "not part of a brand's programme yet" in page.content.decode()
    assert 'href="/charter/enrol/"' in page.content.decode()


def test_someone_who_asked_to_join_lands_on_their_request(client: Client, people: People) -> None:
    brand = make_brand()
    Enrolment.objects.create(
        user=people.user("no-desk-record"),
        brand=brand,
        store=make_store(brand),
        employee_number="E1",
    )
    people.log_in(client, "no-desk-record")

    assert client.get("/")["Location"] == "/charter/status/"


def test_anonymous_people_are_asked_to_log_in(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


REFUSED = [
    ("agency", "/queue/", "/reports/", "The queue is where volunteers"),
    ("agency", "/desk/review/", "/reports/", "This page is for supervisors."),
    ("volunteer-without-standing", "/desk/review/", "/queue/", "This page is for supervisors."),
    ("volunteer-without-standing", "/reports/", "/reports/me/", "Reports are for the agency"),
    ("volunteer-without-standing", "/reports/api-tokens/", "/queue/", "The reporting API is for"),
    ("supervisor", "/reports/api-tokens/", "/desk/review/", "The reporting API is for"),
    ("agency", "/reports/me/", "/reports/", "Your figures are kept"),
    ("no-desk-record", "/queue/", "/", "The queue is where volunteers"),
]


@pytest.mark.parametrize(("role", "path", "suggested", "explained"), REFUSED)
def test_a_refusal_is_a_page_that_says_what_to_do(
    client: Client, people: People, role: str, path: str, suggested: str, explained: str
) -> None:
    people.log_in(client, role)

    response = client.get(path)

    page = response.content.decode()
    assert response.status_code == 403
    assert "<title>Not for your role · Helpforce</title>" in page
    assert '<header class="top">' in page  # the site's layout, with its navigation
    assert "What you can do" in page
    assert f'href="{suggested}"' in page
    assert explained.replace("'", "&#x27;") in page
    assert "Log in as someone else" in page


def test_the_generic_reason_is_not_said_twice(client: Client, people: People) -> None:
    people.log_in(client, "agency")

    page = client.get("/queue/").content.decode()

    assert "The queue is where volunteers" in page
    assert "This page is not part of your role." not in page


def test_a_refusal_in_french(client: Client, people: People) -> None:
    people.log_in(client, "agency")

    response = client.get("/queue/", HTTP_ACCEPT_LANGUAGE="fr")

    page = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="fr">' in page
    assert "Ce que vous pouvez faire" in page
    assert 'href="/reports/"' in page


def test_an_htmx_refusal_is_a_fragment(client: Client, people: People) -> None:
    people.log_in(client, "agency")

    response = client.get("/queue/", HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert "<html" not in response.content.decode()
    assert 'role="alert"' in response.content.decode()


def test_an_expired_form_is_explained(people: People) -> None:
    client = Client(enforce_csrf_checks=True)
    people.log_in(client, "volunteer-without-standing")

    response = client.post("/desk/shift/", {"action": "start"})

    page = response.content.decode()
    assert response.status_code == 403
    assert "The form expired" in page
    assert "Nothing was changed." in page
    assert '<header class="top">' in page


def test_a_page_that_is_not_there(client: Client, people: People) -> None:
    people.log_in(client, "volunteer-without-standing")

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert '<header class="top">' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            "agency",
            ["/reports/", "/reports/api-tokens/", "/monitoring/"],
            ["/queue/", "/reports/me/"],
        ),
        (
            "volunteer-without-standing",
            ["/queue/", "/reports/me/"],
            ['href="/reports/"', "/reports/api-tokens/", "/monitoring/"],
        ),
        (
            "supervisor",
            ["/queue/", "/reports/", "/desk/review/", "/monitoring/"],
            ["/reports/api-tokens/"],
        ),
        ("admin", ["/reports/", "/reports/api-tokens/", "/desk/floor/"], []),
    ],
)
def test_the_navigation_offers_each_role_its_pages(
    client: Client, people: People, role: str, shown: list[str], hidden: list[str]
) -> None:
    people.log_in(client, role)

    nav = client.get(HOMES[role]).content.decode().split('<nav aria-label="Main">')[1]
    nav = nav.split("</nav>")[0]

    for link in shown:
        assert link in nav
    for link in hidden:
        assert link not in nav


def test_a_refusal_is_logged_as_one_line_without_a_traceback(
    client: Client, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a volunteer opening the supervisors' review page
    people.log_in(client, "certified")

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/desk/review/")

    # Then the log has one line for it, as the desk's console handler writes it
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", "Forbidden (Permission denied): /desk/review/")
    ]
    logging_config: dict[str, Any] = settings.LOGGING
    console = logging.Formatter(logging_config["formatters"]["plain"]["format"])
    assert "\n" not in console.format(records[0])
    assert records[0].exc_info is None


def test_a_server_error_is_still_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The filter drops only a refusal's traceback.
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x",), None
    )
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()

    assert PermissionDeniedOneLine().filter(record) is True
    assert record.exc_info is not None and record.exc_info[0] is ValueError


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("certified", "get", "/charter/accept/"),
        ("supervisor", "get", "/desk/review/bulk/"),
        ("certified", "post", "/queue/"),
        ("anonymous", "get", "/accounts/logout/"),
    ],
)
def test_a_method_the_address_does_not_take_is_a_page(
    client: Client, people: People, role: str, method: str, path: str
) -> None:
    people.log_in(client, role)

    response = getattr(client, method)(path)

    page = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] in ("POST", "GET", "GET, HEAD", "POST, OPTIONS")
    assert '<header class="top">' in page
    assert "<title>Not possible here · Helpforce</title>" in page


def test_the_apis_405_stays_its_json(client: Client, people: People) -> None:
    people.log_in(client, "agency")

    response = client.post("/api/v1/summary/")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
