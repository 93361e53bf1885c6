"""The composer: the holder of a claim drafts its reply with live feedback from the
charter's rules (count, findings, the highlighted draft, what happens on submit), starting
from a saved reply if they like, and submits it.

Only the holder of a live claim writes here; another brand's question answers 404. The form
is drawn on its own page or in the inbox's right pane (``inbox=1``), which gets the pane
back. The highlighted draft is built from plain-text segments, rendered with auto-escaping
only.
"""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.models import Question, Reply, Volunteer
from helpdesk.params import parse_id
from helpdesk.replies import ReplyError, send_queue_position, submit_reply
from helpdesk.saved_replies.actions import count_use
from helpdesk.saved_replies.queries import Choice
from helpdesk.states import ReplyState
from helpdesk.views.access import (
    from_inbox,
    holds_claim,
    question_of,
    require_member,
    signed_in_user,
)
from helpdesk.views.composer import composer_context, default_draft, lint_context, saved_choices
from helpdesk.views.inbox import render_inbox
from routing.claims import ClaimError, renew_lease


def _holder_question(request: HttpRequest, pk: int) -> tuple[Volunteer, User, Question]:
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    if not holds_claim(question, user):
        raise PermissionDenied(_("Only the holder of the claim writes its reply."))
    return volunteer, user, question


@login_required
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, pk: int) -> HttpResponse:
    """The composer. ``?saved=<id>`` starts the draft from a saved reply filled in for this
    question (how the picker works without JavaScript); one the person may not use answers
    404 like one that does not exist. Where the brand allows it and the person linked their
    own X account, they choose whether the reply goes from it or from the care account.
    Under crisis mode the page says so, and the crisis's holding statement is the saved
    reply suggested first."""
    volunteer, user, question = _holder_question(request, pk)
    status = 200
    errors: list[str] = []
    choices = saved_choices(question, volunteer)
    inserted: Choice | None = None
    from_linked = False
    inbox = from_inbox(request)
    if request.method == "GET":
        text = default_draft(question, volunteer)
        wanted = request.GET.get("saved")
        if wanted is not None:
            inserted = next((c for c in choices[1] if str(c.saved.pk) == wanted), None)
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
                saved_id = parse_id(saved_used)
                if saved_id is not None:
                    count_use(question, volunteer, saved_id)
                _announce_outcome(request, reply)
                if inbox and request.headers.get("HX-Request"):
                    question.refresh_from_db()
                    return render_inbox(request, volunteer, user, question, just_sent=True)
                if inbox:
                    return redirect("helpdesk:inbox-question", pk=question.pk)
                return redirect("desk:question", pk=question.pk)
    composer = composer_context(
        question,
        user,
        volunteer,
        text=text,
        choices=choices,
        inserted=inserted,
        saved_used=saved_used,
        from_linked=from_linked,
        posted=request.method == "POST",
        errors=errors,
    )
    if inbox:
        return render_inbox(request, volunteer, user, question, composer=composer, status=status)
    context = {"volunteer": volunteer, "question": question, **composer}
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
    context = lint_context(question, user, volunteer, request.POST.get("text", ""))
    return render(request, "desk/_lint.html", context)
