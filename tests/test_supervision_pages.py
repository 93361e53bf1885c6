"""Supervisors' pages: enrolments to confirm, who is missing what, suspensions and levels,
invitation codes; for every role (DESIGN invariant 8)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from time_machine import TimeMachineFixture

from charter.gate import may_claim
from charter.models import CharterEvent, Level, Standing
from helpdesk.models import (
    AuditEvent,
    Brand,
    Enrolment,
    EnrolmentStatus,
    InvitationCode,
    Role,
    Store,
    Volunteer,
)
from helpdesk.roster import roster
from tests.counts import programme_rows
from tests.factories import (
    STANDING_STATES,
    make_brand,
    make_member,
    make_store,
    make_volunteer,
    publish_charter,
)
from tests.people import People

PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
WHO = [
    "anonymous",
    "no-desk-record",
    "agency",
    "certified",
    "untrained",
    "suspended",
    "supervisor",
    "supervisor-other-store",
    "admin",
]


@dataclass
class Scene:
    brand: Brand
    store: Store  # "the store": where the enrolment and the people acted on are
    other_store: Store
    enrolment: Enrolment
    certified: Volunteer
    suspended: Volunteer
    people: People  # who signs in; the people above are the ones acted on


@pytest.fixture
def scene(brand: Brand, time_machine: TimeMachineFixture) -> Scene:
    """A brand with two stores; in the first, a pending enrolment, a certified volunteer and
    a suspended one."""
    time_machine.move_to(NOW, tick=False)
    store = make_store(brand, code="S1", name="Lyon")
    other_store = make_store(brand, code="S2", name="Paris")
    publish_charter(brand)
    newcomer = get_user_model().objects.create_user(username="newcomer", password=PASSWORD)
    enrolment = Enrolment.objects.create(
        user=newcomer,
        brand=brand,
        store=store,
        employee_number="E-77",
        display_name="New Comer",
        languages=["fr"],
    )
    return Scene(
        brand=brand,
        store=store,
        other_store=other_store,
        enrolment=enrolment,
        certified=make_member(brand, "certified", now=NOW, store=store, display_name="Cert"),
        suspended=make_member(brand, "suspended", now=NOW, store=store, display_name="Susp"),
        people=People(brand, store=store, other_store=other_store, now=NOW),
    )


def refused_status(who: str) -> int | None:
    """The answer to someone who may not use the supervisors' pages at all."""
    return {
        "anonymous": 302,
        "no-desk-record": 403,
        "agency": 403,
        "certified": 403,
        "untrained": 403,
        "suspended": 403,
    }.get(who)


def volunteer_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-volunteer-id="(\d+)"', page)]


# --- Who may use the pages -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(
    "url", ["/supervision/", "/supervision/people/", "/supervision/invitations/"]
)
def test_the_supervision_pages_are_for_supervisors_and_admins(
    who: str, url: str, client: Client, scene: Scene
) -> None:
    scene.people.log_in(client, who)
    before = programme_rows()

    response = client.get(url)

    assert response.status_code == (refused_status(who) or 200)
    if who == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={url}"
    assert programme_rows() == before


def _action(scene: Scene, name: str) -> tuple[str, dict[str, str]]:
    return {
        "confirm": (f"/supervision/enrolments/{scene.enrolment.pk}/confirm/", {}),
        "decline": (
            f"/supervision/enrolments/{scene.enrolment.pk}/decline/",
            {"reason": "Not on our staff list"},
        ),
        "suspend": (
            f"/supervision/people/{scene.certified.pk}/suspend/",
            {"reason": "Quoted a price"},
        ),
        "reinstate": (f"/supervision/people/{scene.suspended.pk}/reinstate/", {}),
        "set-level": (f"/supervision/people/{scene.certified.pk}/level/", {"level": "mentor"}),
    }[name]


