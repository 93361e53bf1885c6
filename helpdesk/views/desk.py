"""HTTP entry points of the desk: health and the X webhook (the live queue is in
``helpdesk.views.inbox``)."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse, RawPostDataException
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.models import Source, XAccount
from helpdesk.x import webhook
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import RecordError, parse_v11_payload

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for anyone (``{"ok": ...}``, 200 or 503); each part's details (the database,
    the layers, every brand's care accounts and their errors) only for a superuser or with
    ``Authorization: Bearer <HELPFORCE_METRICS_TOKEN>``."""
    from helpdesk.health import health_report, may_read_health_details

    healthy, report = health_report()
    if not may_read_health_details(request):
        report = {"ok": healthy}
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

    try:
        body = request.body
    except RawPostDataException:
        # A multipart form: its stream was read as a form (FormTextMiddleware checks every
        # form), so there are no raw bytes to verify. X delivers JSON.
        return JsonResponse({"error": "unreadable payload: send JSON"}, status=400)
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
