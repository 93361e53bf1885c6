"""How a desk page gets at the person asking and at the objects they may act on.

The one way views reach a question or a reply: through the requester's brand, so another
brand's object answers 404 as if it were not there (denied looks like not found). A page
the role never sees answers 403 (``helpdesk.permissions.require_role``).
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from helpdesk.models import Question, Reply, Tag, Volunteer
from helpdesk.permissions import (
    DESK_ROLES,
    SUPERVISING_ROLES,
    in_supervised_stores,
    require_role,
)
from routing.eligibility import OPEN_CLAIM_STATES


def signed_in_user(request: HttpRequest) -> User:
    """The requester's account; for views behind ``login_required``, which ran first."""
    user = request.user
    assert isinstance(user, User)
    return user


def require_member(request: HttpRequest) -> Volunteer:
    """The requester's desk record if they work the desk (volunteer, supervisor, admin)."""
    return require_role(request, DESK_ROLES)


def require_supervisor(request: HttpRequest) -> Volunteer:
    """The requester's desk record if they supervise (supervisor, admin)."""
    return require_role(request, SUPERVISING_ROLES)


def question_of(volunteer: Volunteer, pk: int) -> Question:
    """The question if it belongs to the person's brand; any other looks like it is not
    there."""
    return get_object_or_404(
        Question.objects.select_related("customer", "account", "claimed_by__volunteer", "group"),
        pk=pk,
        brand_id=volunteer.brand_id,
    )


def reply_of(supervisor: Volunteer, pk: int) -> Reply:
    """The reply if its question belongs to the supervisor's brand and it is of a store they
    supervise (the brand's supervision scope); any other looks like it is not there."""
    return get_object_or_404(
        Reply.objects.filter(in_supervised_stores(supervisor)),
        pk=pk,
        question__brand_id=supervisor.brand_id,
    )


def tag_of(volunteer: Volunteer, pk: int) -> Tag:
    """The tag if it is the person's brand's; any other looks like it is not there."""
    return get_object_or_404(Tag, pk=pk, brand_id=volunteer.brand_id)


def holds_claim(question: Question, user: User) -> bool:
    """Whether ``user`` holds a live claim on ``question`` (a lapsed lease holds nothing)."""
    lapsed = question.lease_expires_at is not None and question.lease_expires_at <= timezone.now()
    return question.claimed_by_id == user.pk and question.state in OPEN_CLAIM_STATES and not lapsed


def from_inbox(request: HttpRequest) -> bool:
    """Whether a desk form was sent from the inbox's right pane (``inbox=1``), which wants
    the inbox back rather than the question's own page."""
    return request.POST.get("inbox") == "1"


def redirect_back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """To the form's ``next`` if it is a page of this site, else to ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(fallback)