def _done(scene: Scene, name: str) -> bool:
    """Whether the action took effect."""
    scene.enrolment.refresh_from_db()
    certified = Standing.objects.get(user=scene.certified.user)
    suspended = Standing.objects.get(user=scene.suspended.user)
    return {
        "confirm": scene.enrolment.status == EnrolmentStatus.CONFIRMED,
        "decline": scene.enrolment.status == EnrolmentStatus.DECLINED,
        "suspend": certified.is_suspended and certified.suspended_reason == "Quoted a price",
        "reinstate": not suspended.is_suspended,
        "set-level": certified.level == Level.MENTOR,
    }[name]


@pytest.mark.django_db
@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", ["confirm", "decline", "suspend", "reinstate", "set-level"])
def test_only_a_supervisor_of_the_store_acts_on_its_people(
    who: str, action: str, client: Client, scene: Scene
) -> None:
    # Given someone signed in, and an enrolment / people of the store
    scene.people.log_in(client, who)
    url, data = _action(scene, action)
    before = programme_rows()

    # When they post the action
    response = client.post(url, data)

    # Then a supervisor of the store or an admin gets it done; a supervisor of another store
    # is told it does not exist; the others are refused; refusals change nothing
    if who in ("supervisor", "admin"):
        assert response.status_code == 302
        assert _done(scene, action) is True
    else:
        expected = refused_status(who) or 404
        assert response.status_code == expected
        assert _done(scene, action) is False
        assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", WHO)
def test_creating_an_invitation_is_for_supervisors_and_admins(
    who: str, client: Client, scene: Scene
) -> None:
    scene.people.log_in(client, who)
    before = programme_rows()
    store = scene.other_store if who == "supervisor-other-store" else scene.store

    response = client.post(
        "/supervision/invitations/", {"store": str(store.pk), "max_uses": "3", "valid_days": "7"}
    )

    if refused_status(who):
        assert response.status_code == refused_status(who)
        assert programme_rows() == before
    else:
        assert response.status_code == 302
        invitation = InvitationCode.objects.get()
        assert (invitation.store, invitation.max_uses) == (store, 3)
        assert invitation.expires_at == NOW + timedelta(days=7)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/supervision/enrolments/1/confirm/", "/supervision/people/1/suspend/"]
)
def test_the_supervision_actions_answer_only_post(url: str, client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "admin")

    response = client.get(url)

    assert response.status_code == 405


# --- Enrolments ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "listed"),
    [
        ("supervisor", ["E-77"]),
        ("supervisor-other-store", ["E-88"]),
        ("admin", ["E-77", "E-88"]),
    ],
)
def test_supervisors_see_the_enrolments_of_the_stores_they_supervise(
    who: str, listed: list[str], client: Client, scene: Scene
) -> None:
    # Given pending enrolments in both stores, a decided one, and one of another brand
    def enrolment(username: str, store: Store, number: str, **fields: Any) -> None:
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        Enrolment.objects.create(
            user=user, brand=store.brand, store=store, employee_number=number, **fields
        )

    enrolment("parisian", scene.other_store, "E-88")
    enrolment("decided", scene.store, "E-99", status=EnrolmentStatus.DECLINED)
    other = make_brand()
    enrolment("elsewhere", make_store(other), "E-66")
    scene.people.log_in(client, who)

    # When they open the enrolments to confirm
    page = client.get("/supervision/").content.decode()

    # Then they see the pending ones of their stores only
    shown = re.findall(r"<dt>Employee number</dt><dd>([^<]+)</dd>", page)
    assert shown == listed


@pytest.mark.django_db
def test_confirming_from_the_page_makes_a_volunteer(client: Client, scene: Scene) -> None:
    supervisor = scene.people.log_in(client, "supervisor")
    assert supervisor is not None

    response = client.post(f"/supervision/enrolments/{scene.enrolment.pk}/confirm/", follow=True)

    assert response.redirect_chain == [("/supervision/", 302)]
    assert "New Comer is now a volunteer of store S1." in response.content.decode()
    volunteer = Volunteer.objects.get(user=scene.enrolment.user)
    assert (volunteer.store, volunteer.employee_number, volunteer.languages) == (
        scene.store,
        "E-77",
        ["fr"],
    )
    assert Standing.objects.get(user=scene.enrolment.user).level == Level.ENROLLED
    assert AuditEvent.objects.get(kind="enrolment.confirmed").actor == supervisor.user


