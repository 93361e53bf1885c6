"""Supervisors' pages of the programme: enrolments to confirm, who is missing what,
suspensions and levels, invitation codes.

Supervisors and admins only. A supervisor acts on the people and enrolments of the store they
supervise (an admin, or a supervisor without a store, on the whole brand); anything else looks
like it does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from charter import standing as charter_standing
from charter.acceptance import binding_version
from helpdesk import permissions
from helpdesk.enrolment import (
    EnrolmentError,
    confirm_enrolment,
    create_invitation,
    decline_enrolment,
    may_invite_to,
)
from helpdesk.events import recheck_sockets_of
from helpdesk.forms.programme import (
    SETTABLE_LEVELS,
    DeclineEnrolmentForm,
    InvitationForm,
    LevelForm,
    RosterFilterForm,
    SuspendForm,
)
from helpdesk.models import Enrolment, EnrolmentStatus, InvitationCode, Store, Volunteer
from helpdesk.permissions import supervises
from helpdesk.roster import roster
from helpdesk.views.access import require_supervisor

INVITATIONS_SHOWN = 50


def supervised_stores(supervisor: Volunteer) -> QuerySet[Store]:
    """The stores whose people ``supervisor`` acts on (the same rule as ``supervises``)."""
    stores = Store.objects.filter(brand_id=supervisor.brand_id)
    scope = permissions.supervised_stores(supervisor)
    if scope is not None:
        stores = stores.filter(pk__in=scope)
    return stores.order_by("code")


def _pending_enrolments(supervisor: Volunteer) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(
            brand_id=supervisor.brand_id,
            status=EnrolmentStatus.PENDING,
            store__in=supervised_stores(supervisor),
        )
        .select_related("store", "user")
        .order_by("requested_at", "pk")
    )


def _enrolment_or_404(supervisor: Volunteer, pk: int) -> Enrolment:
    enrolment = _pending_enrolments(supervisor).filter(pk=pk).first()
    if enrolment is None:
        raise Http404("No such enrolment.")
    return enrolment


def _person_or_404(supervisor: Volunteer, pk: int) -> Volunteer:
    person = (
        Volunteer.objects.select_related("user", "store")
        .filter(pk=pk, brand_id=supervisor.brand_id)
        .first()
    )
    if person is None or not supervises(supervisor, person.store):
        raise Http404("No such person.")
    return person


def _back_to(person: Volunteer) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('supervision:people')}#person-{person.pk}")


# --- Enrolments ----------------------------------------------------------------------------


@login_required
@require_GET
def enrolments(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    context = {
        "supervisor": supervisor,
        "enrolments": _pending_enrolments(supervisor),
    }
    return render(request, "supervision/enrolments.html", context)


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    supervisor = require_supervisor(request)
    enrolment = _enrolment_or_404(supervisor, pk)
    try:
        confirm_enrolment(enrolment, by=supervisor)
    except EnrolmentError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s is now a volunteer of store %(store)s.")
            % {"name": enrolment.display_name or enrolment.user, "store": enrolment.store.code},
        )
    return redirect("supervision:enrolments")


@login_required
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    supervisor = require_supervisor(request)
    enrolment = _enrolment_or_404(supervisor, pk)
    form = DeclineEnrolmentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the enrolment is declined."))
        return redirect("supervision:enrolments")
    try:
        decline_enrolment(enrolment, by=supervisor, reason=form.cleaned_data["reason"])
    except EnrolmentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The enrolment is declined."))
    return redirect("supervision:enrolments")


# --- Who is missing what -------------------------------------------------------------------


@login_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    stores = Store.objects.filter(brand_id=supervisor.brand_id).order_by("code")
    filters = RosterFilterForm(request.GET or None, stores=stores)
    store = None
    only_missing = False
    if filters.is_valid():
        store = filters.cleaned_data["store"]
        only_missing = filters.cleaned_data["missing"]
    rows = roster(supervisor.brand, store=store, only_missing=only_missing)
    acting_on = {
        row.volunteer.pk
        for row in rows
        if row.volunteer.pk != supervisor.pk and supervises(supervisor, row.volunteer.store)
    }
    binding = binding_version(supervisor.brand_id)
    context: dict[str, Any] = {
        "supervisor": supervisor,
        "filters": filters,
        "rows": rows,
        "acting_on": acting_on,
        "binding": binding,
        "accepted_count": sum(
            1
            for row in rows
            if binding is not None
            and row.accepted_number is not None
            and row.accepted_number >= binding.number
        ),
        "level_choices": SETTABLE_LEVELS,
        "now": timezone.now(),
    }
    return render(request, "supervision/people.html", context)


def _refuse_self(request: HttpRequest, supervisor: Volunteer, person: Volunteer) -> bool:
    if person.pk == supervisor.pk:
        messages.error(request, _("Another supervisor must change your own standing."))
        return True
    return False


@login_required
@require_POST
def suspend(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    supervisor = require_supervisor(request)
    person = _person_or_404(supervisor, pk)
    form = SuspendForm(request.POST)
    if _refuse_self(request, supervisor, person):
        return _back_to(person)
    if not form.is_valid() or not form.cleaned_data["reason"].strip():
        messages.error(request, _("A suspension needs a reason."))
        return _back_to(person)
    try:
        charter_standing.suspend(
            person.user_id,
            person.brand_id,
            actor=supervisor.user,
            reason=form.cleaned_data["reason"],
        )
    except charter_standing.StandingError as error:
        messages.error(request, str(error))
    else:
        recheck_sockets_of(person.user_id)  # their live queue closes now, not at their next click
        messages.success(request, _("%(name)s is suspended.") % {"name": person})
    return _back_to(person)


@login_required
@require_POST
def reinstate(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    supervisor = require_supervisor(request)
    person = _person_or_404(supervisor, pk)
    if _refuse_self(request, supervisor, person):
        return _back_to(person)
    try:
        charter_standing.reinstate(person.user_id, person.brand_id, actor=supervisor.user)
    except charter_standing.StandingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("%(name)s is reinstated.") % {"name": person})
    return _back_to(person)


@login_required
@require_POST
def set_level(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    supervisor = require_supervisor(request)
    person = _person_or_404(supervisor, pk)
    form = LevelForm(request.POST)
    if _refuse_self(request, supervisor, person):
        return _back_to(person)
    if not form.is_valid():
        messages.error(request, _("Choose a level."))
        return _back_to(person)
    try:
        standing = charter_standing.set_level(
            person.user_id, person.brand_id, form.cleaned_data["level"], actor=supervisor.user
        )
    except charter_standing.StandingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s is now %(level)s.")
            % {"name": person, "level": standing.get_level_display()},
        )
    return _back_to(person)


# --- Invitation codes ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    stores = supervised_stores(supervisor)
    any_store = may_invite_to(supervisor, None)
    form = InvitationForm(
        request.POST if request.method == "POST" else None, stores=stores, any_store=any_store
    )
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["valid_days"]
        try:
            invitation = create_invitation(
                supervisor.brand,
                store=form.cleaned_data["store"],
                max_uses=form.cleaned_data["max_uses"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                by=supervisor,
            )
        except EnrolmentError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, _("New invitation code: %(code)s") % {"code": invitation.code}
            )
            return redirect("supervision:invitations")
    codes = InvitationCode.objects.filter(brand_id=supervisor.brand_id).select_related("store")
    if not any_store:
        codes = codes.filter(store__in=stores)
    context = {
        "supervisor": supervisor,
        "form": form,
        "codes": codes.order_by("-created_at", "-pk")[:INVITATIONS_SHOWN],
        "now": timezone.now(),
    }
    return render(request, "supervision/invitations.html", context)


app_name = "supervision"
urlpatterns = [
    path("", enrolments, name="enrolments"),
    path("enrolments/<int:pk>/confirm/", confirm, name="enrolment-confirm"),
    path("enrolments/<int:pk>/decline/", decline, name="enrolment-decline"),
    path("people/", people, name="people"),
    path("people/<int:pk>/suspend/", suspend, name="suspend"),
    path("people/<int:pk>/reinstate/", reinstate, name="reinstate"),
    path("people/<int:pk>/level/", set_level, name="set-level"),
    path("invitations/", invitations, name="invitations"),
]
