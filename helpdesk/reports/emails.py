"""The weekly report by e-mail: last week's figures for each brand's agency staff.

Celery beat runs ``send_weekly_reports`` every hour; once a brand's local time has passed
Monday 07:00, each of its agency staff with an address who has not unsubscribed gets last
week's report (Monday to Sunday in the brand's zone), once: a delivery row, written in the
transaction that sends, keeps a second run (or a second process) from sending it again, and
a failed send leaves no row, so the next hour tries again.

Every message carries a link that unsubscribes without logging in (a signed token) and the
List-Unsubscribe headers of RFC 2369 and RFC 8058 (one click in the mail client).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from helpdesk.models import Brand, Role, Volunteer
from helpdesk.reports.access import WEEKLY_EMAIL_ROLES
from helpdesk.reports.models import WeeklyReportDelivery, WeeklyReportSubscription
from helpdesk.reports.period import Period, last_full_week
from helpdesk.reports.queries import Scope, brand_zone
from helpdesk.reports.report import Report, build_report

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "helpforce.reports.weekly.unsubscribe"
SEND_AFTER = time(7, 0)  # local time, on Monday


def unsubscribe_token(user: User) -> str:
    """A link's proof, the same every week (it does not expire: an old e-mail's link must
    still work)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"u": user.pk})


def user_of_token(token: str) -> User | None:
    """The person a link was made for, or None for a link that is not one of ours."""
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    user_id = data.get("u") if isinstance(data, dict) else None
    if not isinstance(user_id, int):
        return None
    return User.objects.filter(pk=user_id).first()


def is_subscribed(user: User, role: str) -> bool:
    """Agency staff receive the weekly report unless they said no; administrators only if
    they asked for it; nobody else."""
    if role not in WEEKLY_EMAIL_ROLES:
        return False
    choice = (
        WeeklyReportSubscription.objects.filter(user=user)
        .values_list("is_subscribed", flat=True)
        .first()
    )
    return choice if choice is not None else role == Role.AGENCY


def set_subscription(user: User, subscribed: bool) -> None:
    WeeklyReportSubscription.objects.update_or_create(
        user=user, defaults={"is_subscribed": subscribed, "changed_at": timezone.now()}
    )


def recipients(brand: Brand) -> list[Volunteer]:
    """The brand's agency staff and administrators with an address, still subscribed.
    Nobody else, even if they once asked: the e-mail holds every store's figures."""
    people = (
        Volunteer.objects.filter(brand=brand, user__is_active=True, role__in=WEEKLY_EMAIL_ROLES)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )
    return [person for person in people if is_subscribed(person.user, person.role)]


def language_of(person: Volunteer) -> str:
    """The first of the person's languages the site speaks, else English."""
    spoken = {code for code, _name in settings.LANGUAGES}
    for code in person.languages or []:
        primary = str(code).lower().split("-")[0]
        if primary in spoken:
            return primary
    return "en"


@dataclass(frozen=True)
class WeeklyRun:
    sent: int
    already: int
    failed: int


def week_due(brand: Brand, now: datetime) -> date | None:
    """The Monday of the week to send, once the brand's Monday 07:00 has passed."""
    local = now.astimezone(brand_zone(brand))
    first, _last = last_full_week(local.date())
    this_monday = first + timedelta(days=7)
    if local.date() == this_monday and local.time() < SEND_AFTER:
        return None
    return first


def send_weekly_reports(now: datetime | None = None) -> WeeklyRun:
    """Send last week's report to whoever of every brand has not had it yet."""
    now = now or timezone.now()
    sent = already = failed = 0
    for brand in Brand.objects.order_by("pk"):
        monday = week_due(brand, now)
        people = recipients(brand) if monday is not None else []
        if monday is None or not people:
            continue
        zone = brand_zone(brand)
        report = build_report(
            Scope(brand_id=brand.pk, period=Period(monday, monday + timedelta(days=6), zone))
        )
        for person in people:
            outcome = _deliver(report, person, monday)
            sent += outcome == "sent"
            already += outcome == "already"
            failed += outcome == "failed"
    return WeeklyRun(sent, already, failed)


def _deliver(report: Report, person: Volunteer, monday: date) -> str:
    try:
        with transaction.atomic():
            _row, created = WeeklyReportDelivery.objects.get_or_create(
                user=person.user, week_start=monday, defaults={"brand": report.brand}
            )
            if not created:
                return "already"
            message(report, person).send()
    except IntegrityError:
        return "already"
    except Exception:  # the next hourly run tries again: no delivery row was kept
        log.exception("weekly report for user %s not sent", person.user_id)
        return "failed"
    return "sent"


def message(report: Report, person: Volunteer) -> EmailMultiAlternatives:
    """The weekly report for ``person``, in their language, with the unsubscribe link."""
    site = settings.SITE_URL.rstrip("/")
    unsubscribe = site + reverse("reports:unsubscribe", args=[unsubscribe_token(person.user)])
    period = report.scope.period
    link = (
        site
        + reverse("reports:index")
        + f"?period=custom&first={period.first.isoformat()}&last={period.last.isoformat()}"
    )
    context = {
        "report": report,
        "person": person,
        "link": link,
        "unsubscribe": unsubscribe,
    }
    with translation.override(language_of(person)):
        subject = render_to_string("reports/email/weekly_subject.txt", context).strip()
        text = render_to_string("reports/email/weekly.txt", context)
        html = render_to_string("reports/email/weekly.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[person.user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(html, "text/html")
    return email
