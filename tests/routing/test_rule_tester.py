"""The rule tester in the admin: staff type a text and see the rules it hits; nobody else
gets in."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from helpdesk.models import Brand
from routing.models import RoutingRule, RuleKind, Topic
from tests.factories import make_account
from tests.people import People

pytestmark = pytest.mark.django_db
URL = "/admin/routing/routingrule/tester/"
PASSWORD = "correct horse battery"


@pytest.fixture
def desk(brand: Brand) -> Brand:
    make_account(brand, username="NorthwindHelp", x_user_id="801")
    topic = Topic.objects.create(brand=brand, slug="tv", name="Televisions")
    RoutingRule.objects.create(
        brand=brand,
        name="tv sets",
        kind=RuleKind.KEYWORD,
        pattern="tv",
        effect="topic",
        topic=topic,
    )
    RoutingRule.objects.create(
        brand=brand, name="anger", kind=RuleKind.REGEX, pattern=r"\bfurious\b", effect="priority"
    )
    return brand


def staff(*, superuser: bool = False, perms: tuple[str, ...] = ()) -> Any:
    user = get_user_model().objects.create_user(
        username=f"staff{superuser}{len(perms)}", password=PASSWORD, is_staff=True
    )
    user.is_superuser = superuser
    user.save()
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_staff_see_the_rules_a_text_hits_and_its_classification(
    client: Client, desk: Brand
) -> None:
    client.force_login(staff(perms=("view_routingrule",)))

    response = client.post(
        URL,
        {"brand": desk.pk, "text": "@NorthwindHelp my <b>TV</b> died, I am FURIOUS", "lang": ""},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert '<td class="name">tv sets</td>' in page
    assert '<td class="matched">TV</td>' in page
    assert '<td class="name">anger</td>' in page
    assert '<td class="matched">FURIOUS</td>' in page
    assert '<td class="language">en</td>' in page
    assert '<td class="topic">Televisions</td>' in page
    assert '<td class="priority">0 (Urgent)</td>' in page
    assert '<td class="noise">no, a question</td>' in page
    assert "<b>TV</b>" not in page


def test_the_tester_shows_noise_and_no_hits(client: Client, desk: Brand) -> None:
    client.force_login(staff(superuser=True))

    response = client.post(URL, {"brand": desk.pk, "text": "@NorthwindHelp 🔥🔥🔥", "lang": "en"})

    page = response.content.decode()
    assert '<td class="noise">yes: chatter: reactions only</td>' in page
    assert "No rule matches this text." in page


def test_the_rule_list_links_to_the_tester(client: Client, desk: Brand) -> None:
    client.force_login(staff(superuser=True))

    response = client.get("/admin/routing/routingrule/")

    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()


def test_an_empty_form_is_shown_on_get(client: Client, desk: Brand) -> None:
    client.force_login(staff(superuser=True))

    response = client.get(URL)

    assert response.status_code == 200
    assert 'name="text"' in response.content.decode()
    assert "Rules hit" not in response.content.decode()


@pytest.mark.parametrize(
    "who",
    [
        "anonymous",
        "no-desk-record",
        "untrained",
        "certified",
        "suspended",
        "supervisor",
        "agency",
        "admin",  # the desk's admin role, not Django's staff flag
    ],
)
def test_non_staff_are_sent_to_the_admin_login(client: Client, desk: Brand, who: str) -> None:
    People(desk).log_in(client, who)

    response = client.post(URL, {"brand": desk.pk, "text": "@NorthwindHelp my TV?"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_permission_on_rules_are_refused(client: Client, desk: Brand) -> None:
    client.force_login(staff())

    response = client.post(URL, {"brand": desk.pk, "text": "@NorthwindHelp my TV?"})

    assert response.status_code == 403


def test_the_admin_names_a_brand_s_routing_settings_in_english_and_french(
    client: Client, brand: Brand
) -> None:
    client.force_login(staff(superuser=True))

    english = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr")

    assert ">Routing settings</a>" in english.text
    assert "settingss" not in english.text
    assert ">Réglages de routage</a>" in french.text
