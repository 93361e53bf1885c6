"""API tokens: made on this page and shown once, stored only as a hash, revoked here."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.reports.access import api_reader
from helpdesk.reports.api.authentication import make_token
from helpdesk.reports.forms import TokenForm
from helpdesk.reports.models import ApiToken

MAX_ACTIVE_TOKENS = 20


def _reader(request: HttpRequest) -> User:
    if api_reader(request.user) is None:
        raise PermissionDenied(_("The reporting API is for the agency's staff and administrators."))
    assert isinstance(request.user, User)
    return request.user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The person's tokens; a POST makes one and shows it, once."""
    user = _reader(request)
    form = TokenForm(request.POST if request.method == "POST" else None)
    made = ""
    if request.method == "POST" and form.is_valid():
        if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_TOKENS:
            form.add_error(
                None, _("Revoke a token first: you have %(n)d.") % {"n": MAX_ACTIVE_TOKENS}
            )
        else:
            _row, made = make_token(user, form.cleaned_data["name"])
            form = TokenForm()
    context = {
        "form": form,
        "made": made,
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
    }
    return render(request, "reports/tokens.html", context, status=200 if not form.errors else 400)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reader(request)
    token = ApiToken.objects.filter(pk=pk, user=user).first()
    if token is None:
        raise Http404
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    return redirect("reports:tokens")


urlpatterns = [
    path("", tokens, name="tokens"),
    path("<int:pk>/revoke", revoke, name="token-revoke"),
]
