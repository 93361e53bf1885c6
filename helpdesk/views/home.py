"""Where each person lands: the page made for their role; and the refusal pages (403, a
stale form, 404, 500) in the site's layout and the person's language, each saying what the
person can do instead."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from helpdesk.events import recheck_sockets_of
from helpdesk.models import Enrolment, Role
from helpdesk.permissions import volunteer_for

HOME_BY_ROLE: dict[str, str] = {
    Role.VOLUNTEER: "helpdesk:queue",
    Role.SUPERVISOR: "desk:review",
    Role.AGENCY: "reports:index",
    Role.ADMIN: "desk:floor",
}


def home_url(user: User | AnonymousUser) -> str:
    """The first page of ``user``: their role's page, else the home page (which tells
    someone outside every programme how to join)."""
    volunteer = volunteer_for(user)
    if volunteer is not None and volunteer.role in HOME_BY_ROLE:
        return reverse(HOME_BY_ROLE[volunteer.role])
    if user.is_authenticated and Enrolment.objects.filter(user_id=user.pk).exists():
        return reverse("charter_pages:status")
    return reverse("home")


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    target = home_url(request.user)
    if target != reverse("home"):
        return redirect(target)
    return render(request, "helpdesk/no_programme.html")


class RoleLoginView(LoginView):
    """Django's login, then straight to the page of the person's role (a safe ``next``
    still wins)."""

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)


class DeskLogoutView(LogoutView):
    """Django's logout, then every open socket of the person closes (the live queue would
    otherwise go on hearing the brand's events on a shared store computer)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user_id = request.user.pk if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user_id is not None:
            recheck_sockets_of(user_id)
        return response


# --- refusals ----------------------------------------------------------------------------------

# What each part of the site is for, by the start of its path (the longest match wins).
PARTS = (
    ("/queue/", "queue"),
    ("/desk/review", "supervision"),
    ("/desk/outbox", "supervision"),
    ("/desk/floor", "supervision"),
    ("/desk/saved-replies", "supervision"),
    ("/desk/", "desk"),
    ("/supervision/", "supervision"),
    ("/training/grading", "supervision"),
    ("/training/", "desk"),
    ("/charter/", "desk"),
    ("/reports/me/", "desk"),
    ("/reports/api-tokens/", "api"),
    ("/reports/", "reports"),
    ("/exports/", "reports"),
    ("/monitoring/", "monitoring"),
    ("/metrics", "metrics"),
    ("/admin/", "admin"),
)


def _part(path: str) -> str:
    matches = [(prefix, part) for prefix, part in PARTS if path.startswith(prefix)]
    return max(matches, key=lambda match: len(match[0]))[1] if matches else ""


def _purpose(part: str) -> str:
    return {
        "queue": _("The queue is where volunteers claim and answer customers' questions."),
        "desk": _("This page is for the volunteers who answer customers."),
        "supervision": _("This page is for supervisors."),
        "reports": _("Reports are for the agency's staff, supervisors and administrators."),
        "api": _("The reporting API is for the agency's staff and administrators."),
        "monitoring": _(
            "Live monitoring is for the agency's staff, supervisors and administrators."
        ),
        "metrics": _("/metrics is read by the desk's monitoring systems, with their token."),
        "admin": _("The administration site is for the desk's administrators."),
    }.get(part, _("This page is not part of your role."))


def _instead(request: HttpRequest) -> list[tuple[str, str]]:
    """Links to what this person can do: their own pages first."""
    volunteer = volunteer_for(request.user)
    role = volunteer.role if volunteer is not None else ""
    links: list[tuple[str, str]] = []
    if role == Role.AGENCY:
        links += [
            (reverse("reports:index"), _("Your brand's reports")),
            (reverse("monitoring:index"), _("The desk live")),
        ]
    elif role == Role.VOLUNTEER:
        links += [
            (reverse("helpdesk:queue"), _("The queue of questions you can answer")),
            (reverse("reports:me"), _("Your figures")),
        ]
    elif role in (Role.SUPERVISOR, Role.ADMIN):
        links += [
            (reverse(HOME_BY_ROLE[role]), _("Your desk")),
            (reverse("reports:index"), _("Reports")),
        ]
    else:
        links += [(reverse("home"), _("How to join the programme"))]
    return links


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page: what the page is for, why not for this person, and what they can do."""
    reason = str(exception) if exception is not None and str(exception) else ""
    if reason == _("This page is not part of your role."):
        reason = ""  # the page says what it is for, which says more
    if request.headers.get("HX-Request"):
        body = render_to_string(
            "helpdesk/_refused.html", {"reason": reason or _purpose(_part(request.path))}
        )
        return HttpResponse(body, status=403)
    context: dict[str, Any] = {
        "purpose": _purpose(_part(request.path)),
        "reason": reason,
        "instead": _instead(request),
    }
    return render(request, "403.html", context, status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token: usually a page left open too long."""
    return render(
        request, "403_csrf.html", {"back": request.META.get("HTTP_REFERER", "")}, status=403
    )
