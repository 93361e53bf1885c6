"""Supervisors' review queue (approve, edit and approve, reject with feedback, approve in
bulk) and what volunteers read of the reviews of their own replies.

The queue and its actions are for supervising roles of the brand; another brand's reply
answers 404 and is left out of a bulk approval.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from helpdesk.models import Reply
from helpdesk.params import parse_ids
from helpdesk.permissions import in_supervised_stores
from helpdesk.queries import conversation_threads
from helpdesk.replies import ReplyError, approve_reply, bulk_approve, reject_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.views.access import reply_of, require_member, require_supervisor, signed_in_user

REVIEW_SHOWN = 100
FEEDBACK_SHOWN = 50


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    pending = (
        Reply.objects.filter(
            in_supervised_stores(supervisor),
            state=ReplyState.PENDING_REVIEW,
            question__brand_id=supervisor.brand_id,
        )
        .select_related("question__customer", "author__volunteer")
        .order_by("submitted_at", "pk")
    )
    replies = list(pending[:REVIEW_SHOWN])
    # Each card opens its whole conversation: the customer's earlier messages and our
    # earlier replies, read for every card at once.
    threads = conversation_threads(
        supervisor.brand_id, {reply.question.conversation_id for reply in replies}
    )
    context = {
        "volunteer": supervisor,
        "cards": [
            {"reply": reply, "thread": threads.get(reply.question.conversation_id, [])}
            for reply in replies
        ],
        "replies": replies,
        "total": pending.count(),
        "seen": ",".join(str(reply.pk) for reply in replies),
        "failed": Reply.objects.filter(
            state=ReplyState.FAILED,
            question__brand_id=supervisor.brand_id,
            question__state=QuestionState.FAILED,
        ).count(),
        "now": timezone.now(),
    }
    return render(request, "desk/review.html", context)


@login_required
@require_GET
def review_news(request: HttpRequest) -> HttpResponse:
    """What changed in the review queue since the page was drawn (``seen``: the ids it
    shows), polled by the page; it never redraws the list under a supervisor's edit."""
    supervisor = require_supervisor(request)
    values = request.GET.get("seen", "").split(",")[:REVIEW_SHOWN]
    seen = set(parse_ids(values))
    pending = Reply.objects.filter(
        in_supervised_stores(supervisor),
        state=ReplyState.PENDING_REVIEW,
        question__brand_id=supervisor.brand_id,
    )
    still_there = pending.filter(pk__in=seen).count()
    context = {
        "seen": ",".join(str(pk) for pk in sorted(seen)),
        "arrived": pending.count() - still_there,
        "gone": len(seen) - still_there,
        "now": timezone.now(),
    }
    return render(request, "desk/_review_news.html", context)


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a reply, or (with ``text``) edit it and approve the edit."""
    supervisor = require_supervisor(request)
    reply = reply_of(supervisor, pk)
    edited = request.POST.get("text")
    try:
        approve_reply(reply, by=signed_in_user(request), edited_text=edited)
    except ReplyError as error:
        details = [reason.get("message", "") for reason in error.reasons]
        messages.error(request, " ".join([error.message, *details]))
    else:
        messages.success(request, _("Reply approved: it is in the send queue."))
    return redirect("desk:review")


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = require_supervisor(request)
    reply = reply_of(supervisor, pk)
    try:
        reject_reply(reply, by=signed_in_user(request), feedback=request.POST.get("feedback", ""))
    except ReplyError as error:
        if error.code == "feedback_required":
            messages.error(request, _("Say what to change: feedback is required."))
        else:
            messages.error(request, error.message)
    else:
        messages.success(request, _("Reply rejected; its author sees your feedback."))
    return redirect("desk:review")


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    ids = parse_ids(request.POST.getlist("reply"))
    own_brand = set(
        Reply.objects.filter(pk__in=ids, question__brand_id=supervisor.brand_id).values_list(
            "pk", flat=True
        )
    )
    outcome = bulk_approve([i for i in ids if i in own_brand], by=signed_in_user(request))
    if outcome.approved:
        messages.success(
            request, _("%(count)s replies approved.") % {"count": len(outcome.approved)}
        )
    for reply_id, reason in outcome.refused.items():
        messages.error(request, f"#{reply_id}: {reason}")
    if not ids:
        messages.error(request, _("Tick the replies to approve first."))
    return redirect("desk:review")


@login_required
@require_GET
def my_feedback(request: HttpRequest) -> HttpResponse:
    volunteer = require_member(request)
    reviewed = (
        Reply.objects.filter(author_id=volunteer.user_id, reviewed_at__isnull=False)
        .select_related("question__customer", "reviewed_by__volunteer")
        .order_by("-reviewed_at", "-pk")[:FEEDBACK_SHOWN]
    )
    return render(request, "desk/feedback.html", {"volunteer": volunteer, "replies": reviewed})
