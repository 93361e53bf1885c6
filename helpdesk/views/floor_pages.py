"""The supervisors' floor: who is on shift, what each holds, the questions near or past
their deadline (a page whose live part the open page fetches again every few seconds), and
moving a claim to someone else or back to the queue.

Supervising roles of the brand only; another brand's question or person answers 404 or is
refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.models import Question, Volunteer
from helpdesk.params import parse_id
from helpdesk.people import person_name
from helpdesk.permissions import supervises
from helpdesk.states import QuestionState
from helpdesk.views.access import question_of, redirect_back, require_supervisor, signed_in_user
from routing.claims import ClaimError
from routing.eligibility import OPEN_CLAIM_STATES
from routing.handover import reassign_question, release_for_holder
from routing.presence import on_shift_user_ids

NEAR_DEADLINE_SHOWN = 50
NEAR_DEADLINE_MINUTES = 15
DEADLINE_STATES = (QuestionState.QUEUED, QuestionState.CLAIMED, QuestionState.DRAFTING)


def _floor_context(supervisor: Volunteer) -> dict[str, Any]:
    """Who is on shift in the supervisor's brand, what each holds, and the questions near
    or past their deadline, as of now."""
    now = timezone.now()
    on_shift = on_shift_user_ids(supervisor.brand_id)
    people = list(
        Volunteer.objects.filter(brand_id=supervisor.brand_id, user_id__in=on_shift)
        .select_related("user", "store")
        .order_by("display_name", "user__username")
    )
    claims: dict[int, list[Question]] = {}
    for question in (
        Question.objects.filter(brand_id=supervisor.brand_id, state__in=OPEN_CLAIM_STATES)
        .select_related("customer")
        .order_by("lease_expires_at", "pk")
    ):
        if question.claimed_by_id is not None:
            claims.setdefault(question.claimed_by_id, []).append(question)
    rows = [{"person": person, "claims": claims.get(person.user_id, [])} for person in people]
    near = list(
        Question.objects.filter(
            brand_id=supervisor.brand_id,
            state__in=DEADLINE_STATES,
            sla_due_at__isnull=False,
            sla_due_at__lte=now + timedelta(minutes=NEAR_DEADLINE_MINUTES),
        )
        .select_related("customer", "claimed_by__volunteer")
        .order_by("sla_due_at", "pk")[:NEAR_DEADLINE_SHOWN]
    )
    # Reassigning offers only what it accepts: people of the supervisor's stores, and
    # questions whose holder (if any) is one of them.
    supervised = [person for person in people if supervises(supervisor, person.store)]
    return {
        "volunteer": supervisor,
        "rows": rows,
        "near": near,
        "now": now,
        "people": supervised,
        "supervised_ids": {person.user_id for person in supervised},
    }


@login_required
@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    context = _floor_context(require_supervisor(request))
    query = request.GET.urlencode()
    context["body_url"] = reverse("desk:floor-body") + (f"?{query}" if query else "")
    return render(request, "desk/floor.html", context)


@login_required
@require_GET
def floor_body(request: HttpRequest) -> HttpResponse:
    """The floor page's live part, which the open page fetches every few seconds; checked
    exactly as the page is."""
    return render(request, "desk/_floor_body.html", _floor_context(require_supervisor(request)))


@login_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = require_supervisor(request)
    question = question_of(supervisor, pk)
    to = parse_id(request.POST.get("to", ""))
    target = (
        Volunteer.objects.select_related("user")
        .filter(
            Q(user_id=to) if to is not None else Q(pk__in=[]),
            brand_id=supervisor.brand_id,
        )
        .first()
    )
    if target is None:
        messages.error(request, _("Choose someone on shift."))
        return redirect_back(request, reverse("desk:floor"))
    try:
        reassign_question(question.pk, target.user, signed_in_user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The question now goes to %(person)s.") % {"person": person_name(target.user)},
        )
    return redirect_back(request, reverse("desk:floor"))


@login_required
@require_POST
def take_back(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisor returns someone's claimed question to the queue."""
    supervisor = require_supervisor(request)
    question = question_of(supervisor, pk)
    try:
        release_for_holder(question.pk, signed_in_user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question is back in the queue."))
    return redirect_back(request, reverse("desk:floor"))
