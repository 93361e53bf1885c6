"""Who watches the live desk: agency staff and administrators (the whole brand) and
supervisors (their store's part of it, as they read its reports)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from helpdesk.models import Volunteer
from helpdesk.reports.access import allowed_stores, report_reader

__all__ = ["allowed_stores", "monitor_reader", "monitor_reader_or_refuse"]


def monitor_reader(user: User | AnonymousUser | None) -> Volunteer | None:
    """The person's desk record if they may watch their brand's desk live."""
    return report_reader(user)


def monitor_reader_or_refuse(user: User | AnonymousUser | None) -> Volunteer:
    """``monitor_reader``, or a refusal (the 403 page) that says who the page is for."""
    reader = monitor_reader(user)
    if reader is None:
        raise PermissionDenied(
            _("Live monitoring is for the agency's staff, supervisors and administrators.")
        )
    return reader
