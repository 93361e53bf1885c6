"""A volunteer's own pages of the programme: the charter and its acceptance, "My status",
linking their X account; and the public enrolment form."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from charter.acceptance import accept_charter, accepted_number, current_version
from charter.gate import may_claim
from charter.models import CharterAcceptance, CharterVersion, LinkedXAccount
from charter.standing import policy_for, standing_for
from helpdesk import linking
from helpdesk.client_ip import client_ip
from helpdesk.enrolment import EnrolmentError, enrol_employee
from helpdesk.forms.programme import AcceptCharterForm, EnrolmentForm
from helpdesk.markup import render_markdown
from helpdesk.models import Enrolment
from helpdesk.permissions import DESK_ROLES, volunteer_for
from helpdesk.views.access import require_member, signed_in_user

ENROLMENT_SESSION_KEY = "enrolment_id"


def _client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or the one the named proxies saw."""
    raw = client_ip(request)
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


# --- The charter ---------------------------------------------------------------------------


@login_required
@require_GET
def charter(request: HttpRequest) -> HttpResponse:
    volunteer = require_member(request)
    user = signed_in_user(request)
    brand_id = volunteer.brand_id
    current = current_version(brand_id)
    accepted = accepted_number(user.pk, brand_id)
    acceptance = (
        CharterAcceptance.objects.filter(
            user=user, version__brand_id=brand_id, version__number=accepted
        ).first()
        if accepted is not None
        else None
    )
    newer: list[CharterVersion] = []
    if current is not None and accepted is not None and accepted < current.number:
        newer = list(
            CharterVersion.objects.filter(
                brand_id=brand_id,
                number__gt=accepted,
                number__lte=current.number,
                effective_at__lte=timezone.now(),
            ).order_by("number")
        )
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "version": current,
        "body": render_markdown(current.body) if current is not None else "",
        "accepted_number": accepted,
        "acceptance": acceptance,
        "newer_versions": newer,
        "needs_acceptance": current is not None and (accepted is None or accepted < current.number),
        "form": AcceptCharterForm(initial={"version": current.number if current else None}),
    }
    return render(request, "charter/charter.html", context)


@login_required
@require_POST
def accept(request: HttpRequest) -> HttpResponseRedirect:
    volunteer = require_member(request)
    form = AcceptCharterForm(request.POST)
    current = current_version(volunteer.brand_id)
    if not form.is_valid() or current is None:
        messages.error(request, _("Nothing to accept: reload the charter and try again."))
        return redirect("charter_pages:charter")
    if form.cleaned_data["version"] != current.number:
        # A new version was published while they read: they must read that one.
        messages.error(
            request,
            _("A newer version of the charter was published. Read it, then accept it."),
        )
        return redirect("charter_pages:charter")
    accept_charter(
        signed_in_user(request),
        current,
        ip_address=_client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    messages.success(
        request, _("You accepted version %(number)s of the charter.") % {"number": current.number}
    )
    return redirect("charter_pages:status")


# --- My status -----------------------------------------------------------------------------


@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    volunteer = volunteer_for(user)
    if volunteer is None:
        enrolment = Enrolment.objects.filter(user=user).order_by("-requested_at").first()
        if enrolment is None:
            raise PermissionDenied(_("This page is not part of your role."))
        return render(request, "charter/enrolment_status.html", {"enrolment": enrolment})
    if volunteer.role not in DESK_ROLES:
        raise PermissionDenied(_("This page is not part of your role."))
    brand_id = volunteer.brand_id
    standing = standing_for(user.pk, brand_id)
    accepted = accepted_number(user.pk, brand_id)
    decision = may_claim(user, brand_id)
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "standing": standing,
        "policy": policy_for(brand_id) if standing is not None else None,
        "decision": decision,
        "accepted_number": accepted,
        "acceptance": CharterAcceptance.objects.filter(
            user=user, version__brand_id=brand_id, version__number=accepted
        ).first()
        if accepted is not None
        else None,
        "linked": LinkedXAccount.objects.filter(user=user).first(),
        "now": timezone.now(),
    }
    return render(request, "charter/status.html", context)


# --- Linking the person's own X account ----------------------------------------------------


@login_required
@require_POST
def x_link_start(request: HttpRequest) -> HttpResponseRedirect:
    require_member(request)
    try:
        url = linking.start_link(request)
    except linking.LinkError as error:
        messages.error(request, str(error))
        return redirect("charter_pages:status")
    return HttpResponseRedirect(url)


@never_cache
@login_required
@require_GET
def x_link_callback(request: HttpRequest) -> HttpResponseRedirect:
    require_member(request)
    try:
        linked = linking.finish_link(request, request.build_absolute_uri())
    except linking.LinkError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Your X account @%(username)s is linked.") % {"username": linked.username}
        )
    return redirect("charter_pages:status")


@login_required
@require_POST
def x_unlink(request: HttpRequest) -> HttpResponseRedirect:
    require_member(request)
    if linking.unlink(signed_in_user(request)):
        messages.success(request, _("Your X account is no longer linked."))
    return redirect("charter_pages:status")


# --- Enrolment (public) --------------------------------------------------------------------


def _enrolment_rate(group: str, request: HttpRequest) -> str:
    return str(settings.ENROLMENT_RATE)


# django-ratelimit is untyped; its decorator returns the view unchanged in type.
_limit_enrolments = cast(
    Callable[[Callable[[HttpRequest], HttpResponse]], Callable[[HttpRequest], HttpResponse]],
    ratelimit(key="ip", rate=_enrolment_rate, method="POST", block=False),  # type: ignore[no-untyped-call]
)


@never_cache
@require_http_methods(["GET", "POST"])
@_limit_enrolments
def enrol(request: HttpRequest) -> HttpResponse:
    form = EnrolmentForm(request.POST if request.method == "POST" else None)
    if getattr(request, "limited", False):
        # Too many from this address (guessing invitation codes, or flooding the
        # supervisors' list): nothing is checked or stored; the form keeps what was typed.
        form.add_error(None, _("Too many enrolment requests from this address; try again later."))
        return render(request, "charter/enrol.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment = enrol_employee(
                username=data["username"],
                password=data["password"],
                display_name=data["display_name"],
                brand=data["brand"],
                store=data["store"],
                employee_number=data["employee_number"],
                languages=data["languages"],
                invitation_code=data["invitation_code"] or None,
            )
        except EnrolmentError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            request.session[ENROLMENT_SESSION_KEY] = enrolment.pk
            return redirect("charter_pages:enrol-sent")
    return render(request, "charter/enrol.html", {"form": form})


@never_cache
@require_GET
def enrol_sent(request: HttpRequest) -> HttpResponse:
    enrolment_id = request.session.get(ENROLMENT_SESSION_KEY)
    enrolment = (
        Enrolment.objects.select_related("brand", "store").filter(pk=enrolment_id).first()
        if isinstance(enrolment_id, int)
        else None
    )
    if enrolment is None:
        return redirect("charter_pages:enrol")
    return render(request, "charter/enrolment_status.html", {"enrolment": enrolment})


app_name = "charter_pages"
urlpatterns = [
    path("", charter, name="charter"),
    path("accept/", accept, name="accept"),
    path("status/", status, name="status"),
    path("enrol/", enrol, name="enrol"),
    path("enrol/sent/", enrol_sent, name="enrol-sent"),
    path("x/link/", x_link_start, name="x-link"),
    path("x/callback/", x_link_callback, name="x-link-callback"),
    path("x/unlink/", x_unlink, name="x-unlink"),
]
