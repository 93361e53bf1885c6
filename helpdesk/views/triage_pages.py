"""Bulk triage for supervisors: the brand's waiting questions grouped by customer (a
customer with several appears as one row, whose box ticks all their queued questions), and
one form that dismisses, assigns or merges the ticked ones. It works without JavaScript.

Supervising roles of the brand only. The actions are in :mod:`routing.triage`; this page
validates the form and says what happened. Another brand's ids are ignored, as if they did
not exist; a refusal (nothing ticked, an unknown action, a missing reason, someone who may
not take the questions) shows the page again with the error and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from helpdesk.models import Customer, Question, Volunteer
from helpdesk.params import parse_id, parse_ids
from helpdesk.people import person_name
from helpdesk.permissions import DESK_ROLES, supervises
from helpdesk.queries import QueueFilters
from helpdesk.states import QuestionState
from helpdesk.views.access import redirect_back, require_supervisor, signed_in_user
from routing.models import Topic
from routing.presence import on_shift_user_ids
from routing.triage import (
    MAX_REASON_CHARS,
    MAX_TRIAGED,
    WAITING_STATES,
    TriageError,
    TriageOutcome,
    assign_questions,
    dismiss_questions,
    merge_questions,
    own_ids,
)

TRIAGE_SHOWN = 200  # questions on the page, the longest waiting first
ACTIONS = ("dismiss", "assign", "merge")


@dataclass
class CustomerRow:
    """One customer's waiting questions on the page, oldest first (a question without a
    customer is a row of its own)."""

    key: str
    customer: Customer | None
    questions: list[Question] = field(default_factory=list)
    ticked: frozenset[int] = frozenset()

    @property
    def newest(self) -> Question:
        return self.questions[-1]

    @property
    def selectable(self) -> list[int]:
        return [q.pk for q in self.questions if q.state == QuestionState.QUEUED]

    @property
    def value(self) -> str:
        """What the row's box sends: its queued questions' ids."""
        return ",".join(str(pk) for pk in self.selectable)

    @property
    def is_ticked(self) -> bool:
        return bool(self.selectable) and set(self.selectable) <= self.ticked


def _filters(request: HttpRequest) -> QueueFilters:
    return QueueFilters(
        topic=request.GET.get("topic", "")[:100], lang=request.GET.get("lang", "")[:16]
    )


def _context(
    request: HttpRequest, supervisor: Volunteer, ticked: frozenset[int] = frozenset()
) -> dict[str, Any]:
    """The page: the waiting questions by customer under the chosen filters, the filters'
    choices, and the people the supervisor may give questions to."""
    filters = _filters(request)
    brand_id = supervisor.brand_id
    waiting = filters.apply(Question.objects.filter(brand_id=brand_id, state__in=WAITING_STATES))
    shown = list(
        waiting.select_related("customer", "topic", "claimed_by__volunteer")
        .defer("raw")
        .order_by("received_at", "pk")[:TRIAGE_SHOWN]
    )
    rows: dict[str, CustomerRow] = {}
    for question in shown:
        key = f"c{question.customer_id}" if question.customer_id else f"q{question.pk}"
        row = rows.setdefault(key, CustomerRow(key, question.customer, ticked=ticked))
        row.questions.append(question)
    on_shift = on_shift_user_ids(brand_id)
    people = [
        person
        for person in Volunteer.objects.filter(
            brand_id=brand_id, user_id__in=on_shift, role__in=DESK_ROLES
        )
        .select_related("user", "store")
        .order_by("display_name", "user__username")
        if supervises(supervisor, person.store)
    ]
    return {
        "volunteer": supervisor,
        "rows": list(rows.values()),
        "shown": len(shown),
        "total": waiting.count(),
        "filters": filters,
        "topics": Topic.objects.filter(brand_id=brand_id).order_by("name"),
        "languages": [
            lang
            for lang in Question.objects.filter(brand_id=brand_id, state__in=WAITING_STATES)
            .exclude(lang="")
            .order_by("lang")
            .values_list("lang", flat=True)
            .distinct()
        ],
        "people": people,
        "max_reason": MAX_REASON_CHARS,
        "reasons": [_("Spam"), _("Not a question"), _("Duplicate"), _("Answered elsewhere")],
    }


def _ticked(request: HttpRequest) -> list[int]:
    """The ticked ids: each box sends one id, or a customer's ids joined by commas."""
    values: list[str] = []
    for value in request.POST.getlist("question")[:MAX_TRIAGED]:
        values.extend(value.split(",")[:MAX_TRIAGED])
    return parse_ids(values)[:MAX_TRIAGED]


