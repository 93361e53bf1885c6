"""A question with its thread and the customer's history, and what a desk member does to it
from there: going on shift, claiming, handing back, escalating.

Desk roles only (agency staff never see the queue's controls); another brand's question
answers 404. Tweet text is rendered with auto-escaping only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from charter import gate
from helpdesk.models import NOTE_MAX_LENGTH, TAG_MAX_LENGTH, Question, Volunteer
from helpdesk.notes.queries import brand_tags, notes_of, tags_of
from helpdesk.people import person_name
from helpdesk.permissions import SUPERVISING_ROLES
from helpdesk.queries import conversation_threads, with_our_replies
from helpdesk.states import QuestionState
from helpdesk.views.access import (
    from_inbox,
    holds_claim,
    question_of,
    redirect_back,
    require_member,
    signed_in_user,
)
from routing.claims import ClaimError, claim_question, release_question
from routing.crisis import crisis_for
from routing.handover import escalate_question, escalation_notes
from routing.presence import PresenceError, end_shift, is_on_shift, start_shift
from routing.triage import merged_into

EARLIER_QUESTIONS_SHOWN = 10


@login_required
@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    """Start (``action=start``) or end (``action=end``) the person's shift."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    if request.POST.get("action") == "end":
        end_shift(user, volunteer.brand_id)
        messages.success(request, _("Your shift has ended."))
    else:
        try:
            start_shift(user, volunteer.brand_id)
        except PresenceError as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("You are on shift."))
    return redirect_back(request, reverse("helpdesk:queue"))


def question_context(
    volunteer: Volunteer,
    user: User,
    question: Question,
    notes_form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What a desk member sees of ``question`` (its own page, or the inbox's right pane):
    the thread with our replies, the customer's earlier questions, related questions, the
    claim and what the person may do to it, and the colleagues' notes and tags (their forms
    sent back with ``notes_form``, :func:`notes_context`'s arguments, when refused). The
    caller got ``question`` through ``question_of``."""
    thread = conversation_threads(question.brand_id, {question.conversation_id}).get(
        question.conversation_id, []
    )
    earlier: list[Question] = []
    if question.customer_id is not None:
        earlier = list(
            with_our_replies(
                Question.objects.filter(
                    brand_id=question.brand_id, customer_id=question.customer_id
                )
            )
            .filter(received_at__lt=question.received_at)  # earlier ones: not what came later
            .exclude(conversation_id=question.conversation_id)
            .order_by("-received_at", "-pk")[:EARLIER_QUESTIONS_SHOWN]
        )
    siblings: list[Question] = []
    if question.group_id is not None:
        siblings = list(
            Question.objects.filter(group_id=question.group_id, brand_id=question.brand_id)
            .exclude(pk=question.pk)
            .select_related("customer")
            .order_by("received_at", "pk")
        )
    crisis = crisis_for(question.brand_id, question.topic_id)
    # Under crisis mode someone below the crisis levels is told so rather than offered a
    # claim the server would refuse.
    crisis_refusal = (
        gate.crisis_refusal().message
        if crisis is not None
        and "crisis_mode" in gate.may_claim(user, question.brand_id, crisis=True).codes
        else ""
    )
    return {
        "volunteer": volunteer,
        "question": question,
        "crises": [crisis] if crisis is not None else [],
        "crisis_refusal": crisis_refusal,
        "thread": thread,
        "earlier": earlier,
        "siblings": siblings,
        "holder": person_name(question.claimed_by),
        "is_holder": holds_claim(question, user),
        "may_claim": question.state == QuestionState.QUEUED and not crisis_refusal,
        "may_escalate": question.state
        in (
            QuestionState.QUEUED,
            QuestionState.CLAIMED,
            QuestionState.DRAFTING,
            QuestionState.IN_REVIEW,
        )
        and (question.claimed_by_id == user.pk or volunteer.role in SUPERVISING_ROLES),
        "on_shift": is_on_shift(user.pk, volunteer.brand_id),
        "escalated": question.state == QuestionState.ESCALATED,
        "escalation": (
            escalation_notes([question.pk]).get(question.pk)
            if question.state == QuestionState.ESCALATED
            else None
        ),
        "handles_escalations": volunteer.role in SUPERVISING_ROLES,
        # The customer's duplicates a supervisor merged into this question (triage).
        "merged": list(with_our_replies(merged_into(question))),
        **notes_context(question, **(notes_form or {})),
    }


def notes_context(
    question: Question,
    *,
    note_text: str = "",
    note_error: str = "",
    tag_text: str = "",
    tag_error: str = "",
) -> dict[str, Any]:
    """The question's internal notes (with their authors' names) and tags, the brand's tags
    to pick from, and the notes' and tags' forms (sent back with ``*_text`` and their
    ``*_error`` when refused)."""
    return {
        "notes": [
            {
                "text": note.text,
                "created_at": note.created_at,
                "author_name": person_name(note.author) or _("someone who left"),
            }
            for note in notes_of(question)
        ],
        "tags": tags_of(question),
        "brand_tags": list(brand_tags(question.brand_id).values_list("name", flat=True)),
        "note_max_length": NOTE_MAX_LENGTH,
        "tag_max_length": TAG_MAX_LENGTH,
        "note_text": note_text,
        "note_error": note_error,
        "tag_text": tag_text,
        "tag_error": tag_error,
    }


@login_required
@require_GET
def question_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    context = question_context(volunteer, user, question)
    return render(request, "desk/question.html", context)


def _back(request: HttpRequest, question: Question) -> HttpResponse:
    """After an action: the inbox with the question open if the form came from there, else
    the question's own page."""
    if from_inbox(request):
        return redirect("helpdesk:inbox-question", pk=question.pk)
    return redirect("desk:question", pk=question.pk)


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = require_member(request)
    question = question_of(volunteer, pk)
    result = claim_question(question.pk, signed_in_user(request))
    if result.won:
        messages.success(request, _("You hold this question now."))
        if from_inbox(request):
            return redirect("helpdesk:inbox-question", pk=question.pk)
        return redirect("desk:compose", pk=question.pk)
    # The claim's own message says who has it, in the person's language.
    text = result.message or _("You cannot claim this question.")
    if result.refusals:
        text = f"{text} ({', '.join(result.refusals)})"
    messages.error(request, text)
    return _back(request, question)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = require_member(request)
    question = question_of(volunteer, pk)
    try:
        release_question(question.pk, signed_in_user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question is back in the queue."))
    return _back(request, question)


@login_required
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = require_member(request)
    question = question_of(volunteer, pk)
    try:
        escalate_question(question.pk, signed_in_user(request), request.POST.get("note", ""))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question went to the official care team."))
    return _back(request, question)
