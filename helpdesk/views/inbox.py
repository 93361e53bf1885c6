"""The inbox: the live queue as compact rows on the left and, on the right, the question
picked from it with the customer's context, its claim and the composer, so that a question
is answered without leaving the page.

``/queue/`` is the inbox with nothing picked; ``/queue/<pk>/`` with that question open. Both
are whole pages that work without JavaScript; htmx asks for parts of them: the rows
(``HX-Request``, polling and live reloads) or the right pane (``HX-Target: pane``). The
actions themselves stay with the question's and the composer's views, which check the role,
the brand and the claim as they do for their own pages and answer with the pane when the
form came from here (``inbox=1``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from helpdesk.forms.queue import QueueFilterForm
from helpdesk.models import Question, Store, Volunteer
from helpdesk.notes.queries import brand_tags
from helpdesk.queries import QueueFilters, queue_page_for, queued_questions_for
from helpdesk.views.access import question_of, require_member, signed_in_user
from helpdesk.views.composer import composer_context, default_draft, saved_choices
from helpdesk.views.question_pages import question_context
from routing.crisis import crises_of
from routing.models import Topic

FILTERS = ("topic", "lang", "store", "priority", "tag")
TITLE_WORDS_MAX = 40
# The @handles a reply thread starts with (ours among them) say nothing about the question.
LEADING_MENTIONS = re.compile(r"^(?:\s*@\w+)+")


def inbox_title(question: Question | None) -> str:
    """The tab's title for the inbox before the site's name: the queue's, or with a question
    open, its customer's handle and the question's first words, so that a person with many
    tabs finds the one they were answering. Plain text: the template escapes it."""
    queue = gettext("Queue")
    if question is None:
        return queue
    who = f"@{question.customer.username}" if question.customer else gettext("unknown author")
    gist = " ".join(LEADING_MENTIONS.sub("", question.text).split())
    if len(gist) > TITLE_WORDS_MAX:
        gist = gist[: TITLE_WORDS_MAX - 1].rstrip() + "…"
    return f"{who} — {gist} · {queue}" if gist else f"{who} · {queue}"


def _queue_url(filters: QueueFilters, **changes: Any) -> str:
    params: dict[str, Any] = {
        "topic": filters.topic,
        "lang": filters.lang,
        "store": filters.store,
        "priority": filters.priority,
        "tag": filters.tag,
    }
    params.update(changes)
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse("helpdesk:queue") + (f"?{query}" if query else "")


def _filter_query(request: HttpRequest) -> str:
    """The request's filters (not its place in the queue), to carry from row to pane."""
    kept = {name: request.GET[name] for name in FILTERS if request.GET.get(name)}
    return f"?{urlencode(kept)}" if kept else ""


def _list_path(request: HttpRequest) -> str:
    """The list's own address with the request's query (filters and place), for polling."""
    query = request.GET.urlencode()
    return reverse("helpdesk:queue") + (f"?{query}" if query else "")