@login_required
@require_http_methods(["GET", "POST"])
def triage(request: HttpRequest) -> HttpResponse:
    supervisor = require_supervisor(request)
    if request.method != "POST":
        return _page(request, supervisor)
    # Another brand's ids: as if they were not there.
    ids = own_ids(supervisor.brand_id, _ticked(request))
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        return _refused(request, supervisor, ids, _("Choose what to do: dismiss, assign or merge."))
    if not ids:
        return _refused(request, supervisor, ids, _("Tick the questions first."))
    by = signed_in_user(request)
    try:
        if action == "dismiss":
            outcome = dismiss_questions(
                supervisor.brand_id, ids, request.POST.get("reason", ""), by=by
            )
            done = ngettext(
                "%(count)d question dismissed.", "%(count)d questions dismissed.", len(outcome.done)
            ) % {"count": len(outcome.done)}
        elif action == "assign":
            target = _target(supervisor, request.POST.get("to", ""))
            if target is None:
                raise TriageError("no_person", _("Choose the person to give the questions to."))
            outcome = assign_questions(supervisor.brand_id, ids, target.user, by=by)
            done = ngettext(
                "%(count)d question now goes to %(person)s.",
                "%(count)d questions now go to %(person)s.",
                len(outcome.done),
            ) % {"count": len(outcome.done), "person": person_name(target.user)}
        else:
            keep = parse_id(request.POST.get("keep", ""))
            outcome = merge_questions(supervisor.brand_id, ids, by=by, keep=keep)
            done = ngettext(
                "%(count)d duplicate merged into #%(kept)s.",
                "%(count)d duplicates merged into #%(kept)s.",
                len(outcome.done),
            ) % {"count": len(outcome.done), "kept": outcome.kept}
    except TriageError as error:
        return _refused(request, supervisor, ids, str(error))
    messages.success(request, done)
    _say_skipped(request, outcome)
    return redirect_back(request, reverse("desk:triage"))


def _say_skipped(request: HttpRequest, outcome: TriageOutcome) -> None:
    if outcome.skipped:
        messages.warning(
            request,
            ngettext(
                "%(count)d skipped: it was no longer waiting in the queue (claimed, dismissed "
                "or answered meanwhile).",
                "%(count)d skipped: they were no longer waiting in the queue (claimed, "
                "dismissed or answered meanwhile).",
                len(outcome.skipped),
            )
            % {"count": len(outcome.skipped)},
        )


def _target(supervisor: Volunteer, value: str) -> Volunteer | None:
    """The person of the brand the form names, if any."""
    to = parse_id(value)
    if to is None:
        return None
    return (
        Volunteer.objects.select_related("user")
        .filter(user_id=to, brand_id=supervisor.brand_id)
        .first()
    )


def _page(
    request: HttpRequest,
    supervisor: Volunteer,
    ticked: frozenset[int] = frozenset(),
    status: int = 200,
) -> HttpResponse:
    return render(request, "desk/triage.html", _context(request, supervisor, ticked), status=status)


def _refused(
    request: HttpRequest, supervisor: Volunteer, ids: list[int], message: str
) -> HttpResponse:
    """The page again, with what was ticked still ticked and the error; nothing changed."""
    messages.error(request, message)
    return _page(request, supervisor, frozenset(ids), status=400)
