"""The outbox for supervisors: replies X refused (with the reason, and what to do about
them), replies waiting to go (and when each will), and replies sent (with moderation).

Every view checks the supervising role of the brand; a reply of another brand looks like
none at all. The views validate and call the actions in ``helpdesk.outbox`` and
``helpdesk.replies``; they change nothing themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from helpdesk.models import Reply, Volunteer, XAccount
from helpdesk.outbox import dismiss_failed_question, retry_failed_reply, return_failed_question
from helpdesk.permissions import in_supervised_stores
from helpdesk.replies import ReplyError, delete_sent_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.views.access import reply_of, require_supervisor, signed_in_user
from helpdesk.x import posting

SHOWN = 50
TABS = ("failed", "queued", "sent")
ORDER: dict[str, tuple[str, ...]] = {
    ReplyState.FAILED: ("-state_changed_at", "-pk"),  # the newest failure first
    ReplyState.QUEUED: ("priority", "queued_at", "pk"),  # the dispatcher's order
    ReplyState.SENT: ("-sent_at", "-pk"),
}
# What the person reads, in their language, for each refusal of the actions.
_ERRORS = {
    "not_failed": gettext_lazy("This reply is no longer failed; the list was out of date."),
    "question_moved": gettext_lazy("Its question has moved on meanwhile; nothing to do."),
    "empty": gettext_lazy("The edited reply is empty."),
    "edit_blocked": gettext_lazy("The edited reply breaks a rule that cannot be approved:"),
    "own_reply": gettext_lazy("Someone else must review your edit."),
    "reason_required": gettext_lazy("Say why: a reason is required."),
    "reason_too_long": gettext_lazy("Keep the reason under 200 characters."),
    "not_sent": gettext_lazy("This reply is not on X (any more)."),
}


def _in_state(supervisor: Volunteer, state: str) -> QuerySet[Reply]:
    """The brand's replies in ``state``; failed ones only while their question waits on a
    supervisor (once it moved on, the audit log keeps the story)."""
    rows = Reply.objects.filter(
        in_supervised_stores(supervisor), state=state, question__brand_id=supervisor.brand_id
    )
    if state == ReplyState.FAILED:
        rows = rows.filter(question__state=QuestionState.FAILED)
    return rows


def _replies(supervisor: Volunteer, state: str) -> list[Reply]:
    rows = _in_state(supervisor, state).select_related(
        "question__customer", "author__volunteer", "account"
    )
    return list(rows.order_by(*ORDER[state])[:SHOWN])


def _expected_times(replies: list[Reply]) -> dict[int, datetime]:
    """When each waiting reply should go, planned per account as the dispatcher plans."""
    now = timezone.now()
    expected: dict[int, datetime] = {}
    brand_accounts = {reply.account_id for reply in replies if not reply.from_linked_account}
    for account in XAccount.objects.filter(pk__in=brand_accounts):
        expected.update(posting.plan_account(account, now))
    for author_id in {reply.author_id for reply in replies if reply.from_linked_account}:
        expected.update(posting.plan_linked(author_id, now))
    return expected


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    counts = {tab: _in_state(supervisor, tab).count() for tab in TABS}
    tab = request.GET.get("show", "")
    if tab not in TABS:
        tab = "failed" if counts["failed"] else "queued"
    replies = _replies(supervisor, tab)
    expected = _expected_times(replies) if tab == "queued" else {}
    rows = [(reply, expected.get(reply.pk)) for reply in replies]
    context = {"volunteer": supervisor, "tab": tab, "counts": counts, "rows": rows}
    return render(request, "desk/outbox.html", context)


def _act(
    request: HttpRequest,
    pk: int,
    act: Callable[[Reply, User], object],
    done: str,
    tab: str,
) -> HttpResponse:
    supervisor = require_supervisor(request)
    reply = reply_of(supervisor, pk)
    try:
        act(reply, signed_in_user(request))
    except ReplyError as error:
        details = [str(reason.get("message", "")) for reason in error.reasons]
        message = str(_ERRORS.get(error.code, error.message))
        messages.error(request, " ".join([message, *details]))
    else:
        messages.success(request, done)
    return redirect(reverse("outbox:outbox") + f"?show={tab}")


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a failed reply again; with ``text``, edited; with ``from_care_account=1``, from
    the care account rather than the author's linked one."""
    edited = request.POST.get("text")
    care = request.POST.get("from_care_account") == "1"
    return _act(
        request,
        pk,
        lambda reply, user: retry_failed_reply(
            reply, by=user, edited_text=edited, from_care_account=care
        ),
        _("The reply is back in the send queue."),
        "failed",
    )


@login_required
@require_POST
def give_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda reply, user: return_failed_question(reply, by=user),
        _("The question is back in the queue for anyone to answer."),
        "failed",
    )


@login_required
@require_POST
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _act(
        request,
        pk,
        lambda reply, user: dismiss_failed_question(reply, by=user, reason=reason),
        _("The question is dismissed."),
        "failed",
    )


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Moderation: delete a sent reply from X, with the reason."""
    reason = request.POST.get("reason", "")
    then = request.POST.get("then", "queue")
    return _act(
        request,
        pk,
        lambda reply, user: delete_sent_reply(reply, by=user, reason=reason, then=then),
        _("The reply is deleted from X."),
        "sent",
    )


app_name = "outbox"
urlpatterns = [
    path("", outbox, name="outbox"),
    path("<int:pk>/retry/", retry, name="retry"),
    path("<int:pk>/give-back/", give_back, name="give-back"),
    path("<int:pk>/dismiss/", dismiss, name="dismiss"),
    path("<int:pk>/delete/", delete, name="delete"),
]
