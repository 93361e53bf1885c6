"""Escalations for supervisors: the questions handed to the official care team, each with
its thread and the note that went with it; back to the queue, or closed (the care team has
it). Supervising roles of the brand only; another brand's question answers 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.models import Question, Volunteer
from helpdesk.people import person_name
from helpdesk.views.access import question_of, redirect_back, require_supervisor, signed_in_user
from routing.claims import ClaimError
from routing.handover import close_escalation, escalation_notes, escalations_of, return_escalated


def escalation_rows(supervisor: Volunteer) -> list[dict[str, Any]]:
    """Each open escalation with its conversation and its last escalation note."""
    questions = escalations_of(supervisor)
    notes = escalation_notes([q.pk for q in questions])
    threads: dict[int, list[Question]] = {}
    for item in (
        Question.objects.filter(conversation_id__in={q.conversation_id for q in questions})
        .select_related("customer")
        .order_by("received_at", "pk")
    ):
        threads.setdefault(item.conversation_id, []).append(item)
    people = {
        v.user_id: v
        for v in Volunteer.objects.filter(
            user_id__in={n.actor_id for n in notes.values() if n.actor_id}
        ).select_related("user")
    }
    rows = []
    for question in questions:
        note = notes.get(question.pk)
        who = people.get(note.actor_id) if note and note.actor_id else None
        rows.append(
            {
                "question": question,
                "thread": threads.get(question.conversation_id, []),
                "note": note.note if note else "",
                "at": note.at if note else None,
                "by": person_name(who.user) if who else "",
            }
        )
    return rows


@login_required
@require_GET
def escalations(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    return render(
        request,
        "desk/escalations.html",
        {"volunteer": supervisor, "rows": escalation_rows(supervisor)},
    )


@login_required
@require_POST
def back_to_queue(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = require_supervisor(request)
    question = question_of(supervisor, pk)
    try:
        return_escalated(question.pk, signed_in_user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question is back in the queue."))
    return redirect_back(request, reverse("desk:escalations"))


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = require_supervisor(request)
    question = question_of(supervisor, pk)
    try:
        close_escalation(question.pk, signed_in_user(request), note=request.POST.get("note", ""))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The escalation is closed: the care team has it."))
    return redirect("desk:escalations")
