"""A volunteer's own pages: the charter and its acceptance, "My status", and the links to
them; for every role and every kind of standing (DESIGN invariant 8)."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.formats import date_format
from time_machine import TimeMachineFixture

from charter.models import CharterAcceptance, CharterEvent
from helpdesk.markup import render_markdown
from helpdesk.models import Brand, Enrolment, EnrolmentStatus
from tests.counts import programme_rows
from tests.factories import (
    STANDING_STATES,
    make_brand,
    make_member,
    make_store,
    make_volunteer,
    publish_charter,
)
from tests.people import People, log_in

PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
EXPECTED_STATUS = {
    "anonymous": 302,
    "no-desk-record": 403,
    "agency": 403,
    "volunteer-without-standing": 200,
    "untrained": 200,
    "certified": 200,
    "suspended": 200,
    "supervisor": 200,
    "admin": 200,
}
ROLES = list(EXPECTED_STATUS)


@pytest.fixture
def now(time_machine: TimeMachineFixture) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


def reasons(page: str) -> list[str]:
    return re.findall(r'data-reason="([a-z_]+)"', page)


# --- Who may see the pages -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", ["/charter/", "/charter/status/"])
def test_the_charter_and_status_pages_are_for_desk_members(
    who: str, url: str, client: Client, brand: Brand, people: People
) -> None:
    # Given a published charter
    publish_charter(brand)
    people.log_in(client, who)
    before = programme_rows()

    # When they open the page
    response = client.get(url)

    # Then desk members see it, the others are sent to log in or refused
    assert response.status_code == EXPECTED_STATUS[who]
    if who == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={url}"
    assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", ["/charter/accept/", "/charter/x/link/", "/charter/x/unlink/"])
def test_the_charter_actions_are_for_desk_members(
    who: str, url: str, client: Client, brand: Brand, people: People, settings: Any
) -> None:
    # Given a published charter and no OAuth client (so nobody leaves for X)
    settings.X_OAUTH_CLIENT_ID = ""
    version = publish_charter(brand)
    people.log_in(client, who)
    before = programme_rows()

    # When they post to the action
    response = client.post(url, {"version": version.number})

    # Then only desk members get through; the rest change nothing
    expected = {200: 302}.get(EXPECTED_STATUS[who], EXPECTED_STATUS[who])
    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"] == f"/accounts/login/?next={url}"
    if EXPECTED_STATUS[who] != 200 or url != "/charter/accept/":
        assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/charter/accept/", "/charter/x/link/", "/charter/x/unlink/"])
def test_the_charter_actions_answer_only_post(
    url: str, client: Client, brand: Brand, people: People
) -> None:
    people.log_in(client, "volunteer-without-standing")

    response = client.get(url)

    assert response.status_code == 405


# --- Reading the charter -------------------------------------------------------------------


@pytest.mark.django_db
def test_the_charter_is_rendered_from_markdown(
    client: Client, brand: Brand, people: People
) -> None:
    # Given a charter with headings, emphasis and a link
    publish_charter(
        brand,
        title="Northwind usage charter",
        body="## Tone\n\nBe **kind**.\n\n- one\n- two\n\nSee [the policy](https://example.com/p).",
    )
    people.log_in(client, "volunteer-without-standing")

    # When a volunteer reads it
    page = client.get("/charter/").content.decode()

    # Then it is formatted, and the link may not pass on rank or the opener
    assert "<title>Usage charter · Helpforce</title>" in page
    assert "<h1>Northwind usage charter</h1>" in page
    assert "<h2>Tone</h2>" in page
    assert "<p>Be <strong>kind</strong>.</p>" in page
    assert "<li>one</li>" in page
    assert '<a href="https://example.com/p" rel="noopener nofollow">the policy</a>' in page


@pytest.mark.django_db
def test_script_in_the_charter_does_not_survive(
    client: Client, brand: Brand, people: People
) -> None:
    # Given a charter body carrying script, event handlers and a javascript: link
    publish_charter(
        brand,
        title="<script>alert('title')</script>",
        body=(
            "Hello <script>alert('body')</script>\n\n"
            '<img src="x" onerror="alert(1)">\n\n'
            '<a href="javascript:alert(2)" onclick="alert(3)">click</a>\n\n'
            "[md link](javascript:alert(4))\n\n"
            '<p style="color:red" class="x">styled</p>'
        ),
    )
    people.log_in(client, "volunteer-without-standing")

    # When a volunteer reads it
    page = client.get("/charter/").content.decode()
    article = page[page.index('<article class="card charter-body"') : page.index("</article>")]

    # Then none of it runs: the tags and attributes are gone, the title is escaped
    assert "<script" not in article
    assert "alert('body')" not in article
    assert "onerror" not in article
    assert "onclick" not in article
    assert "javascript:" not in article
    assert "<img" not in article
    assert "style=" not in article
    assert "Hello" in article
    assert "styled" in article
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in page
    assert "<script>alert('title')</script>" not in page


def test_markdown_keeps_only_basic_tags() -> None:
    html = render_markdown('# Title\n\n<iframe src="https://evil.example"></iframe>`code`')

    assert html == "<h1>Title</h1>\n\n<p><code>code</code></p>"


@pytest.mark.django_db
def test_the_charter_says_what_changed_since_the_accepted_version(
    client: Client, brand: Brand
) -> None:
    # Given a volunteer who accepted v1, then v2 (material) and v3 (minor) were published
    publish_charter(brand)
    volunteer = make_volunteer(brand)
    CharterAcceptance.objects.create(user=volunteer.user, version=brand.charter_versions.get())
    publish_charter(brand, summary_of_changes="Prices: never quote one.\nNew rule.")
    publish_charter(brand, summary_of_changes="Typo <b>fixes</b>.", is_material=False)
    log_in(client, volunteer)

    # When they open the charter
    page = client.get("/charter/").content.decode()

    # Then they see each newer version's summary, and may accept the newest
    assert "What changed since version 1, the one you accepted" in page
    assert "<strong>Version 2:</strong>" in page
    assert "Prices: never quote one.<br>New rule." in page
    assert "<strong>Version 3 (minor):</strong>" in page
    assert "Typo &lt;b&gt;fixes&lt;/b&gt;." in page
    assert 'name="version" value="3"' in page
    assert "I accept version 3" in page


@pytest.mark.django_db
def test_an_accepted_charter_shows_no_button(client: Client, brand: Brand, now: datetime) -> None:
    version = publish_charter(brand)
    volunteer = make_volunteer(brand)
    CharterAcceptance.objects.create(user=volunteer.user, version=version, accepted_at=now)
    log_in(client, volunteer)

    page = client.get("/charter/").content.decode()

    assert "What changed" not in page
    assert "I accept" not in page
    assert f"You accepted version 1 on {date_format(now, 'DATETIME_FORMAT')}." in page


@pytest.mark.django_db
def test_without_a_charter_the_page_says_so(client: Client, brand: Brand, people: People) -> None:
    people.log_in(client, "volunteer-without-standing")

    page = client.get("/charter/").content.decode()

    assert "The brand has not published its usage charter yet." in page
    assert "I accept" not in page


# --- Accepting -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_accepting_records_the_version_address_and_browser(
    client: Client, brand: Brand, now: datetime
) -> None:
    # Given a volunteer who has not accepted the charter
    version = publish_charter(brand)
    volunteer = make_volunteer(brand)
    log_in(client, volunteer)

    # When they press Accept
    response = client.post(
        "/charter/accept/",
        {"version": "1"},
        headers={"user-agent": "Mozilla/5.0 (Test)"},
        REMOTE_ADDR="203.0.113.7",
        follow=True,
    )

    # Then the acceptance is recorded with where it came from, and they see their status
    acceptance = CharterAcceptance.objects.get()
    assert (acceptance.user, acceptance.version) == (volunteer.user, version)
    assert acceptance.accepted_at == now
    assert acceptance.ip_address == "203.0.113.7"
    assert acceptance.user_agent == "Mozilla/5.0 (Test)"
    event = CharterEvent.objects.get(kind="charter.accepted")
    assert (event.actor, event.subject, event.to_value) == (volunteer.user, volunteer.user, "1")
    assert response.redirect_chain == [("/charter/status/", 302)]
    assert "You accepted version 1 of the charter." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("proxies", "recorded"),
    [
        ([], "192.0.2.10"),  # no proxy named: the header is the client's own word
        ([ipaddress.ip_network("192.0.2.10/32")], "203.0.113.7"),
    ],
)
def test_accepting_records_the_address_the_named_proxy_saw(
    client: Client,
    brand: Brand,
    people: People,
    settings: Any,
    proxies: list[Any],
    recorded: str,
) -> None:
    settings.TRUSTED_PROXIES = proxies
    publish_charter(brand)
    people.log_in(client, "volunteer-without-standing")

    client.post(
        "/charter/accept/",
        {"version": "1"},
        headers={"x-forwarded-for": "6.6.6.6, 203.0.113.7"},
        REMOTE_ADDR="192.0.2.10",
    )

    assert CharterAcceptance.objects.get().ip_address == recorded


@pytest.mark.django_db
def test_accepting_twice_keeps_one_record(client: Client, brand: Brand, people: People) -> None:
    publish_charter(brand)
    people.log_in(client, "volunteer-without-standing")
    client.post("/charter/accept/", {"version": "1"})
    before = programme_rows()

    client.post("/charter/accept/", {"version": "1"})

    assert programme_rows() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"version": "1"}, "A newer version of the charter was published."),
        ({"version": "nope"}, "Nothing to accept: reload the charter and try again."),
        ({}, "Nothing to accept: reload the charter and try again."),
    ],
    ids=["stale-version", "garbage", "missing"],
)
def test_accepting_anything_but_the_current_version_is_refused(
    posted: dict[str, str], message: str, client: Client, brand: Brand, people: People
) -> None:
    # Given version 2 was published while the volunteer read version 1
    publish_charter(brand)
    publish_charter(brand)
    people.log_in(client, "volunteer-without-standing")
    before = programme_rows()

    # When they accept what they read
    response = client.post("/charter/accept/", posted, follow=True)

    # Then nothing is recorded and they are sent back to read
    assert response.redirect_chain == [("/charter/", 302)]
    assert message in response.content.decode()
    assert programme_rows() == before


@pytest.mark.django_db
def test_accepting_when_no_charter_is_published_is_refused(
    client: Client, brand: Brand, people: People
) -> None:
    people.log_in(client, "volunteer-without-standing")
    before = programme_rows()

    response = client.post("/charter/accept/", {"version": "1"})

    assert response.status_code == 302
    assert programme_rows() == before


@pytest.mark.django_db
def test_a_volunteer_cannot_accept_another_brands_charter(
    client: Client, brand: Brand, people: People
) -> None:
    # Given another brand's charter at version 2 and ours at version 1
    other = make_brand()
    publish_charter(other)
    publish_charter(other)
    publish_charter(brand)
    people.log_in(client, "volunteer-without-standing")

    # When they post version 2
    client.post("/charter/accept/", {"version": "2"})

    # Then nothing is accepted (they can only accept their brand's current version)
    assert not CharterAcceptance.objects.exists()


@pytest.mark.django_db
def test_accepting_needs_the_csrf_token(brand: Brand) -> None:
    publish_charter(brand)
    volunteer = make_volunteer(brand)
    client = Client(enforce_csrf_checks=True)
    log_in(client, volunteer)

    response = client.post("/charter/accept/", {"version": "1"})

    assert response.status_code == 403
    assert not CharterAcceptance.objects.exists()


# --- My status -----------------------------------------------------------------------------

STATUS_EXPECTATIONS = {
    "enrolled": ("enrolled", ["training_incomplete"]),
    "trainee": ("trainee", []),
    "certified": ("certified", []),
    "mentor": ("mentor", []),
    "suspended": ("certified", ["suspended"]),
    "lapsed-charter": ("certified", ["charter_not_accepted"]),
    "expired-certification": ("certified", ["training_expired"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("state", STANDING_STATES)
def test_my_status_shows_level_and_what_is_missing(
    state: str, client: Client, brand: Brand, now: datetime
) -> None:
    # Given a volunteer in this standing, with two material charter versions published
    publish_charter(brand)
    publish_charter(brand)
    volunteer = make_member(brand, state, now=now)
    log_in(client, volunteer)
    before = programme_rows()

    # When they open their status
    response = client.get("/charter/status/")

    # Then they see their level and exactly what keeps them from claiming
    page = response.content.decode()
    level, missing = STATUS_EXPECTATIONS[state]
    assert response.status_code == 200
    assert "<title>My status · Helpforce</title>" in page
    assert f'data-level="{level}"' in page
    assert reasons(page) == missing
    assert ('data-may-claim="yes"' in page) is (not missing)
    accepted = 1 if state == "lapsed-charter" else 2
    assert f"Version {accepted} accepted on {date_format(now, 'DATE_FORMAT')}" in page
    assert programme_rows() == before


@pytest.mark.django_db
def test_my_status_shows_the_reason_of_a_suspension_escaped(
    client: Client, brand: Brand, now: datetime
) -> None:
    publish_charter(brand)
    volunteer = make_member(brand, "suspended", now=now)
    volunteer.user.standings.update(suspended_reason="<b>Shared</b> an order number")
    log_in(client, volunteer)

    page = client.get("/charter/status/").content.decode()

    assert 'data-suspended="yes"' in page
    assert "&lt;b&gt;Shared&lt;/b&gt; an order number" in page
    assert "<b>Shared</b>" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "text"),
    [
        ("certified", "Valid until {date}"),
        ("expired-certification", "Expired on {date}"),
        ("enrolled", "Not complete yet"),
    ],
)
def test_my_status_shows_the_training_expiry(
    state: str, text: str, client: Client, brand: Brand, now: datetime
) -> None:
    publish_charter(brand)
    volunteer = make_member(brand, state, now=now)
    log_in(client, volunteer)
    standing = volunteer.user.standings.get()

    page = client.get("/charter/status/").content.decode()

    expires = standing.training_expires_at
    expected = text.format(date=date_format(expires, "DATE_FORMAT") if expires else "")
    assert expected in page


@pytest.mark.django_db
def test_a_trainee_sees_their_progress_against_the_quota(
    client: Client, brand: Brand, now: datetime
) -> None:
    # Given a trainee with 3 approved and 1 rejected replies, and a quota of 10 / 2
    publish_charter(brand)
    volunteer = make_member(brand, "trainee", now=now)
    log_in(client, volunteer)

    page = client.get("/charter/status/").content.decode()

    assert "3 of 10 approved replies" in page
    assert "1 rejected (at most 2 to be certified)" in page


@pytest.mark.django_db
def test_a_minor_charter_change_is_a_notice_not_a_refusal(
    client: Client, brand: Brand, now: datetime
) -> None:
    publish_charter(brand)
    volunteer = make_member(brand, "certified", now=now)
    publish_charter(brand, is_material=False, summary_of_changes="Typos")
    log_in(client, volunteer)

    page = client.get("/charter/status/").content.decode()

    assert 'data-may-claim="yes"' in page
    assert 'data-notice="charter_updated"' in page


@pytest.mark.django_db
def test_my_status_of_a_supervisor_without_standing_says_not_enrolled(
    client: Client, brand: Brand, people: People
) -> None:
    publish_charter(brand)
    people.log_in(client, "supervisor")

    page = client.get("/charter/status/").content.decode()

    assert "You are not enrolled in this brand's programme." in page
    assert reasons(page) == ["not_enrolled"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (EnrolmentStatus.PENDING, "Waiting for confirmation by a supervisor of your store"),
        (EnrolmentStatus.DECLINED, 'Reason: <span class="reason">Not on the staff list</span>'),
    ],
)
def test_an_employee_waiting_for_confirmation_sees_their_enrolment(
    status: str, shown: str, client: Client, brand: Brand
) -> None:
    # Given an employee whose enrolment is pending or declined (no desk record)
    user = get_user_model().objects.create_user(username="newcomer", password=PASSWORD)
    Enrolment.objects.create(
        user=user,
        brand=brand,
        store=make_store(brand),
        employee_number="E-1",
        status=status,
        decline_reason="Not on the staff list" if status == EnrolmentStatus.DECLINED else "",
    )
    assert client.login(username="newcomer", password=PASSWORD)

    # When they open "My status"
    response = client.get("/charter/status/")

    # Then they see where their enrolment stands
    assert response.status_code == 200
    assert f'data-enrolment-status="{status}"' in response.content.decode()
    assert shown in response.content.decode()


@pytest.mark.django_db
def test_my_status_offers_to_link_an_x_account(
    client: Client, brand: Brand, people: People
) -> None:
    publish_charter(brand)
    people.log_in(client, "volunteer-without-standing")

    page = client.get("/charter/status/").content.decode()

    assert 'action="/charter/x/link/"' in page
    assert "Link my X account" in page


# --- Navigation ----------------------------------------------------------------------------


@pytest.fixture
def with_desk_role(settings: Any) -> None:
    """The context processor the lead adds to TEMPLATES (until then, the nav hides links)."""
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    if "helpdesk.context_processors.desk_role" not in processors:
        templates = [dict(settings.TEMPLATES[0])]
        templates[0]["OPTIONS"] = {
            **templates[0]["OPTIONS"],
            "context_processors": [*processors, "helpdesk.context_processors.desk_role"],
        }
        settings.TEMPLATES = templates


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "links"),
    [
        ("no-desk-record", []),
        ("agency", []),
        ("volunteer-without-standing", ["/charter/", "/charter/status/"]),
        ("untrained", ["/charter/", "/charter/status/"]),
        ("suspended", ["/charter/", "/charter/status/"]),
        ("supervisor", ["/charter/", "/charter/status/", "/supervision/"]),
        ("admin", ["/charter/", "/charter/status/", "/supervision/"]),
    ],
)
def test_the_navigation_links_the_pages_of_the_role(
    who: str, links: list[str], client: Client, brand: Brand, people: People, with_desk_role: None
) -> None:
    people.log_in(client, who)

    page = client.get("/accounts/login/").content.decode()
    nav = page[page.index("<nav") : page.index("</nav>")]

    shown = re.findall(r'href="(/charter/[a-z/]*|/supervision/)"', nav)
    assert shown == links
