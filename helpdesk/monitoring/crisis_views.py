"""The crisis-mode page: the brand's supervisors and admins see which crises are on, switch
one on (for a topic or the whole brand, with a holding statement and a reason) and off.

Plain forms (no JavaScript needed), each switch through ``routing.crisis``, which checks the
role again, audits and announces. Anyone else gets the refusal page (403); a spike alert's
offer links here with ``?topic=<id>&alert=<id>`` to fill the form in.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms.crisis import EndCrisisForm, StartCrisisForm
from helpdesk.models import Volunteer
from helpdesk.permissions import volunteer_for
from helpdesk.views.access import signed_in_user
from routing.crisis import CrisisError, crises_of, end_crisis, may_switch_crisis, start_crisis

FORBIDDEN = _("Crisis mode is switched by the brand's supervisors and admins.")


def _switcher(request: HttpRequest) -> Volunteer:
    """The requester's desk record if they may switch crisis mode for their brand."""
    volunteer = volunteer_for(request.user)
    if volunteer is None or not may_switch_crisis(request.user, volunteer.brand_id):
        raise PermissionDenied(FORBIDDEN)
    return volunteer


def _page(
    request: HttpRequest, volunteer: Volunteer, form: StartCrisisForm, status: int = 200
) -> HttpResponse:
    context = {
        "volunteer": volunteer,
        "form": form,
        "crises": crises_of(volunteer.brand_id),
        "end_form": EndCrisisForm(),
    }
    return render(request, "monitoring/crisis.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def crisis_page(request: HttpRequest) -> HttpResponse:
    """The crises that are on, and the form that switches one on."""
    volunteer = _switcher(request)
    if request.method == "GET":
        initial = {key: request.GET[key] for key in ("topic", "alert") if request.GET.get(key)}
        return _page(
            request, volunteer, StartCrisisForm(initial=initial, brand_id=volunteer.brand_id)
        )
    form = StartCrisisForm(request.POST, brand_id=volunteer.brand_id)
    if form.is_valid():
        try:
            crisis = start_crisis(
                volunteer.brand_id,
                form.cleaned_data["topic"],
                signed_in_user(request),
                reason=form.cleaned_data["reason"],
                alert_id=form.cleaned_data["alert"],
                holding_statement_id=form.cleaned_data["holding_statement"],
            )
        except CrisisError as error:
            form.add_error(None, error.message)
        else:
            scope = crisis.topic.name if crisis.topic else _("every question of the brand")
            messages.success(request, _("Crisis mode is on for %(scope)s.") % {"scope": scope})
            return redirect("crisis:page")
    return _page(request, volunteer, form, status=400)


@login_required
@require_POST
def end(request: HttpRequest) -> HttpResponse:
    """Switch off the crisis on the posted topic (none: the whole brand's)."""
    volunteer = _switcher(request)
    form = EndCrisisForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say which crisis to switch off."))
        return redirect("crisis:page")
    try:
        end_crisis(
            volunteer.brand_id,
            form.cleaned_data["topic"],
            signed_in_user(request),
            reason=form.cleaned_data["reason"],
        )
    except CrisisError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Crisis mode is off: the usual rules apply again."))
    return redirect("crisis:page")


app_name = "crisis"
urlpatterns = [
    path("", crisis_page, name="page"),
    path("end/", end, name="end"),
]
