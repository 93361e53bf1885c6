"""The crisis-mode page: the brand's supervisors and admins switch it on and off with plain
forms; everyone else gets the refusal page and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from helpdesk.audit import events
from helpdesk.models import Brand
from routing.crisis import crisis_for, start_crisis
from routing.models import CrisisMode
from tests.factories import make_saved_reply, make_topic, publish_charter
from tests.people import (
    ADMIN,
    ANONYMOUS,
    KINDS,
    OTHER_BRAND_SUPERVISOR,
    SUPERVISOR,
    SUPERVISOR_OTHER_STORE,
    People,
)

pytestmark = pytest.mark.django_db

PAGE = "/crisis/"
END = "/crisis/end/"
# The desk has no "agency admin": the brand's admin is the closest; agency staff only read.
SWITCHERS = {SUPERVISOR, SUPERVISOR_OTHER_STORE, ADMIN}


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand)
    return brand


@pytest.fixture
def recall(desk: Brand) -> Any:
    return make_topic(desk, slug="recall", name="Recall")


def test_the_urls_are_the_named_ones() -> None:
    assert (reverse("crisis:page"), reverse("crisis:end")) == (PAGE, END)


@pytest.mark.parametrize("kind", KINDS)
def test_only_supervisors_and_admins_of_the_brand_switch_it_on(
    client: Client, desk: Brand, recall: Any, people: People, kind: str
) -> None:
    people.log_in(client, kind)

    page = client.get(PAGE)
    posted = client.post(PAGE, {"topic": str(recall.pk), "reason": "Recall"})

    if kind == ANONYMOUS:
        assert page.status_code == posted.status_code == 302
        assert page["Location"].startswith("/accounts/login/")
    elif kind in SWITCHERS:
        assert page.status_code == 200
        assert posted.status_code == 302 and posted["Location"] == PAGE
        crisis = crisis_for(desk.pk, recall.pk)
        assert crisis is not None and crisis.started_by == people.user(kind)
        return
    elif kind == OTHER_BRAND_SUPERVISOR:
        # Their own brand's page, where this brand's topic is no choice.
        assert (page.status_code, posted.status_code) == (200, 400)
        assert "Recall" not in page.content.decode()
    else:
        assert page.status_code == posted.status_code == 403
        assert "Crisis mode is switched by the brand&#x27;s supervisors and admins." in (
            page.content.decode()
        )
    assert not CrisisMode.objects.exists()
    assert not events().exists()


@pytest.mark.parametrize("kind", KINDS)
def test_only_supervisors_and_admins_of_the_brand_switch_it_off(
    client: Client, desk: Brand, recall: Any, people: People, kind: str
) -> None:
    supervisor = people.user(SUPERVISOR)
    start_crisis(desk.pk, recall.pk, supervisor)
    people.log_in(client, kind)

    response = client.post(END, {"topic": str(recall.pk), "reason": "Over"})

    if kind in SWITCHERS:
        assert response.status_code == 302
        assert crisis_for(desk.pk, recall.pk) is None
        assert list(events().order_by("pk").values_list("kind", "actor_id")) == [
            ("crisis.started", supervisor.pk),
            ("crisis.ended", people.user(kind).pk),
        ]
        return
    # Another brand's supervisor switches off their own brand's crisis: there is none.
    assert response.status_code == (403 if kind not in (ANONYMOUS, OTHER_BRAND_SUPERVISOR) else 302)
    assert crisis_for(desk.pk, recall.pk) is not None
    assert list(events().values_list("kind", flat=True)) == ["crisis.started"]


def test_a_supervisor_switches_it_on_with_a_holding_statement_and_off_again(
    client: Client, desk: Brand, recall: Any, people: People
) -> None:
    holding = make_saved_reply(desk, title="We are on it", topic=recall)
    people.log_in(client, SUPERVISOR)

    form = client.get(f"{PAGE}?topic={recall.pk}&alert=7")
    on = client.post(
        PAGE,
        {
            "topic": str(recall.pk),
            "holding_statement": str(holding.pk),
            "reason": "Battery recall",
            "alert": "7",
        },
    )
    listed = client.get(PAGE).content.decode()
    off = client.post(END, {"topic": str(recall.pk), "reason": "Handled"})

    assert form.context["form"]["topic"].value() == str(recall.pk)
    assert form.context["form"]["alert"].value() == "7"
    assert [str(m) for m in get_messages(on.wsgi_request)] == ["Crisis mode is on for Recall."]
    assert "Holding statement: We are on it" in listed and "Battery recall" in listed
    crisis = CrisisMode.objects.get()
    assert (crisis.topic, crisis.holding_statement, crisis.alert_id) == (recall, holding, 7)
    assert crisis.ended_by == people.user(SUPERVISOR) and crisis.end_reason == "Handled"
    assert off.status_code == 302


def test_the_whole_brand_is_chosen_by_name(client: Client, desk: Brand, people: People) -> None:
    people.log_in(client, ADMIN)

    client.post(PAGE, {"topic": "brand", "reason": "Outage"})
    listed = client.get(PAGE).content.decode()
    client.post(END, {"topic": ""})

    assert "Every question of the brand" in listed
    crisis = CrisisMode.objects.get()
    assert (crisis.topic_id, crisis.reason) == (None, "Outage")
    assert CrisisMode.objects.get().ended_at is not None


@pytest.mark.parametrize(
    ("post", "error"),
    [
        ({"topic": "999999"}, "Select a valid choice."),
        # An empty form switched every question of the brand into crisis mode
        ({}, "Choose the affected topic, or every question."),
        ({"topic": "", "reason": "Outage"}, "Choose the affected topic, or every question."),
        ({"topic": "brand", "reason": "x" * 501}, "Ensure this value has at most 500 characters"),
        ({"topic": "brand", "holding_statement": "abc"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(
    client: Client, desk: Brand, people: People, post: dict[str, str], error: str
) -> None:
    people.log_in(client, SUPERVISOR)

    response = client.post(PAGE, post)

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not CrisisMode.objects.exists() and not events().exists()


def test_an_alert_id_beyond_a_bigint_is_refused_and_writes_nothing(
    client: Client, desk: Brand, people: People
) -> None:
    # It failed the insert with a 500 (found by issue 11's property tests)
    people.log_in(client, SUPERVISOR)

    response = client.post(PAGE, {"topic": "brand", "alert": "99999999999999999999999"})

    assert response.status_code == 400
    assert not CrisisMode.objects.exists() and not events().exists()


def test_a_crisis_already_on_or_not_on_is_said(
    client: Client, desk: Brand, recall: Any, people: People
) -> None:
    people.log_in(client, SUPERVISOR)
    client.post(PAGE, {"topic": str(recall.pk)})

    again = client.post(PAGE, {"topic": str(recall.pk)})
    client.post(END, {"topic": str(recall.pk)})
    twice = client.post(END, {"topic": str(recall.pk)})

    assert again.status_code == 400
    assert "Crisis mode is already on for this topic." in again.content.decode()
    said = [str(m) for m in get_messages(twice.wsgi_request)]
    assert said[-1] == "Crisis mode is not on for this topic."
    assert CrisisMode.objects.count() == 1


def test_another_brands_supervisor_cannot_reach_this_brands_crisis(
    client: Client, desk: Brand, recall: Any, people: People
) -> None:
    start_crisis(desk.pk, recall.pk, people.user(SUPERVISOR))
    people.log_in(client, OTHER_BRAND_SUPERVISOR)

    page = client.get(PAGE).content.decode()
    client.post(END, {"topic": str(recall.pk)})

    assert "Recall" not in page
    assert crisis_for(desk.pk, recall.pk) is not None


def test_the_admin_site_shows_crises_and_changes_none(
    client: Client, desk: Brand, recall: Any, people: People
) -> None:
    from django.contrib.auth import get_user_model

    crisis = start_crisis(desk.pk, recall.pk, people.user(SUPERVISOR))
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))

    listed = client.get("/admin/routing/crisismode/")
    added = client.get("/admin/routing/crisismode/add/")
    deleted = client.post(f"/admin/routing/crisismode/{crisis.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200 and "Recall" in listed.content.decode()
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert CrisisMode.objects.filter(pk=crisis.pk, ended_at__isnull=True).exists()
