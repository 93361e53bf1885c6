"""Enrolment: employees asking to join, supervisors confirming or declining, invitation codes;
and the public enrolment form."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from time_machine import TimeMachineFixture

from charter.models import CharterEvent, Level, Standing
from helpdesk.enrolment import (
    EnrolmentError,
    confirm_enrolment,
    create_invitation,
    decline_enrolment,
    enrol_employee,
)
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
from tests.counts import programme_rows
from tests.factories import make_brand, make_store, make_volunteer
from tests.people import People

STRONG = "Tr0ub4dor&3-horse"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def enrol(brand: Brand, store: Store, **overrides: Any) -> Enrolment:
    values: dict[str, Any] = {
        "username": "alex",
        "password": STRONG,
        "display_name": "Alex B.",
        "brand": brand,
        "store": store,
        "employee_number": "E-1001",
        "languages": ["en", "fr"],
    }
    values.update(overrides)
    return enrol_employee(**values)


# --- enrol_employee ------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_enrolment_without_a_code_waits_for_a_supervisor(brand: Brand) -> None:
    # Given a store
    store = make_store(brand, code="S042")

    # When an employee enrols without a code
    enrolment = enrol(brand, store)

    # Then their account exists, the request waits, and they are not a volunteer yet
    user = get_user_model().objects.get(username="alex")
    assert user.check_password(STRONG)
    assert enrolment.user == user
    assert enrolment.status == EnrolmentStatus.PENDING
    assert (enrolment.employee_number, enrolment.display_name) == ("E-1001", "Alex B.")
    assert enrolment.languages == ["en", "fr"]
    assert enrolment.invitation is None
    assert not Volunteer.objects.filter(user=user).exists()
    assert not Standing.objects.filter(user=user).exists()
    event = AuditEvent.objects.get()
    assert (event.kind, event.actor, event.brand_id) == ("enrolment.requested", user, brand.pk)
    assert event.data == {
        "enrolment_id": enrolment.pk,
        "user_id": user.pk,
        "store": "S042",
        "employee_number": "E-1001",
        "invitation_id": None,
    }


@pytest.mark.django_db
def test_a_valid_invitation_code_confirms_at_once(brand: Brand) -> None:
    # Given a code of the store, used once out of three
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    invitation = create_invitation(brand, store=store, max_uses=3, by=supervisor)
    InvitationCode.objects.filter(pk=invitation.pk).update(uses=1)

    # When an employee enrols with it, typed in lower case with spaces
    enrolment = enrol(brand, store, invitation_code=f"  {invitation.code.lower()} ")

    # Then they are a volunteer of the store at once, at the enrolled level
    assert enrolment.status == EnrolmentStatus.CONFIRMED
    assert enrolment.invitation == invitation
    assert enrolment.decided_by is None
    volunteer = Volunteer.objects.get(user=enrolment.user)
    assert (volunteer.brand, volunteer.store, volunteer.role) == (brand, store, Role.VOLUNTEER)
    assert (volunteer.employee_number, volunteer.display_name) == ("E-1001", "Alex B.")
    assert volunteer.languages == ["en", "fr"]
    standing = Standing.objects.get(user=enrolment.user, brand=brand)
    assert (standing.level, standing.is_suspended) == (Level.ENROLLED, False)
    invitation.refresh_from_db()
    assert invitation.uses == 2
    kinds = list(
        AuditEvent.objects.exclude(kind="invitation.created")
        .order_by("pk")
        .values_list("kind", "actor_label")
    )
    assert kinds == [("enrolment.requested", ""), ("enrolment.confirmed", "system:invitation")]
    confirmed = AuditEvent.objects.get(kind="enrolment.confirmed")
    assert confirmed.data["invitation_id"] == invitation.pk
    assert confirmed.data["volunteer_id"] == volunteer.pk
    assert CharterEvent.objects.filter(kind="standing.opened", subject=enrolment.user).count() == 1


@pytest.mark.django_db
def test_a_brand_wide_code_confirms_in_any_store_of_the_brand(brand: Brand) -> None:
    admin = make_volunteer(brand, role=Role.ADMIN)
    invitation = create_invitation(brand, by=admin)

    enrolment = enrol(brand, make_store(brand), invitation_code=invitation.code)

    assert enrolment.status == EnrolmentStatus.CONFIRMED


def _unusable_code_cases() -> list[tuple[str, str]]:
    return [
        ("unknown", "This invitation code is not valid."),
        ("other_brand", "This invitation code is not valid."),
        ("other_store", "This invitation code is for another store."),
        ("expired", "This invitation code has expired."),
        ("used_up", "This invitation code has been used up."),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "message"), _unusable_code_cases())
def test_an_unusable_code_is_refused_and_nothing_is_created(
    case: str, message: str, brand: Brand, time_machine: TimeMachineFixture
) -> None:
    # Given codes of every unusable kind
    time_machine.move_to(NOW, tick=False)
    store = make_store(brand)
    other_store = make_store(brand)
    admin = make_volunteer(brand, role=Role.ADMIN)
    other_brand = make_brand()
    codes = {
        "unknown": "NOPE-NOPE-NOPE",
        "other_brand": create_invitation(
            other_brand, by=make_volunteer(other_brand, role=Role.ADMIN)
        ).code,
        "other_store": create_invitation(brand, store=other_store, by=admin).code,
        "expired": create_invitation(brand, expires_at=NOW + timedelta(hours=1), by=admin).code,
        "used_up": create_invitation(brand, max_uses=2, by=admin).code,
    }
    InvitationCode.objects.filter(code=codes["used_up"]).update(uses=2)
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    before = programme_rows()

    # When an employee enrols with one
    with pytest.raises(EnrolmentError) as refused:
        enrol(brand, store, invitation_code=codes[case])

    # Then they are told why, and no account, enrolment or use was recorded
    assert refused.value.message == message
    assert refused.value.field == "invitation_code"
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_duplicate_employee_number_in_the_brand_is_refused(brand: Brand) -> None:
    # Given a pending enrolment with employee number E-1001
    store = make_store(brand)
    enrol(brand, store, username="first")
    before = programme_rows()

    # When another person enrols with the same number in the same brand
    with pytest.raises(EnrolmentError) as refused:
        enrol(brand, store, username="second")

    # Then it is refused with a clear message, and nothing is created
    assert refused.value.message == "This employee number is already enrolled in the programme."
    assert refused.value.field == "employee_number"
    assert programme_rows() == before
    assert not get_user_model().objects.filter(username="second").exists()


@pytest.mark.django_db
def test_an_employee_number_of_an_existing_volunteer_is_refused(brand: Brand) -> None:
    store = make_store(brand)
    make_volunteer(brand, store=store, employee_number="E-1001")
    before = programme_rows()

    with pytest.raises(EnrolmentError) as refused:
        enrol(brand, store)

    assert refused.value.field == "employee_number"
    assert programme_rows() == before


@pytest.mark.django_db
def test_the_same_employee_number_may_enrol_in_another_brand_or_after_a_decline(
    brand: Brand,
) -> None:
    # Given a declined enrolment with number E-1001, and another brand with that number
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    declined = enrol(brand, store, username="first")
    decline_enrolment(declined, by=supervisor, reason="Not an employee of this store")
    other = make_brand()
    enrol(other, make_store(other), username="elsewhere")

    # When the employee enrols again
    again = enrol(brand, store, username="again")

    # Then it is accepted for confirmation
    assert again.status == EnrolmentStatus.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": "ALEX"}, "username", "This username is already taken."),
        ({"password": "password"}, "password", "This password is too common."),
        ({"employee_number": "  "}, "employee_number", "Give your employee number."),
    ],
    ids=["taken-username", "weak-password", "blank-employee-number"],
)
def test_bad_account_details_are_refused(
    overrides: dict[str, str], field: str, message: str, brand: Brand
) -> None:
    store = make_store(brand)
    get_user_model().objects.create_user(username="alex", password=STRONG)
    before = programme_rows()

    with pytest.raises(EnrolmentError) as refused:
        enrol(brand, store, **{"username": "newcomer", "employee_number": "E-9", **overrides})

    assert refused.value.field == field
    assert message in refused.value.message
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_store_of_another_brand_is_refused(brand: Brand) -> None:
    other_store = make_store(make_brand())
    before = programme_rows()

    with pytest.raises(EnrolmentError) as refused:
        enrol(brand, other_store)

    assert refused.value.message == "This store is not part of this brand."
    assert programme_rows() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_use_of_a_code_goes_to_exactly_one_of_two_racing_employees() -> None:
    # Given a code that may be used once more
    brand = make_brand()
    store = make_store(brand)
    invitation = create_invitation(brand, by=make_volunteer(brand, role=Role.ADMIN))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def enrol_racing(n: int) -> None:
        barrier.wait()
        try:
            enrol(
                brand,
                store,
                username=f"racer{n}",
                employee_number=f"E-{n}",
                invitation_code=invitation.code,
            )
            outcomes.append("confirmed")
        except EnrolmentError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    # When two employees enrol with it at the same moment
    threads = [threading.Thread(target=enrol_racing, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then one is confirmed, the other told the code is used up, and it counts one use
    assert sorted(outcomes) == ["This invitation code has been used up.", "confirmed"]
    invitation.refresh_from_db()
    assert invitation.uses == 1
    assert Enrolment.objects.filter(status=EnrolmentStatus.CONFIRMED).count() == 1
    assert Enrolment.objects.count() == 1
    assert Volunteer.objects.filter(role=Role.VOLUNTEER).count() == 1


# --- confirm and decline -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    ["supervisor-of-the-store", "supervisor-without-store", "admin"],
)
def test_a_supervisor_of_the_store_confirms_an_enrolment(who: str, brand: Brand) -> None:
    # Given a pending enrolment in store S1
    store = make_store(brand)
    enrolment = enrol(brand, store)
    by = {
        "supervisor-of-the-store": lambda: make_volunteer(brand, role=Role.SUPERVISOR, store=store),
        "supervisor-without-store": lambda: make_volunteer(brand, role=Role.SUPERVISOR),
        "admin": lambda: make_volunteer(brand, role=Role.ADMIN, store=make_store(brand)),
    }[who]()

    # When they confirm it
    volunteer = confirm_enrolment(enrolment, by=by)

    # Then the employee is a volunteer of the store, enrolled, and it is on record who did it
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.CONFIRMED
    assert enrolment.decided_by == by.user
    assert enrolment.decided_at is not None
    assert (volunteer.user, volunteer.store, volunteer.role) == (
        enrolment.user,
        store,
        Role.VOLUNTEER,
    )
    assert Standing.objects.get(user=enrolment.user, brand=brand).level == Level.ENROLLED
    opened = CharterEvent.objects.get(kind="standing.opened", subject=enrolment.user)
    assert opened.actor == by.user
    confirmed = AuditEvent.objects.get(kind="enrolment.confirmed")
    assert (confirmed.actor, confirmed.brand_id) == (by.user, brand.pk)
    assert confirmed.data == {
        "enrolment_id": enrolment.pk,
        "user_id": enrolment.user_id,
        "volunteer_id": volunteer.pk,
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who",
    [
        "supervisor-other-store",
        "other-brand-supervisor",
        "volunteer-without-standing",
        "untrained",
        "certified",
        "mentor",
        "suspended",
        "agency",
    ],
)
def test_only_a_supervisor_of_the_store_may_confirm_or_decline(who: str, brand: Brand) -> None:
    # Given a pending enrolment in a store, and someone of the store (or not) in ``who``
    store = make_store(brand)
    enrolment = enrol(brand, store)
    by = People(brand, store=store).volunteer(who)
    before = programme_rows()

    # When they try to confirm it, then to decline it
    with pytest.raises(EnrolmentError) as confirm_refused:
        confirm_enrolment(enrolment, by=by)
    with pytest.raises(EnrolmentError) as decline_refused:
        decline_enrolment(enrolment, by=by, reason="No")

    # Then both are refused and nothing changed
    expected = "Only a supervisor of this store can decide on this enrolment."
    assert confirm_refused.value.message == expected
    assert decline_refused.value.message == expected
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_decided_enrolment_cannot_be_decided_again(brand: Brand) -> None:
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    enrolment = enrol(brand, store)
    confirm_enrolment(enrolment, by=supervisor)
    before = programme_rows()

    with pytest.raises(EnrolmentError) as confirm_again:
        confirm_enrolment(enrolment, by=supervisor)
    with pytest.raises(EnrolmentError) as decline_after:
        decline_enrolment(enrolment, by=supervisor, reason="Changed my mind")

    assert confirm_again.value.message == "This enrolment has already been decided."
    assert decline_after.value.message == "This enrolment has already been decided."
    assert programme_rows() == before


@pytest.mark.django_db
def test_declining_records_the_reason_and_admits_nobody(brand: Brand) -> None:
    # Given a pending enrolment
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    enrolment = enrol(brand, store)

    # When the supervisor declines it
    decline_enrolment(enrolment, by=supervisor, reason="  Not on our staff list  ")

    # Then it is declined with the reason, and the person is no volunteer
    enrolment.refresh_from_db()
    assert enrolment.status == EnrolmentStatus.DECLINED
    assert enrolment.decline_reason == "Not on our staff list"
    assert enrolment.decided_by == supervisor.user
    assert not Volunteer.objects.filter(user=enrolment.user).exists()
    assert not Standing.objects.filter(user=enrolment.user).exists()
    event = AuditEvent.objects.get(kind="enrolment.declined")
    assert event.actor == supervisor.user
    assert event.data == {
        "enrolment_id": enrolment.pk,
        "user_id": enrolment.user_id,
        "reason": "Not on our staff list",
    }


@pytest.mark.django_db
def test_declining_without_a_reason_is_refused(brand: Brand) -> None:
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    enrolment = enrol(brand, store)
    before = programme_rows()

    with pytest.raises(EnrolmentError) as refused:
        decline_enrolment(enrolment, by=supervisor, reason="   ")

    assert refused.value.message == "Say why the enrolment is declined."
    assert programme_rows() == before


# --- invitations ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_an_invitation_records_who_and_for_where(
    brand: Brand, time_machine: TimeMachineFixture
) -> None:
    # Given a supervisor of a store
    time_machine.move_to(NOW, tick=False)
    store = make_store(brand, code="S7")
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)

    # When they create a code for five people, valid a week
    invitation = create_invitation(
        brand, store=store, max_uses=5, expires_at=NOW + timedelta(days=7), by=supervisor
    )

    # Then the code is readable, unused and on record
    assert len(invitation.code) == 14
    assert invitation.code.count("-") == 2
    assert invitation.code == invitation.code.upper()
    assert (invitation.brand, invitation.store, invitation.max_uses, invitation.uses) == (
        brand,
        store,
        5,
        0,
    )
    assert invitation.created_by == supervisor.user
    event = AuditEvent.objects.get(kind="invitation.created")
    assert event.actor == supervisor.user
    assert event.data == {
        "invitation_id": invitation.pk,
        "store": "S7",
        "max_uses": 5,
        "expires_at": "2026-11-27T09:30:00+00:00",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "brand-wide-by-store-supervisor",
            "You can only invite people to the store you supervise.",
        ),
        ("other-store", "You can only invite people to the store you supervise."),
        ("other-brand", "You can only invite people to your own brand."),
        ("by-volunteer", "You can only invite people to the store you supervise."),
        ("zero-uses", "A code can be used between 1 and 1000 times."),
        ("past-expiry", "The expiry must be in the future."),
    ],
)
def test_invitations_a_supervisor_may_not_create(case: str, message: str, brand: Brand) -> None:
    store = make_store(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    other_brand = make_brand()
    cases: dict[str, dict[str, Any]] = {
        "brand-wide-by-store-supervisor": {"store": None},
        "other-store": {"store": make_store(brand)},
        "other-brand": {"brand": other_brand},
        "by-volunteer": {"by": make_volunteer(brand, store=store)},
        "zero-uses": {"store": store, "max_uses": 0},
        "past-expiry": {"store": store, "expires_at": datetime(2020, 1, 1, tzinfo=UTC)},
    }
    arguments = cases[case]
    before = programme_rows()

    with pytest.raises(EnrolmentError) as refused:
        create_invitation(arguments.pop("brand", brand), **{"by": supervisor, **arguments})

    assert refused.value.message == message
    assert programme_rows() == before


# --- the public enrolment form -------------------------------------------------------------


def form_data(store: Store, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": "alex",
        "password": STRONG,
        "password_again": STRONG,
        "display_name": "Alex B.",
        "brand": str(store.brand_id),
        "store": str(store.pk),
        "employee_number": "E-1001",
        "languages": ["en"],
        "invitation_code": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_enrolment_form_is_public_and_lists_the_stores(client: Client, brand: Brand) -> None:
    make_store(brand, code="S1", name="Lyon Part-Dieu")

    response = client.get("/charter/enrol/")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert "<title>Join the programme · Helpforce</title>" in page
    assert "S1 · Lyon Part-Dieu" in page
    assert 'type="hidden" name="brand"' in page  # a single brand is not asked for


@pytest.mark.django_db
def test_enrolling_through_the_form_shows_that_it_waits(client: Client, brand: Brand) -> None:
    # Given the public form
    store = make_store(brand, name="Lyon Part-Dieu")

    # When an employee sends it without a code
    response = client.post("/charter/enrol/", form_data(store), follow=True)

    # Then they see it waits for a supervisor of their store
    page = response.content.decode()
    assert response.redirect_chain == [("/charter/enrol/sent/", 302)]
    assert 'data-enrolment-status="pending"' in page
    assert "Waiting for confirmation by a supervisor of your store (Lyon Part-Dieu)." in page
    enrolment = Enrolment.objects.get()
    assert (enrolment.user.get_username(), enrolment.store, enrolment.languages) == (
        "alex",
        store,
        ["en"],
    )


@pytest.mark.django_db
def test_enrolling_with_a_code_through_the_form_shows_it_is_confirmed(
    client: Client, brand: Brand
) -> None:
    store = make_store(brand)
    code = create_invitation(brand, by=make_volunteer(brand, role=Role.ADMIN)).code

    response = client.post(
        "/charter/enrol/", form_data(store, invitation_code=code.lower()), follow=True
    )

    page = response.content.decode()
    assert 'data-enrolment-status="confirmed"' in page
    assert Volunteer.objects.filter(user__username="alex", store=store).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password_again": "something-else-entirely"}, "The two passwords differ."),
        ({"password": "12345678", "password_again": "12345678"}, "This password is too common."),
        ({"languages": []}, "This field is required."),
        ({"invitation_code": "NOPE"}, "This invitation code is not valid."),
        ({"employee_number": "E-1"}, "This employee number is already enrolled"),
    ],
    ids=["passwords-differ", "weak-password", "no-language", "bad-code", "duplicate-number"],
)
def test_a_bad_enrolment_form_says_what_is_wrong_and_creates_nothing(
    overrides: dict[str, Any], error: str, client: Client, brand: Brand
) -> None:
    store = make_store(brand)
    make_volunteer(brand, store=store, employee_number="E-1")
    before = programme_rows()

    response = client.post("/charter/enrol/", form_data(store, **overrides))

    page = response.content.decode()
    assert response.status_code == 200
    assert error in page
    assert 'role="alert"' in page
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_store_of_another_brand_is_refused_by_the_form(client: Client, brand: Brand) -> None:
    # Given two brands (so the form asks for the brand)
    other = make_brand(name="Contoso")
    other_store = make_store(other)
    make_store(brand)
    before = programme_rows()

    # When the employee picks a brand and a store of the other brand
    response = client.post("/charter/enrol/", form_data(other_store, brand=str(brand.pk)))

    # Then it is refused
    assert "This store is not part of this brand." in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_hostile_names_in_the_form_come_back_escaped(client: Client, brand: Brand) -> None:
    store = make_store(brand)

    response = client.post(
        "/charter/enrol/",
        form_data(store, display_name="<script>alert(1)</script>", password_again="x"),
    )

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
def test_the_sent_page_without_an_enrolment_goes_back_to_the_form(client: Client) -> None:
    response = client.get("/charter/enrol/sent/")

    assert response.status_code == 302
    assert response["Location"] == "/charter/enrol/"


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_too_many_enrolments_from_one_address_are_refused_and_store_nothing(
    brand: Brand, settings: Any
) -> None:
    # Given a limit of 3 requests an hour, and someone guessing invitation codes
    settings.ENROLMENT_RATE = "3/h"
    store = make_store(brand)
    # (addresses of their own: on Redis the counts outlive the test)
    r = secrets.randbelow(2**16)
    guesser, elsewhere = (f"10.{r // 256}.{r % 256}.{n}" for n in (1, 2))
    client = Client(REMOTE_ADDR=guesser)
    for n in range(3):
        guess = client.post("/charter/enrol/", form_data(store, invitation_code=f"GUESS{n}"))
        assert guess.status_code == 200 and "This invitation code is not valid." in guess.text
    before = programme_rows()

    # When they try again, even with a good request
    response = client.post("/charter/enrol/", form_data(store, username="late"))

    # Then it is refused with 429 and a clear message, their typing is kept, nothing stored
    assert response.status_code == 429
    assert "Too many enrolment requests from this address; try again later." in response.text
    assert 'value="late"' in response.text
    assert programme_rows() == before
    # Someone else, from another address, can still enrol
    other = Client(REMOTE_ADDR=elsewhere)
    assert other.post("/charter/enrol/", form_data(store)).status_code == 302
    # Reading the form is never limited
    assert client.get("/charter/enrol/").status_code == 200
