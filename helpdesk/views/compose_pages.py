"""The composer: the holder of a claim drafts its reply with live feedback from the
charter's rules (count, findings, the highlighted draft, what happens on submit), starting
from a saved reply if they like, and submits it.

Only the holder of a live claim writes here; another brand's question answers 404. The
highlighted draft is built from plain-text segments, rendered with auto-escaping only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

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

from charter.gate import Decision, may_send
from charter.linter import Finding
from helpdesk.models import Question, Reply, Volunteer
from helpdesk.params import parse_id
from helpdesk.replies import (
    ReplyError,
    account_for,
    brand_handles,
    linked_sender,
    send_queue_position,
    submit_reply,
)
from helpdesk.replies.common import next_reply_key
from helpdesk.saved_replies.actions import count_use
from helpdesk.saved_replies.queries import Choice, choices_for, may_use_saved_replies
from helpdesk.states import ReplyState
from helpdesk.views.access import holds_claim, question_of, require_member, signed_in_user
from routing.claims import ClaimError, renew_lease
from routing.crisis import crisis_for
from routing.models import CrisisMode


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


def _decision(
    question: Question, user: User, volunteer: Volunteer, text: str, crisis: CrisisMode | None
) -> Decision:
    """What the gate would say if this draft were submitted now; the reply key is the one
    ``submit_reply`` will use, so a sampled review is predicted right."""
    return may_send(
        user,
        question.brand_id,
        text,
        reply_key=next_reply_key(question, user),
        signature=volunteer.signature,
        customer_handle=question.customer.username if question.customer else "",
        brand_handles=brand_handles(question.brand_id),
        language=get_language() or "en",
        crisis_review=crisis is not None and crisis.force_review,
    )


def _lint_context(
    question: Question, user: User, volunteer: Volunteer, text: str
) -> dict[str, Any]:
    crisis = crisis_for(question.brand_id, question.topic_id)
    decision = _decision(question, user, volunteer, text, crisis)
    result = decision.lint
    return {
        "draft": text,
        "decision": decision,
        "result": result,
        "segments": segments(text, result.findings) if result else [],
        "limit": 280,
        "over_limit": result is not None and result.weighted_length > 280,
        "crises": [crisis] if crisis is not None else [],
        "crisis": crisis,
    }


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
    handle = question.customer.username if question.customer else ""
    default_draft = f"@{handle} " if handle else ""
    if volunteer.signature:
        default_draft += f" {volunteer.signature}"
    may_use_saved = may_use_saved_replies(volunteer, question.brand_id)
    crisis = crisis_for(question.brand_id, question.topic_id)
    holding_id = crisis.holding_statement_id if crisis is not None else None
    choices = choices_for(question, volunteer, first=holding_id) if may_use_saved else []
    holding = next((c for c in choices if c.saved.pk == holding_id), None)
    inserted: Choice | None = None
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
                saved_id = parse_id(saved_used)
                if saved_id is not None:
                    count_use(question, volunteer, saved_id)
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
        "saved_used": saved_used if parse_id(saved_used) is not None else "",
        "picker_size": max(2, min(6, len(choices))),
        "holding": holding,
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