@pytest.mark.django_db
def test_declining_without_a_reason_is_refused(client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "supervisor")
    before = programme_rows()

    response = client.post(
        f"/supervision/enrolments/{scene.enrolment.pk}/decline/", {"reason": ""}, follow=True
    )

    assert "Say why the enrolment is declined." in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_decided_enrolment_is_not_found(client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "admin")
    client.post(f"/supervision/enrolments/{scene.enrolment.pk}/confirm/")
    before = programme_rows()

    response = client.post(
        f"/supervision/enrolments/{scene.enrolment.pk}/decline/", {"reason": "Late"}
    )

    assert response.status_code == 404
    assert programme_rows() == before


# --- Who is missing what -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_roster_lists_every_desk_member_of_the_brand_with_what_they_miss(
    client: Client, scene: Scene
) -> None:
    # Given, besides the scene's people, someone who never accepted the charter, an agency
    # member, and a volunteer of another brand
    unaccepted = make_volunteer(scene.brand, store=scene.other_store, display_name="Unsigned")
    Standing.objects.create(user=unaccepted.user, brand=scene.brand)
    make_volunteer(scene.brand, role=Role.AGENCY, display_name="Agency")
    other = make_brand()
    publish_charter(other)
    make_member(other, "certified", now=NOW, display_name="Elsewhere")
    supervisor = scene.people.log_in(client, "supervisor")
    assert supervisor is not None

    # When a supervisor opens "who is missing what"
    page = client.get("/supervision/people/").content.decode()

    # Then every desk member of the brand is listed (store order), with level and charter
    assert volunteer_ids(page) == [
        scene.certified.pk,
        scene.suspended.pk,
        supervisor.pk,
        unaccepted.pk,
    ]
    assert "Elsewhere" not in page
    assert ">Agency<" not in page
    card = _card(page, scene.certified.pk)
    assert 'data-level="certified"' in card
    assert 'data-accepted="1"' in card
    assert "Nothing missing" in card
    card = _card(page, unaccepted.pk)
    assert 'data-accepted=""' in card
    assert "Not accepted" in card
    assert "<li>Charter not accepted</li>" in card
    assert "<li>Training not complete</li>" in card
    card = _card(page, scene.suspended.pk)
    assert "Shared an order number" in card
    assert "<li>Suspended</li>" in card
    assert "2 of 4 people listed accepted charter version 1 or later." in page


def _card(page: str, volunteer_id: int) -> str:
    start = page.index(f'data-volunteer-id="{volunteer_id}"')
    return page[start : page.index("</li>\n", page.index("</dl>", start))]


@pytest.mark.django_db
def test_the_roster_filters_by_store_and_by_missing_something(client: Client, scene: Scene) -> None:
    parisian = make_member(scene.brand, "enrolled", now=NOW, store=scene.other_store)
    scene.people.log_in(client, "admin")

    by_store = client.get("/supervision/people/", {"store": str(scene.store.pk)}).content.decode()
    missing = client.get("/supervision/people/", {"missing": "on"}).content.decode()
    both = client.get(
        "/supervision/people/", {"store": str(scene.other_store.pk), "missing": "on"}
    ).content.decode()

    assert volunteer_ids(by_store) == [scene.certified.pk, scene.suspended.pk]
    assert set(volunteer_ids(missing)) == {scene.suspended.pk, parisian.pk} | {
        v.pk for v in Volunteer.objects.filter(role=Role.ADMIN)
    }
    assert volunteer_ids(both) == [parisian.pk]


@pytest.mark.django_db
def test_a_filter_for_a_store_of_another_brand_is_ignored(client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "admin")
    foreign = make_store(make_brand())

    response = client.get("/supervision/people/", {"store": foreign.pk})

    assert response.status_code == 200
    assert "Select a valid choice" not in response.content.decode()
    assert scene.certified.pk in volunteer_ids(response.content.decode())


