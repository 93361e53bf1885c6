"""HTTP entry points of the desk: health, the X webhook, and the (plain, for now) queue."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.models import Source, XAccount
from helpdesk.permissions import DESK_ROLES, require_role
from helpdesk.queries import queued_questions_for
from helpdesk.x import webhook
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import RecordError, parse_v11_payload

log = logging.getLogger(__name__)

QUEUE_PAGE_SIZE = 200


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    from helpdesk.health import health_report

    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def x_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.X_CONSUMER_SECRET
    if not secret:
        return JsonResponse({"error": "the webhook is not configured"}, status=503)
    if request.method == "GET":
        crc_token = request.GET.get("crc_token", "")
        if not crc_token:
            return JsonResponse({"error": "crc_token is required"}, status=400)
        return JsonResponse({"response_token": webhook.crc_response_token(secret, crc_token)})

    body = request.body
    signature = request.headers.get("x-twitter-webhooks-signature")
    if not webhook.is_signature_valid(secret, body, signature):
        log.warning("webhook delivery refused: bad or missing signature")
        return JsonResponse({"error": "bad or missing signature"}, status=403)
    try:
        for_user_id, batch = parse_v11_payload(json.loads(body))
    except (ValueError, RecordError, RecursionError) as error:
        return JsonResponse({"error": f"unreadable payload: {error}"}, status=400)
    account = (
        XAccount.objects.select_related("brand").filter(x_user_id=for_user_id).first()
        if for_user_id
        else None
    )
    if account is None:
        # Answer 200 so X does not redeliver something we can never place; say why.
        log.warning("webhook delivery for unknown account %s ignored", for_user_id)
        return JsonResponse({"ignored": "unknown for_user_id", "for_user_id": for_user_id})
    result = ingest_batch(
        account.brand,
        batch,
        source=Source.WEBHOOK,
        account=account,
        actor_label="system:webhook",
    )
    return JsonResponse(
        {
            "new": result.new,
            "duplicate": result.duplicate,
            "skipped": result.skipped,
            "rejected": [{"position": r.position, "reason": r.reason} for r in result.rejected],
        }
    )


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    volunteer = require_role(request, DESK_ROLES)
    questions = queued_questions_for(volunteer)
    context = {
        "volunteer": volunteer,
        "questions": questions[:QUEUE_PAGE_SIZE],
        "total": questions.count(),
    }
    template = "helpdesk/_queue_rows.html" if request.headers.get("HX-Request") else None
    return render(request, template or "helpdesk/queue.html", context)