def queue_context(request: HttpRequest, volunteer: Volunteer, user: User) -> dict[str, Any]:
    """The left side: what this person may take (supervisors: the whole brand's),
    filtered by topic, language, store, priority and tag (lists of what exists), counted per
    topic, 50 at a time."""
    topics = list(
        Topic.objects.filter(brand_id=volunteer.brand_id)
        .order_by("name", "pk")
        .values_list("pk", "slug", "name")
    )
    stores = list(
        Store.objects.filter(brand_id=volunteer.brand_id)
        .order_by("code", "pk")
        .values_list("pk", "code", "name")
    )
    languages = list(
        queued_questions_for(volunteer).order_by().values_list("lang", flat=True).distinct()
    )
    tags = list(brand_tags(volunteer.brand_id).values_list("pk", "name"))
    form = QueueFilterForm(
        request.GET or None, topics=topics, stores=stores, languages=languages, tags=tags
    )
    filters, after, ignored = form.chosen() if form.is_bound else (QueueFilters(), None, [])
    page = queue_page_for(volunteer, user, filters, after=after)
    names = {pk: (slug, name) for pk, slug, name in topics}
    topic_counts = [
        {
            "name": names[count.topic_id][1] if count.topic_id in names else "",
            "n": count.n,
            "url": _queue_url(filters, topic=names[count.topic_id][0])
            if count.topic_id in names
            else "",
            "current": count.topic_id in names and names[count.topic_id][0] == filters.topic,
        }
        for count in sorted(
            page.topic_counts,
            key=lambda c: (c.topic_id not in names, names.get(c.topic_id or 0, ("", ""))[1]),
        )
    ]
    crises = crises_of(volunteer.brand_id)
    list_url = _queue_url(filters)
    return {
        "volunteer": volunteer,
        "crises": crises,
        # Rows under crisis mode are marked (a trainee on shift is not offered them at all).
        "crisis_whole_brand": any(crisis.topic_id is None for crisis in crises),
        "crisis_topic_ids": [crisis.topic_id for crisis in crises if crisis.topic_id],
        "form": form,
        "has_tags": bool(tags),
        "ignored": ignored,
        "page": page,
        "questions": page.questions,
        "total": page.total,
        "topic_counts": topic_counts,
        "older_url": _queue_url(filters, after=page.next_cursor.encode())
        if page.next_cursor is not None
        else "",
        "newest_url": list_url if after is not None else "",
        "poll_url": _list_path(request),
        "list_url": list_url,
        "row_query": _filter_query(request),
        "ping_ms": int(settings.QUEUE_PING_SECONDS * 1000),
    }


def _wants_pane(request: HttpRequest) -> bool:
    """htmx asking for the right pane alone (not restoring a page from history, which
    needs all of it)."""
    return request.headers.get("HX-Target") == "pane" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_inbox(
    request: HttpRequest,
    volunteer: Volunteer,
    user: User,
    question: Question | None,
    *,
    composer: dict[str, Any] | None = None,
    just_sent: bool = False,
    notes_form: Mapping[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The inbox with ``question`` open (the whole page, or the pane alone for htmx). The
    holder of its claim gets the composer, started from ``composer`` if given (a draft
    sent back with errors or checked), else from the default draft. The caller checked
    the person's role and got ``question`` through ``question_of``. ``notes_form``: a refused
    note or tag sent back with its error (``question_context``'s)."""
    context: dict[str, Any] = {"volunteer": volunteer, "question": None, "in_inbox": True}
    if question is not None:
        context.update(question_context(volunteer, user, question, notes_form))
        if context["is_holder"]:
            context.update(
                composer
                or composer_context(
                    question,
                    user,
                    volunteer,
                    text=default_draft(question, volunteer),
                    choices=saved_choices(question, volunteer),
                )
            )
    context["just_sent"] = just_sent
    context["list_url"] = reverse("helpdesk:queue") + _filter_query(request)
    # The whole page's <title>; the pane carries it too, for queue.js to follow the swaps.
    context["page_title"] = inbox_title(question)
    if _wants_pane(request):
        response = render(request, "helpdesk/_pane.html", context, status=status)
        if question is not None and request.method == "POST":
            # The composer answered in place: the address is the question's in the inbox.
            response["HX-Replace-Url"] = reverse(
                "helpdesk:inbox-question", args=[question.pk]
            ) + _filter_query(request)
        return response
    context.update(queue_context(request, volunteer, user))
    return render(request, "helpdesk/queue.html", context, status=status)


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The inbox with nothing open; for htmx, its rows or its empty pane."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    if (
        request.headers.get("HX-Request")
        and request.headers.get("HX-Target") != "pane"
        and not request.headers.get("HX-History-Restore-Request")
    ):
        return render(request, "helpdesk/_queue_rows.html", queue_context(request, volunteer, user))
    return render_inbox(request, volunteer, user, None)


@login_required
@require_GET
def inbox_question(request: HttpRequest, pk: int) -> HttpResponse:
    """The inbox with one of the brand's questions open; another brand's answers 404."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    return render_inbox(request, volunteer, user, question)