@pytest.mark.django_db
def test_actions_show_only_on_people_the_supervisor_acts_on(client: Client, scene: Scene) -> None:
    parisian = make_member(scene.brand, "certified", now=NOW, store=scene.other_store)
    supervisor = scene.people.log_in(client, "supervisor")
    assert supervisor is not None

    page = client.get("/supervision/people/").content.decode()

    assert f'action="/supervision/people/{scene.certified.pk}/suspend/"' in page
    assert f'action="/supervision/people/{scene.suspended.pk}/reinstate/"' in page
    assert f'action="/supervision/people/{parisian.pk}/' not in page
    assert f'action="/supervision/people/{supervisor.pk}/' not in page


@pytest.mark.django_db
def test_hostile_names_and_reasons_are_escaped_in_the_roster(client: Client, scene: Scene) -> None:
    Volunteer.objects.filter(pk=scene.certified.pk).update(
        display_name='<img src=x onerror="alert(1)">'
    )
    Standing.objects.filter(user=scene.suspended.user).update(
        suspended_reason="<script>alert(2)</script>"
    )
    scene.people.log_in(client, "admin")

    page = client.get("/supervision/people/").content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<script>alert(2)</script>" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


@pytest.mark.django_db
@pytest.mark.parametrize("state", STANDING_STATES)
def test_the_roster_gives_the_gates_reasons(
    state: str, brand: Brand, time_machine: TimeMachineFixture
) -> None:
    # Given a member in this standing (two material versions, for the lapsed charter)
    time_machine.move_to(NOW, tick=False)
    publish_charter(brand)
    publish_charter(brand)
    member = make_member(brand, state, now=NOW)

    # When the roster and the gate are asked about them
    (row,) = roster(brand)
    decision = may_claim(member.user, brand.pk)

    # Then they give the same reasons
    assert row.volunteer == member
    assert list(row.missing) == decision.codes


@pytest.mark.django_db
def test_the_roster_says_when_no_charter_is_published(
    brand: Brand, time_machine: TimeMachineFixture
) -> None:
    time_machine.move_to(NOW, tick=False)
    member = make_volunteer(brand)
    Standing.objects.create(
        user=member.user,
        brand=brand,
        level=Level.CERTIFIED,
        trained_at=NOW,
        training_expires_at=NOW + timedelta(days=1),
    )

    (row,) = roster(brand)

    assert list(row.missing) == may_claim(member.user, brand.pk).codes == ["no_charter"]


# --- Suspend, reinstate, level -------------------------------------------------------------


@pytest.mark.django_db
def test_suspending_records_the_reason_and_who(client: Client, scene: Scene) -> None:
    supervisor = scene.people.log_in(client, "supervisor")
    assert supervisor is not None

    response = client.post(
        f"/supervision/people/{scene.certified.pk}/suspend/",
        {"reason": "Quoted a price"},
        follow=True,
    )

    standing = Standing.objects.get(user=scene.certified.user)
    assert (standing.is_suspended, standing.suspended_reason) == (True, "Quoted a price")
    assert standing.suspended_by == supervisor.user
    event = CharterEvent.objects.get(kind="standing.suspended")
    assert (event.actor, event.subject) == (supervisor.user, scene.certified.user)
    assert "Cert is suspended." in response.content.decode()
    assert response.redirect_chain == [(f"/supervision/people/#person-{scene.certified.pk}", 302)]


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_suspending_without_a_reason_is_refused(reason: str, client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "supervisor")
    before = programme_rows()

    response = client.post(
        f"/supervision/people/{scene.certified.pk}/suspend/", {"reason": reason}, follow=True
    )

    assert "A suspension needs a reason." in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["suspend", "reinstate", "set-level"])
