"""The weekly e-mail's links: unsubscribe without logging in (the link is signed), in one
click from the mail client (RFC 8058) or by confirming on a page; and a logged-in person's
own switch."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.reports.access import WEEKLY_EMAIL_ROLES, report_reader_or_refuse
from helpdesk.reports.emails import set_subscription, user_of_token


@csrf_exempt  # the signed link is the proof; a mail client's one-click POST has no token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    user = user_of_token(token)
    if user is None:
        return render(request, "reports/unsubscribe.html", {"bad": True}, status=400)
    if request.method == "POST":
        set_subscription(user, False)
        return render(request, "reports/unsubscribe.html", {"done": True, "who": user})
    return render(request, "reports/unsubscribe.html", {"who": user, "token": token})


@login_required
@require_POST
def subscription(request: HttpRequest) -> HttpResponse:
    """Turn one's own weekly e-mail on or off (from the reports page)."""
    assert isinstance(request.user, User)
    reader = report_reader_or_refuse(request.user)
    if reader.role not in WEEKLY_EMAIL_ROLES:
        raise PermissionDenied(_("The weekly report by e-mail is for the agency's staff."))
    set_subscription(request.user, request.POST.get("weekly") == "on")
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if target and safe:
        # Not redirect(): it would try a bare word ("NaN") as a view's name and fail.
        return HttpResponseRedirect(target)
    return redirect("reports:index")


urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("subscription/", subscription, name="subscription"),
]
