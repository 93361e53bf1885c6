"""Supervisors' pages for the brand's saved replies: the list (filtered by topic, language and
status), creating, editing (with a check that shows the text as a volunteer would get it and
what the charter's rules say), archiving and restoring.

Supervisors and admins of the brand only (everyone else: 403); another brand's saved reply
answers 404. The forms check the shape of the input; ``helpdesk.saved_replies`` decides
(variables, the linter, the role) and writes the audit events.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from charter.linter import Finding
from helpdesk.forms.saved_replies import FilterForm, SavedReplyForm
from helpdesk.models import SavedReply, Volunteer
from helpdesk.saved_replies.actions import (
    SavedReplyError,
    SavedReplyFields,
    archive_saved_reply,
    create_saved_reply,
    restore_saved_reply,
    update_saved_reply,
)
from helpdesk.saved_replies.queries import saved_replies_of
from helpdesk.saved_replies.variables import (
    VARIABLES,
    fill_in,
    lint_body,
    sample_values,
    variable_errors,
)
from helpdesk.views.access import require_supervisor

SHOWN = 200


def _saved_reply_of(manager: Volunteer, pk: int) -> SavedReply:
    """The saved reply if it belongs to the manager's brand; any other looks absent."""
    return get_object_or_404(
        SavedReply.objects.select_related("topic"), pk=pk, brand_id=manager.brand_id
    )


# --- pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def saved_reply_list(request: HttpRequest) -> HttpResponse:
    manager = require_supervisor(request)
    filters = FilterForm(request.GET or None, brand_id=manager.brand_id)
    chosen: dict[str, str] = {"topic": "", "language": "", "status": "active"}
    if filters.is_bound and filters.is_valid():
        chosen.update({k: v for k, v in filters.cleaned_data.items() if v})
    found = saved_replies_of(manager.brand_id, **chosen)
    context = {
        "volunteer": manager,
        "filters": filters,
        "saved_replies": list(found[:SHOWN]),
        "total": found.count(),
        "shown": SHOWN,
    }
    return render(request, "desk/saved_replies.html", context)


def _form_page(
    request: HttpRequest,
    manager: Volunteer,
    form: SavedReplyForm,
    saved: SavedReply | None,
    *,
    status: int = 200,
    findings: tuple[Finding, ...] = (),
    preview: str | None = None,
) -> HttpResponse:
    context = {
        "volunteer": manager,
        "form": form,
        "saved": saved,
        "variables": list(VARIABLES.items()),
        "findings": findings,
        "preview": preview,
    }
    return render(request, "desk/saved_replies_form.html", context, status=status)


def _save(request: HttpRequest, manager: Volunteer, saved: SavedReply | None) -> HttpResponse:
    form = SavedReplyForm(request.POST, brand_id=manager.brand_id)
    if not form.is_valid():
        return _form_page(request, manager, form, saved, status=400)
    fields = form.saved_fields()
    if request.POST.get("action") == "check":
        return _check(request, manager, form, saved, fields)
    try:
        if saved is None:
            saved = create_saved_reply(manager, fields)
            messages.success(
                request, _("Saved reply “%(title)s” created.") % {"title": saved.title}
            )
        else:
            saved = update_saved_reply(manager, saved, fields)
            messages.success(request, _("Saved reply “%(title)s” saved.") % {"title": saved.title})
    except SavedReplyError as error:
        for name, problems in error.field_errors.items():
            for problem in problems:
                form.add_error(name if name in form.fields else None, problem)
        if not error.field_errors:
            form.add_error(None, error.message)
        return _form_page(request, manager, form, saved, status=400, findings=error.findings)
    return redirect("saved_replies:list")


def _check(
    request: HttpRequest,
    manager: Volunteer,
    form: SavedReplyForm,
    saved: SavedReply | None,
    fields: SavedReplyFields,
) -> HttpResponse:
    """The text as a volunteer would get it (sample values) and what the rules say; nothing
    is saved."""
    problems = variable_errors(fields.body)
    for problem in problems:
        form.add_error("body", problem)
    if problems:
        return _form_page(request, manager, form, saved, status=400)
    values = sample_values(manager.brand_id)
    result = lint_body(manager.brand_id, fields.body, fields.language)
    preview = fill_in(fields.body, values).text
    return _form_page(request, manager, form, saved, findings=result.findings, preview=preview)


@login_required
@require_http_methods(["GET", "POST"])
def saved_reply_create(request: HttpRequest) -> HttpResponse:
    manager = require_supervisor(request)
    if request.method == "POST":
        return _save(request, manager, None)
    return _form_page(request, manager, SavedReplyForm(brand_id=manager.brand_id), None)


@login_required
@require_http_methods(["GET", "POST"])
def saved_reply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    manager = require_supervisor(request)
    saved = _saved_reply_of(manager, pk)
    if request.method == "POST":
        return _save(request, manager, saved)
    form = SavedReplyForm(
        initial={
            "title": saved.title,
            "topic": saved.topic_id,
            "language": saved.language,
            "body": saved.body,
        },
        brand_id=manager.brand_id,
    )
    return _form_page(request, manager, form, saved)


@login_required
@require_POST
def saved_reply_archive(request: HttpRequest, pk: int) -> HttpResponse:
    manager = require_supervisor(request)
    saved = archive_saved_reply(manager, _saved_reply_of(manager, pk))
    messages.success(
        request,
        _("“%(title)s” is archived: volunteers no longer see it.") % {"title": saved.title},
    )
    return redirect("saved_replies:list")


@login_required
@require_POST
def saved_reply_restore(request: HttpRequest, pk: int) -> HttpResponse:
    manager = require_supervisor(request)
    saved = _saved_reply_of(manager, pk)
    try:
        restore_saved_reply(manager, saved)
    except SavedReplyError as error:
        details = [problem for problems in error.field_errors.values() for problem in problems]
        messages.error(request, " ".join([error.message, *details]))
    else:
        messages.success(
            request, _("“%(title)s” is back in the composers.") % {"title": saved.title}
        )
    return redirect("saved_replies:list")


app_name = "saved_replies"
urlpatterns = [
    path("", saved_reply_list, name="list"),
    path("new/", saved_reply_create, name="create"),
    path("<int:pk>/edit/", saved_reply_edit, name="edit"),
    path("<int:pk>/archive/", saved_reply_archive, name="archive"),
    path("<int:pk>/restore/", saved_reply_restore, name="restore"),
]
