"""The spike alert by e-mail: once per alert, to the brand's supervisors and agency staff.

One message per language, addressed to everyone of the brand's supervisors and agency
staff who reads it (active, with an address). The alert row's ``emailed_at`` is set in the
transaction that sends, with the row locked: a second task for the same alert (a retry, a
second worker) finds it set and sends nothing, and a failed send leaves it empty so the
detector's next run tries again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from helpdesk.models import Question, Role, Volunteer
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.reports.emails import language_of

log = logging.getLogger(__name__)

ALERT_ROLES = (Role.SUPERVISOR, Role.AGENCY)


def recipients(brand_id: int) -> list[Volunteer]:
    """The brand's supervisors and agency staff who can receive it."""
    return list(
        Volunteer.objects.filter(brand_id=brand_id, user__is_active=True, role__in=ALERT_ROLES)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )


def email_spike_alert(alert_id: int) -> int:
    """Send the alert's e-mail unless it was sent; returns how many messages went out."""
    with transaction.atomic():
        alert = (
            SpikeAlert.objects.select_for_update(of=("self",))
            .select_related("brand", "topic")
            .filter(pk=alert_id, emailed_at__isnull=True)
            .first()
        )
        if alert is None:
            return 0
        by_language: dict[str, list[str]] = defaultdict(list)
        for person in recipients(alert.brand_id):
            by_language[language_of(person)].append(person.user.email)
        messages = [
            message(alert, language, addresses)
            for language, addresses in sorted(by_language.items())
        ]
        for email in messages:
            email.send()
        SpikeAlert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())
    return len(messages)


def message(alert: SpikeAlert, language: str, addresses: list[str]) -> EmailMessage:
    """The alert in ``language``, plain text (the customers' words are never HTML here)."""
    by_id = Question.objects.select_related("customer").in_bulk(alert.question_ids)
    questions = [by_id[pk] for pk in alert.question_ids if pk in by_id]
    share = alert.negative / alert.volume if alert.volume else 0.0
    context = {
        "alert": alert,
        "questions": questions,
        "topic": alert.topic.name if alert.topic is not None else "",
        "zone": ZoneInfo(alert.brand.time_zone or "UTC"),  # times as the brand's people read them
        "expected_volume": f"{alert.expected_volume:.1f}",
        "negative_share": f"{share:.0%}",
        "expected_share": f"{alert.expected_negative_share:.0%}",
        "baseline_weeks": alert.baseline_weeks,
        "link": settings.SITE_URL.rstrip("/") + "/monitoring/",
    }
    with translation.override(language):
        subject = render_to_string("monitoring/email/spike_subject.txt", context)
        body = render_to_string("monitoring/email/spike.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=addresses)
