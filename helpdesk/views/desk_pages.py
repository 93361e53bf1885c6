"""The desk's working pages: going on shift, a question with its thread and the customer's
history, the composer with live lint, supervisors' review queue, volunteers' feedback, and
the supervisors' floor view.

Every page checks the role on the server (DESIGN invariant 8): desk roles only (agency staff
never see the queue's controls); another brand's question or reply answers 404. Tweet text is
rendered with auto-escaping only; the highlighted draft is built from plain-text segments.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from charter.gate import Decision, may_send
from charter.linter import Finding
from helpdesk import saved_replies
from helpdesk.models import Question, Reply, Volunteer
from helpdesk.permissions import DESK_ROLES, SUPERVISING_ROLES, require_role
from helpdesk.replies import (
    ReplyError,
    account_for,
    approve_reply,
    brand_handles,
    bulk_approve,
    linked_sender,
    reject_reply,
    send_queue_position,
    submit_reply,
)
from helpdesk.states import QuestionState, ReplyState
from routing.claims import ClaimError, claim_question, release_question, renew_lease
from routing.eligibility import OPEN_CLAIM_STATES
from routing.handover import escalate_question, reassign_question, release_for_holder
from routing.presence import PresenceError, end_shift, is_on_shift, on_shift_user_ids, start_shift

EARLIER_QUESTIONS_SHOWN = 10
NEAR_DEADLINE_SHOWN = 50
NEAR_DEADLINE_MINUTES = 15
REVIEW_SHOWN = 100
FEEDBACK_SHOWN = 50
DEADLINE_STATES = (QuestionState.QUEUED, QuestionState.CLAIMED, QuestionState.DRAFTING)


# --- helpers ---------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


def _member(request: HttpRequest) -> Volunteer:
    return require_role(request, DESK_ROLES)


def _supervisor(request: HttpRequest) -> Volunteer:
    return require_role(request, SUPERVISING_ROLES)


def _question_of(volunteer: Volunteer, pk: int) -> Question:
    """The question if it belongs to the person's brand; any other looks like it is not
    there."""
    return get_object_or_404(
        Question.objects.select_related("customer", "account", "claimed_by__volunteer", "group"),
        pk=pk,
        brand_id=volunteer.brand_id,
    )


def _holds(question: Question, user: User) -> bool:
    lapsed = question.lease_expires_at is not None and question.lease_expires_at <= timezone.now()
    return question.claimed_by_id == user.pk and question.state in OPEN_CLAIM_STATES and not lapsed


def _replies() -> Prefetch[Any]:
    return Prefetch(
        "replies",
        queryset=Reply.objects.select_related("author__volunteer").order_by("created_at", "pk"),
    )


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)


def _person(user: User | None) -> str:
    if user is None:
        return ""
    volunteer = getattr(user, "volunteer", None)
    return (
        (volunteer.display_name if volunteer else "") or user.get_full_name() or user.get_username()
    )


# --- shift -----------------------------------------------------------------------------------


@login_required
@require_POST
def shift(request: HttpRequest) -> HttpResponse:
    """Start (``action=start``) or end (``action=end``) the person's shift."""
    volunteer = _member(request)
    user = _user(request)
    if request.POST.get("action") == "end":
        end_shift(user, volunteer.brand_id)
        messages.success(request, _("Your shift has ended."))
    else:
        try:
            start_shift(user, volunteer.brand_id)
        except PresenceError:
            messages.error(request, _("Only members of the programme go on shift."))
        else:
            messages.success(request, _("You are on shift."))
    return _back(request, reverse("helpdesk:queue"))


# --- question --------------------------------------------------------------------------------


