"""The weekly report e-mail: to the brand's agency staff once its Monday 07:00 has passed,
once per person and week, never to the unsubscribed or to other roles, with a link that
unsubscribes without logging in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from helpdesk.models import Role
from helpdesk.reports.emails import send_weekly_reports, unsubscribe_token
from helpdesk.reports.models import WeeklyReportDelivery, WeeklyReportSubscription
from helpdesk.reports.tasks import send_weekly_reports as weekly_task
from tests.factories import make_brand, make_volunteer
from tests.reports.factories import make_question

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# The week of 2026-10-26 ends on Sunday 1 November, when New York's clocks go back.
WEEK_AFTER_DST = datetime(2026, 11, 2, 7, 0, tzinfo=NEW_YORK)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture
def desk(settings: Any) -> dict[str, Any]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://desk.example.com"
    brand = make_brand(time_zone="America/New_York", name="Acme")
    people: dict[str, Any] = {
        role: make_volunteer(brand, role=role)
        for role in (Role.VOLUNTEER, Role.SUPERVISOR, Role.AGENCY, Role.ADMIN)
    }
    for person in people.values():
        person.user.email = f"{person.user.username}@acme.example"
        person.user.save()
    people["french"] = make_volunteer(brand, role=Role.AGENCY, languages=["fr-CA"])
    people["french"].user.email = "fr@acme.example"
    people["french"].user.save()
    people["no-address"] = make_volunteer(brand, role=Role.AGENCY)
    # Sunday 23:30 before the Monday is in the week; Monday 00:30 is the next week's.
    make_question(brand, received_at=datetime(2026, 11, 1, 23, 30, tzinfo=NEW_YORK))
    make_question(brand, received_at=datetime(2026, 11, 2, 0, 30, tzinfo=NEW_YORK))
    make_question(brand, received_at=datetime(2026, 10, 26, 0, 0, tzinfo=NEW_YORK))
    return {"brand": brand, "people": people}


def test_nothing_before_monday_seven_oclock(desk: dict[str, Any]) -> None:
    with time_machine.travel(WEEK_AFTER_DST - timedelta(minutes=1), tick=False):
        run = send_weekly_reports()

    assert (run.sent, len(mail.outbox)) == (0, 0)
    assert not WeeklyReportDelivery.objects.exists()


def test_agency_staff_get_last_weeks_report_once(desk: dict[str, Any]) -> None:
    with time_machine.travel(WEEK_AFTER_DST + timedelta(minutes=1), tick=False):
        first = send_weekly_reports()
        second = send_weekly_reports()

    people = desk["people"]
    assert (first.sent, first.already, second.sent, second.already) == (2, 0, 0, 2)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [people[Role.AGENCY].user.email, "fr@acme.example"]
    )
    english = next(m for m in mail.outbox if m.to == [people[Role.AGENCY].user.email])
    assert english.subject == "Acme: your weekly report, week of 2026-10-26"
    assert "Acme, from 2026-10-26 to 2026-11-01 (America/New_York)" in english.body
    assert "Received: 2 (before: 0)" in english.body  # Sunday 23:30 in, Monday 00:30 out
    token = unsubscribe_token(people[Role.AGENCY].user)
    link = f"https://desk.example.com/reports/email/unsubscribe/{token}/"
    assert link in english.body
    assert english.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert english.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert isinstance(english, EmailMultiAlternatives)
    html, kind = english.alternatives[0]
    assert isinstance(html, str)
    assert kind == "text/html" and "<script" not in html and link in html
    french = next(m for m in mail.outbox if m.to == ["fr@acme.example"])
    assert french.subject == "Acme : votre rapport hebdomadaire, semaine du 2026-10-26"


def test_later_in_the_week_a_missed_report_still_goes(desk: dict[str, Any]) -> None:
    with time_machine.travel(WEEK_AFTER_DST + timedelta(days=2), tick=False):
        run = send_weekly_reports()

    assert run.sent == 2
    assert set(WeeklyReportDelivery.objects.values_list("week_start", flat=True)) == {
        datetime(2026, 10, 26, tzinfo=NEW_YORK).date()
    }


def test_the_unsubscribed_and_other_roles_get_nothing(desk: dict[str, Any]) -> None:
    WeeklyReportSubscription.objects.create(user=desk["people"]["french"].user, is_subscribed=False)

    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        run = send_weekly_reports()

    assert run.sent == 1
    assert [message.to for message in mail.outbox] == [[desk["people"][Role.AGENCY].user.email]]


def test_only_those_who_may_read_the_whole_brand_get_it(desk: dict[str, Any]) -> None:
    """The e-mail holds every store's figures: an administrator who asked gets it, a
    supervisor (who reads only their store) or a volunteer who once asked does not."""
    for role in (Role.SUPERVISOR, Role.VOLUNTEER, Role.ADMIN):
        WeeklyReportSubscription.objects.create(user=desk["people"][role].user)

    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        assert send_weekly_reports().sent == 3

    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        desk["people"][key].user.email for key in (Role.AGENCY, Role.ADMIN, "french")
    )


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.VOLUNTEER])
def test_others_cannot_switch_it_on(client: Client, desk: dict[str, Any], role: str) -> None:
    user = desk["people"][role].user
    client.force_login(user)

    response = client.post("/reports/email/subscription/", {"weekly": "on"})

    assert response.status_code == 403
    assert not WeeklyReportSubscription.objects.filter(user=user).exists()
    if role == Role.SUPERVISOR:
        page = client.get("/reports/").content.decode()
        assert "Send it to me" not in page and "/reports/email/subscription/" not in page


def test_the_subject_is_plain_text(desk: dict[str, Any]) -> None:
    desk["brand"].name = "Smith & Sons <Care>"
    desk["brand"].save()

    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        send_weekly_reports()

    assert mail.outbox[0].subject.startswith("Smith & Sons <Care>: ")


def test_a_failed_send_is_tried_again_next_time(desk: dict[str, Any], settings: Any) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        failed = send_weekly_reports()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=2), tick=False):
        retried = send_weekly_reports()

    assert (failed.sent, failed.failed, retried.sent) == (0, 2, 2)


def test_the_celery_task_sends(desk: dict[str, Any]) -> None:
    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        assert weekly_task.delay().get() == 2


def test_unsubscribing_from_the_link(desk: dict[str, Any]) -> None:
    user = desk["people"][Role.AGENCY].user
    url = f"/reports/email/unsubscribe/{unsubscribe_token(user)}/"
    client = Client(enforce_csrf_checks=True)

    asked = client.get(url)
    done = client.post(url)  # RFC 8058: the mail client posts, with no CSRF token

    assert asked.status_code == 200
    assert "Stop sending the weekly report" in asked.content.decode()
    assert done.status_code == 200
    assert WeeklyReportSubscription.objects.get(user=user).is_subscribed is False
    with time_machine.travel(WEEK_AFTER_DST + timedelta(hours=1), tick=False):
        assert send_weekly_reports().sent == 1


@pytest.mark.parametrize("token", ["nonsense", "eyJ1IjoxfQ:1abc:forged", "%00"])
def test_a_forged_link_changes_nothing(client: Client, desk: dict[str, Any], token: str) -> None:
    response = client.post(f"/reports/email/unsubscribe/{token}/")

    assert response.status_code == 400
    assert "This link is not one of ours" in response.content.decode()
    assert not WeeklyReportSubscription.objects.exists()


def test_the_reports_page_switches_it(client: Client, desk: dict[str, Any]) -> None:
    user = desk["people"][Role.AGENCY].user
    client.force_login(user)

    page = client.get("/reports/").content.decode()
    off = client.post(
        "/reports/email/subscription/", {"weekly": "off", "next": "/reports/?period=7d"}
    )
    after = client.get("/reports/").content.decode()
    evil = client.post(
        "/reports/email/subscription/", {"weekly": "on", "next": "https://evil.example/"}
    )

    assert "You receive this report by e-mail every Monday morning." in page
    assert off["Location"] == "/reports/?period=7d"
    assert "Send it to me" in after
    assert evil["Location"] == "/reports/"
    assert WeeklyReportSubscription.objects.get(user=user).is_subscribed is True


@pytest.mark.parametrize(
    ("target", "location"),
    [("NaN", "NaN"), ("²", "%C2%B2"), ("reports:index", "/reports/")],  # a scheme: unsafe
)
def test_a_next_that_is_a_bare_word_is_followed_as_a_path_not_a_500(
    client: Client, desk: dict[str, Any], target: str, location: str
) -> None:
    client.force_login(desk["people"][Role.AGENCY].user)

    response = client.post("/reports/email/subscription/", {"weekly": "on", "next": target})

    assert response.status_code == 302
    assert response["Location"] == location
