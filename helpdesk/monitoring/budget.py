"""The X bill's monthly budget: the 80 % warning, e-mailed once a month, and the pause of
listening queries when a brand has spent its budget and asked for the pause.

Figures come from ``helpdesk.reports.queries.spend`` (docs/metrics.md, "The X bill").
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from helpdesk.models import Brand, Role, Volunteer
from helpdesk.reports.emails import language_of
from helpdesk.reports.queries.spend import BudgetState, budget_state

log = logging.getLogger(__name__)

# Who hears that the budget is running out: those who watch the programme.
WARNED_ROLES = (Role.SUPERVISOR, Role.AGENCY)


def listening_paused(brand: Brand, now: datetime | None = None) -> bool:
    """Whether the brand's listening queries (search) must not run now: its budget is
    spent and it asked for the pause. Mentions and replies are never paused."""
    if brand.x_monthly_budget is None or not brand.x_pause_listening_when_spent:
        return False
    state = budget_state(brand, now or timezone.now())
    if state.listening_paused:
        log.warning(
            "%s: X budget spent (%s of %s micro-dollars this month): listening paused",
            brand.slug,
            state.month_micros,
            state.budget_micros,
        )
    return state.listening_paused


def warned_people(brand: Brand) -> list[Volunteer]:
    """The brand's supervisors and agency staff with an address."""
    return list(
        Volunteer.objects.filter(brand=brand, user__is_active=True, role__in=WARNED_ROLES)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user_id")
    )


def warning_message(state: BudgetState, person: Volunteer) -> EmailMultiAlternatives:
    context = {
        "state": state,
        "person": person,
        "link": settings.SITE_URL.rstrip("/") + reverse("reports:index"),
    }
    with translation.override(language_of(person)):
        subject = render_to_string("monitoring/email/budget_subject.txt", context).strip()
        text = render_to_string("monitoring/email/budget.txt", context)
    return EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=[person.user.email]
    )


def warn_once(brand: Brand, now: datetime) -> bool:
    """E-mail the brand's supervisors and agency staff that 80 % of this month's budget is
    spent, if it is and they have not been told this month. Returns whether it was sent.

    The month is claimed by one conditional update in the transaction that sends: a second
    run (or process) finds it claimed; a failed send rolls the claim back, so the next run
    tries again.
    """
    state = budget_state(brand, now)
    if not state.warning:
        return False
    try:
        with transaction.atomic():
            claimed = (
                Brand.objects.filter(pk=brand.pk)
                .filter(
                    Q(x_budget_warned_month__isnull=True) | ~Q(x_budget_warned_month=state.month)
                )
                .update(x_budget_warned_month=state.month)
            )
            if not claimed:
                return False
            for person in warned_people(brand):
                warning_message(state, person).send()
    except Exception:
        log.exception("%s: X budget warning not sent; the next run tries again", brand.slug)
        return False
    log.warning(
        "%s: %s of the X budget spent this month; supervisors and agency staff told",
        brand.slug,
        f"{state.share:.0%}",
    )
    return True


def warn_budgets(now: datetime | None = None) -> int:
    """Warn every brand with a budget that needs it; returns how many were warned."""
    now = now or timezone.now()
    brands = Brand.objects.filter(x_monthly_budget__isnull=False).order_by("pk")
    return sum(warn_once(brand, now) for brand in brands)