@login_required
@require_GET
def question_view(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _member(request)
    user = _user(request)
    question = _question_of(volunteer, pk)
    thread = list(
        Question.objects.filter(conversation_id=question.conversation_id)
        .select_related("customer")
        .prefetch_related(_replies())
        .order_by("received_at", "pk")
    )
    earlier: list[Question] = []
    if question.customer_id is not None:
        earlier = list(
            Question.objects.filter(brand_id=question.brand_id, customer_id=question.customer_id)
            .exclude(conversation_id=question.conversation_id)
            .prefetch_related(_replies())
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
    context = {
        "volunteer": volunteer,
        "question": question,
        "thread": thread,
        "earlier": earlier,
        "siblings": siblings,
        "holder": _person(question.claimed_by),
        "is_holder": _holds(question, user),
        "may_claim": question.state == QuestionState.QUEUED,
        "may_escalate": question.state
        in (
            QuestionState.QUEUED,
            QuestionState.CLAIMED,
            QuestionState.DRAFTING,
            QuestionState.IN_REVIEW,
        )
        and (question.claimed_by_id == user.pk or volunteer.role in SUPERVISING_ROLES),
        "on_shift": is_on_shift(user.pk, volunteer.brand_id),
    }
    return render(request, "desk/question.html", context)


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _member(request)
    question = _question_of(volunteer, pk)
    result = claim_question(question.pk, _user(request))
    if result.won:
        messages.success(request, _("You hold this question now."))
        return redirect("desk:compose", pk=question.pk)
    # The claim's own message says who has it, in the person's language.
    text = result.message or _("You cannot claim this question.")
    if result.refusals:
        text = f"{text} ({', '.join(result.refusals)})"
    messages.error(request, text)
    return redirect("desk:question", pk=question.pk)


@login_required
@require_POST
def release(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _member(request)
    question = _question_of(volunteer, pk)
    try:
        release_question(question.pk, _user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question is back in the queue."))
    return redirect("desk:question", pk=question.pk)


@login_required
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = _member(request)
    question = _question_of(volunteer, pk)
    try:
        escalate_question(question.pk, _user(request), request.POST.get("note", ""))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question went to the official care team."))
    return redirect("desk:question", pk=question.pk)


# --- composer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A piece of the draft and the finding that covers it (None: nothing to say)."""

    text: str
    finding: Finding | None


def segments(text: str, findings: tuple[Finding, ...]) -> list[Segment]:
    """``text`` cut at every finding's edges; each piece carries the most severe finding
    covering it. Findings with an empty span (something missing) mark nothing."""
    spans = [f for f in findings if 0 <= f.start < f.end <= len(text)]
    edges = sorted({0, len(text), *(f.start for f in spans), *(f.end for f in spans)})
    pieces: list[Segment] = []
    for start, end in pairwise(edges):
        covering = [f for f in spans if f.start <= start and end <= f.end]
        worst = max(covering, key=lambda f: f.severity.rank) if covering else None
        if pieces and pieces[-1].finding is worst:
            pieces[-1] = Segment(pieces[-1].text + text[start:end], worst)
        else:
            pieces.append(Segment(text[start:end], worst))
    return pieces


def _decision(question: Question, user: User, volunteer: Volunteer, text: str) -> Decision:
    """What the gate would say if this draft were submitted now; the reply key is the one
    ``submit_reply`` will use, so a sampled review is predicted right."""
    number = Reply.objects.filter(question=question, author=user).count() + 1
    return may_send(
        user,
        question.brand_id,
        text,
        reply_key=f"q{question.pk}-u{user.pk}-{number}",
        signature=volunteer.signature,
        customer_handle=question.customer.username if question.customer else "",
        brand_handles=brand_handles(question.brand_id),
        language=get_language() or "en",
    )


def _lint_context(
    question: Question, user: User, volunteer: Volunteer, text: str
) -> dict[str, Any]:
    decision = _decision(question, user, volunteer, text)
    result = decision.lint
    return {
        "draft": text,
        "decision": decision,
        "result": result,
        "segments": segments(text, result.findings) if result else [],
        "limit": 280,
        "over_limit": result is not None and result.weighted_length > 280,
    }


def _holder_question(request: HttpRequest, pk: int) -> tuple[Volunteer, User, Question]:
    volunteer = _member(request)
    user = _user(request)
    question = _question_of(volunteer, pk)
    if not _holds(question, user):
        raise PermissionDenied(_("Only the holder of the claim writes its reply."))
    return volunteer, user, question


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, pk: int) -> HttpResponse:
    """The composer. ``?saved=<id>`` starts the draft from a saved reply filled in for this
    question (how the picker works without JavaScript); one the person may not use answers
    404 like one that does not exist. Where the brand allows it and the person linked their
    own X account, they choose whether the reply goes from it or from the care account."""
    volunteer, user, question = _holder_question(request, pk)
    status = 200
    errors: list[str] = []
    handle = question.customer.username if question.customer else ""
    default_draft = f"@{handle} " if handle else ""
    if volunteer.signature:
        default_draft += f" {volunteer.signature}"
    may_use_saved = saved_replies.may_use_saved_replies(volunteer, question.brand_id)
    choices = saved_replies.choices_for(question, volunteer) if may_use_saved else []
    inserted: saved_replies.Choice | None = None
    from_linked = False
    if request.method == "GET":
        text = default_draft
        wanted = request.GET.get("saved")
        if wanted is not None:
            inserted = next((c for c in choices if str(c.saved.pk) == wanted), None)
            if inserted is None:
                raise Http404("No such saved reply.")
            text = inserted.text
        saved_used = str(inserted.saved.pk) if inserted else ""
    else:
        text = request.POST.get("text", "")
        saved_used = request.POST.get("saved", "")
        from_linked = request.POST.get("send_from") == "linked"
        if request.POST.get("action") != "check":
            language = (question.lang or get_language() or "en").split("-")[0]
            try:
                reply = submit_reply(
                    question, user, text, language=language, from_linked_account=from_linked
                )
            except ReplyError as error:
                status = 400
                errors = [reason.get("message", "") for reason in error.reasons] or [error.message]
            else:
                if saved_used.isdigit():
                    saved_replies.count_use(question, volunteer, int(saved_used))
                _announce_outcome(request, reply)
                return redirect("desk:question", pk=question.pk)
    linked = linked_sender(user, question.brand_id)
    care_account = None
    if linked is not None:
        with contextlib.suppress(ReplyError):  # no active care account: submitting says so
            care_account = account_for(question)
    context = {
        "volunteer": volunteer,
        "question": question,
        "errors": errors,
        "care_account": care_account,
        "linked": linked,
        "send_from": "linked" if request.method == "POST" and from_linked else "care",
        "default_draft": default_draft,
        "may_use_saved": may_use_saved,
        "saved_choices": choices,
        "saved_inserted": inserted,
        "saved_used": saved_used if saved_used.isdigit() else "",
        "picker_size": max(2, min(6, len(choices))),
        **_lint_context(question, user, volunteer, text),
    }
    return render(request, "desk/compose.html", context, status=status)


def _announce_outcome(request: HttpRequest, reply: Reply) -> None:
    if reply.state == ReplyState.PENDING_REVIEW:
        reasons = "; ".join(reason.get("message", "") for reason in reply.review_reasons)
        messages.info(
            request,
            _("Your reply went to a supervisor for review: %(reasons)s") % {"reasons": reasons},
        )
        return
    position = send_queue_position(reply)
    if position.expected_at is not None:
        when = formats.time_format(timezone.localtime(position.expected_at), "H:i")
        messages.success(
            request,
            _("Your reply is in the send queue: %(ahead)s ahead, expected at %(when)s.")
            % {"ahead": position.ahead, "when": when},
        )
    else:
        messages.success(request, _("Your reply is in the send queue."))


@login_required
@require_POST
def lint_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment under the composer: count, findings, highlighted draft, and what
    happens on submit."""
    volunteer, user, question = _holder_question(request, pk)
    # The holder is typing: keep their claim (the lease is renewed while they write). A
    # lease that lapsed meanwhile stays lapsed: submitting will say so.
    with contextlib.suppress(ClaimError):
        renew_lease(question.pk, user)
    context = _lint_context(question, user, volunteer, request.POST.get("text", ""))
    return render(request, "desk/_lint.html", context)


# --- review ----------------------------------------------------------------------------------


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    supervisor = _supervisor(request)
    pending = (
        Reply.objects.filter(
            state=ReplyState.PENDING_REVIEW, question__brand_id=supervisor.brand_id
        )
        .select_related("question__customer", "author__volunteer")
        .order_by("submitted_at", "pk")
    )
    replies = list(pending[:REVIEW_SHOWN])
    context = {
        "volunteer": supervisor,
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
    supervisor = _supervisor(request)
    values = request.GET.get("seen", "").split(",")[:REVIEW_SHOWN]
    seen = {int(value) for value in values if value.isdigit()}
    pending = Reply.objects.filter(
        state=ReplyState.PENDING_REVIEW, question__brand_id=supervisor.brand_id
    )
    still_there = pending.filter(pk__in=seen).count()
    context = {
        "seen": ",".join(str(pk) for pk in sorted(seen)),
        "arrived": pending.count() - still_there,
        "gone": len(seen) - still_there,
        "now": timezone.now(),
    }
    return render(request, "desk/_review_news.html", context)


def _reply_of(supervisor: Volunteer, pk: int) -> Reply:
    return get_object_or_404(Reply, pk=pk, question__brand_id=supervisor.brand_id)


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a reply, or (with ``text``) edit it and approve the edit."""
    supervisor = _supervisor(request)
    reply = _reply_of(supervisor, pk)
    edited = request.POST.get("text")
    try:
        approve_reply(reply, by=_user(request), edited_text=edited)
    except ReplyError as error:
        details = [reason.get("message", "") for reason in error.reasons]
        messages.error(request, " ".join([error.message, *details]))
    else:
        messages.success(request, _("Reply approved: it is in the send queue."))
    return redirect("desk:review")


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = _supervisor(request)
    reply = _reply_of(supervisor, pk)
    try:
        reject_reply(reply, by=_user(request), feedback=request.POST.get("feedback", ""))
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
    supervisor = _supervisor(request)
    ids: list[int] = []
    for value in request.POST.getlist("reply"):
        if value.isdigit():
            ids.append(int(value))
    own_brand = set(
        Reply.objects.filter(pk__in=ids, question__brand_id=supervisor.brand_id).values_list(
            "pk", flat=True
        )
    )
    outcome = bulk_approve([i for i in ids if i in own_brand], by=_user(request))
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
    volunteer = _member(request)
    reviewed = (
        Reply.objects.filter(author_id=volunteer.user_id, reviewed_at__isnull=False)
        .select_related("question__customer", "reviewed_by__volunteer")
        .order_by("-reviewed_at", "-pk")[:FEEDBACK_SHOWN]
    )
    return render(request, "desk/feedback.html", {"volunteer": volunteer, "replies": reviewed})


# --- floor -----------------------------------------------------------------------------------


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
    return {
        "volunteer": supervisor,
        "rows": rows,
        "near": near,
        "now": now,
        "people": people,
    }


@login_required
@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    context = _floor_context(_supervisor(request))
    query = request.GET.urlencode()
    context["body_url"] = reverse("desk:floor-body") + (f"?{query}" if query else "")
    return render(request, "desk/floor.html", context)


@login_required
@require_GET
def floor_body(request: HttpRequest) -> HttpResponse:
    """The floor page's live part, which the open page fetches every few seconds; checked
    exactly as the page is."""
    return render(request, "desk/_floor_body.html", _floor_context(_supervisor(request)))


@login_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    supervisor = _supervisor(request)
    question = _question_of(supervisor, pk)
    raw = request.POST.get("to", "")
    target = (
        Volunteer.objects.select_related("user")
        .filter(
            Q(user_id=int(raw)) if raw.isdigit() else Q(pk__in=[]),
            brand_id=supervisor.brand_id,
        )
        .first()
    )
    if target is None:
        messages.error(request, _("Choose someone on shift."))
        return _back(request, reverse("desk:floor"))
    try:
        reassign_question(question.pk, target.user, _user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("The question now goes to %(person)s.") % {"person": _person(target.user)}
        )
    return _back(request, reverse("desk:floor"))


@login_required
@require_POST
def take_back(request: HttpRequest, pk: int) -> HttpResponse:
    """A supervisor returns someone's claimed question to the queue."""
    supervisor = _supervisor(request)
    question = _question_of(supervisor, pk)
    try:
        release_for_holder(question.pk, _user(request))
    except ClaimError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The question is back in the queue."))
    return _back(request, reverse("desk:floor"))


app_name = "desk"
urlpatterns = [
    path("shift/", shift, name="shift"),
    path("questions/<int:pk>/", question_view, name="question"),
    path("questions/<int:pk>/claim/", claim, name="claim"),
    path("questions/<int:pk>/release/", release, name="release"),
    path("questions/<int:pk>/escalate/", escalate, name="escalate"),
    path("questions/<int:pk>/reassign/", reassign, name="reassign"),
    path("questions/<int:pk>/take-back/", take_back, name="take-back"),
    path("questions/<int:pk>/compose/", compose, name="compose"),
    path("questions/<int:pk>/lint/", lint_fragment, name="lint"),
    path("review/", review, name="review"),
    path("review/<int:pk>/approve/", approve, name="approve"),
    path("review/<int:pk>/reject/", reject, name="reject"),
    path("review/bulk/", bulk, name="bulk-approve"),
    path("review/news/", review_news, name="review-news"),
    path("my-feedback/", my_feedback, name="feedback"),
    path("floor/", floor, name="floor"),
    path("floor/body/", floor_body, name="floor-body"),
]
