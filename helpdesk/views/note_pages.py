"""Internal notes and tags on a question, written from its page or from the inbox's pane.

The question's desk members (volunteers of any standing, supervisors, admins) write them;
agency staff never see them (403); another brand's question or tag answers 404. Each form
is a plain POST that comes back to the page it was sent from, or, from the inbox with htmx,
answers with the pane. A refused note or tag comes back with its error and the text as
written (400). Note text is rendered with auto-escaping only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from helpdesk.models import Question, Volunteer
from helpdesk.notes.actions import NoteError, add_note, tag_question, untag_question
from helpdesk.views.access import (
    from_inbox,
    question_of,
    redirect_back,
    require_member,
    signed_in_user,
    tag_of,
)
from helpdesk.views.inbox import render_inbox
from helpdesk.views.question_pages import question_context


def _done(
    request: HttpRequest, volunteer: Volunteer, user: User, question: Question
) -> HttpResponse:
    """After a write: the pane in place for htmx in the inbox; else back to the inbox or
    the question's page (a form's ``next`` of this site first)."""
    if from_inbox(request) and request.headers.get("HX-Request"):
        return render_inbox(request, volunteer, user, question)
    if from_inbox(request):
        return redirect_back(request, reverse("helpdesk:inbox-question", args=[question.pk]))
    return redirect_back(request, reverse("desk:question", args=[question.pk]))


def _refused(
    request: HttpRequest,
    volunteer: Volunteer,
    user: User,
    question: Question,
    form: dict[str, str],
) -> HttpResponse:
    """The page or the pane again with the refused form (``notes_context``'s arguments)."""
    if from_inbox(request):
        return render_inbox(request, volunteer, user, question, notes_form=form, status=400)
    context = question_context(volunteer, user, question, form)
    return render(request, "desk/question.html", context, status=400)


@login_required
@require_POST
def note(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave a note (``text``) on the question for colleagues and supervisors."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    text = request.POST.get("text", "")
    try:
        add_note(question, by=user, text=text)
    except NoteError as error:
        return _refused(
            request, volunteer, user, question, {"note_text": text, "note_error": error.message}
        )
    messages.success(request, _("Your note is on the question."))
    return _done(request, volunteer, user, question)


@login_required
@require_POST
def tag(request: HttpRequest, pk: int) -> HttpResponse:
    """Put a tag (``name``, the brand's or a new one) on the question."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    name = request.POST.get("name", "")
    try:
        added, is_new = tag_question(question, name, by=user)
    except NoteError as error:
        return _refused(
            request, volunteer, user, question, {"tag_text": name, "tag_error": error.message}
        )
    if is_new:
        messages.success(request, _("Tagged “%(tag)s”.") % {"tag": added.name})
    else:
        messages.info(
            request, _("The question already has the tag “%(tag)s”.") % {"tag": added.name}
        )
    return _done(request, volunteer, user, question)


@login_required
@require_POST
def untag(request: HttpRequest, pk: int, tag_pk: int) -> HttpResponse:
    """Take one of the brand's tags off the question."""
    volunteer = require_member(request)
    user = signed_in_user(request)
    question = question_of(volunteer, pk)
    removed = tag_of(volunteer, tag_pk)
    if untag_question(question, removed, by=user):
        messages.success(
            request, _("The tag “%(tag)s” is off the question.") % {"tag": removed.name}
        )
    else:
        messages.info(
            request, _("The question did not have the tag “%(tag)s”.") % {"tag": removed.name}
        )
    return _done(request, volunteer, user, question)
