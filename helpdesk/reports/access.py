"""Who sees which reports.

* Agency staff and admins: every report of their brand (and the API).
* Supervisors: the reports of their store (of the whole brand when they have none, as
  ``helpdesk.permissions.supervises`` reads it).
* Volunteers: their own figures only.
* Anyone of another brand: nothing; a report's brand is always the reader's own.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from helpdesk.models import Role, Volunteer
from helpdesk.permissions import volunteer_for

REPORT_ROLES = frozenset({Role.AGENCY, Role.SUPERVISOR, Role.ADMIN})
API_ROLES = frozenset({Role.AGENCY, Role.ADMIN})
# The weekly e-mail holds the brand's whole report: only for those who may read it all.
WEEKLY_EMAIL_ROLES = API_ROLES
OWN_FIGURES_ROLES = frozenset({Role.VOLUNTEER, Role.SUPERVISOR, Role.ADMIN})


def report_reader(user: User | AnonymousUser | None) -> Volunteer | None:
    """The person's desk record if they may read their brand's reports."""
    volunteer = volunteer_for(user) if user is not None else None
    return volunteer if volunteer is not None and volunteer.role in REPORT_ROLES else None


def report_reader_or_refuse(user: User | AnonymousUser | None) -> Volunteer:
    """``report_reader``, or a refusal (the 403 page) that says who reports are for."""
    reader = report_reader(user)
    if reader is None:
        raise PermissionDenied(
            _("Reports are for the agency's staff, supervisors and administrators.")
        )
    return reader


def api_reader(user: User | AnonymousUser | None) -> Volunteer | None:
    """The person's desk record if they may use the reporting API."""
    volunteer = volunteer_for(user) if user is not None else None
    return volunteer if volunteer is not None and volunteer.role in API_ROLES else None


def allowed_stores(reader: Volunteer) -> frozenset[int] | None:
    """The stores whose figures ``reader`` may see; ``None`` for all of the brand's."""
    if reader.role == Role.SUPERVISOR and reader.store_id is not None:
        return frozenset({reader.store_id})
    return None