def test_a_supervisor_cannot_change_their_own_standing(
    action: str, client: Client, scene: Scene
) -> None:
    supervisor = scene.people.log_in(client, "supervisor")
    assert supervisor is not None
    Standing.objects.create(
        user=supervisor.user,
        brand=scene.brand,
        level=Level.CERTIFIED,
        trained_at=NOW,
        is_suspended=action == "reinstate",
        suspended_reason="x" if action == "reinstate" else "",
    )
    path = {"suspend": "suspend", "reinstate": "reinstate", "set-level": "level"}[action]
    before = programme_rows()

    response = client.post(
        f"/supervision/people/{supervisor.pk}/{path}/",
        {"reason": "Me", "level": "mentor"},
        follow=True,
    )

    assert "Another supervisor must change your own standing." in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_level_cannot_be_set_before_the_training_is_complete(
    client: Client, scene: Scene
) -> None:
    enrolled = make_member(scene.brand, "enrolled", now=NOW, store=scene.store)
    scene.people.log_in(client, "admin")
    before = programme_rows()

    response = client.post(
        f"/supervision/people/{enrolled.pk}/level/", {"level": "mentor"}, follow=True
    )

    assert "the required training is not complete" in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["enrolled", "boss", ""])
def test_only_trainee_certified_or_mentor_can_be_set(
    level: str, client: Client, scene: Scene
) -> None:
    scene.people.log_in(client, "admin")
    before = programme_rows()

    response = client.post(
        f"/supervision/people/{scene.certified.pk}/level/", {"level": level}, follow=True
    )

    assert "Choose a level." in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_setting_a_trainee_back_records_who(client: Client, scene: Scene) -> None:
    admin = scene.people.log_in(client, "admin")
    assert admin is not None

    client.post(f"/supervision/people/{scene.certified.pk}/level/", {"level": "trainee"})

    standing = Standing.objects.get(user=scene.certified.user)
    assert standing.level == Level.TRAINEE
    event = CharterEvent.objects.get(kind="standing.level_set")
    assert (event.actor, event.from_value, event.to_value) == (admin.user, "certified", "trainee")


@pytest.mark.django_db
def test_people_of_another_brand_are_not_found(client: Client, scene: Scene) -> None:
    other = make_brand()
    publish_charter(other)
    foreign = make_member(other, "certified", now=NOW)
    scene.people.log_in(client, "admin")
    before = programme_rows()

    response = client.post(f"/supervision/people/{foreign.pk}/suspend/", {"reason": "x"})

    assert response.status_code == 404
    assert programme_rows() == before


# --- Invitations ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_store_supervisor_invites_only_to_their_store(client: Client, scene: Scene) -> None:
    # Given a supervisor of S1 on the invitations page
    scene.people.log_in(client, "supervisor")
    page = client.get("/supervision/invitations/").content.decode()
    before = programme_rows()

    # When they try to create a code for S2, or for any store
    other = client.post(
        "/supervision/invitations/", {"store": str(scene.other_store.pk), "max_uses": "1"}
    )
    anywhere = client.post("/supervision/invitations/", {"store": "", "max_uses": "1"})

    # Then only S1 is offered, and both are refused
    assert re.findall(r'<option value="(\d*)"', page) == [str(scene.store.pk)]
    assert "Select a valid choice" in other.content.decode()
    assert "This field is required." in anywhere.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_an_admin_creates_a_brand_wide_code_and_sees_it(client: Client, scene: Scene) -> None:
    scene.people.log_in(client, "admin")

    response = client.post(
        "/supervision/invitations/", {"store": "", "max_uses": "20", "valid_days": ""}, follow=True
    )

    invitation = InvitationCode.objects.get()
    page = response.content.decode()
    assert (invitation.store, invitation.max_uses, invitation.expires_at) == (None, 20, None)
    assert f"New invitation code: {invitation.code}" in page
    assert f'data-code="{invitation.code}"' in page
    assert "Any store" in page
    assert "0 of 20" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "posted",
    [
        {"max_uses": "0"},
        {"max_uses": "1001"},
        {"max_uses": "x"},
        {"max_uses": "1", "valid_days": "0"},
    ],
)
def test_a_bad_invitation_form_creates_nothing(
    posted: dict[str, str], client: Client, scene: Scene
) -> None:
    scene.people.log_in(client, "admin")
    before = programme_rows()

    response = client.post("/supervision/invitations/", {"store": "", **posted})

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert programme_rows() == before
