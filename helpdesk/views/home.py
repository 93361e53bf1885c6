"""Where each person lands: the page made for their role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from helpdesk.models import Role
from helpdesk.permissions import volunteer_for

HOME_BY_ROLE: dict[str, str] = {
    Role.VOLUNTEER: "helpdesk:queue",
    Role.SUPERVISOR: "desk:review",
    Role.AGENCY: "reports:index",
    Role.ADMIN: "desk:floor",
}


def home_url_name(role: str) -> str:
    """The URL name of the first page of someone with ``role`` ("" without a desk record:
    the programme's status page tells them how to join)."""
    return HOME_BY_ROLE.get(role, "charter_pages:status")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    volunteer = volunteer_for(request.user)
    return redirect(home_url_name(volunteer.role if volunteer is not None else ""))


class RoleLoginView(LoginView):
    """Django's login, then straight to the page of the person's role (a ``next`` that is
    safe still wins)."""

    def get_default_redirect_url(self) -> str:
        volunteer = volunteer_for(self.request.user)
        return reverse(home_url_name(volunteer.role if volunteer is not None else ""))
