"""How the desk names a person: one rule for every page, message and report."""

from __future__ import annotations

from django.contrib.auth.models import User

from helpdesk.models import Volunteer, name_from


def person_name(user: User | None, volunteer: Volunteer | None = None) -> str:
    """The person's display name in the programme, else their full name, else their
    username; "" for nobody. ``volunteer`` is their desk record where the caller has it at
    hand; without it, it is read through ``user``."""
    if user is None:
        return ""
    if volunteer is None:
        volunteer = getattr(user, "volunteer", None)
    display = volunteer.display_name if volunteer is not None else ""
    return name_from(display, user.get_full_name(), user.get_username())
