"""HTTP entry points of the desk: health, the X webhook, and the live queue."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse, RawPostDataException
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.forms.queue import QueueFilterForm
from helpdesk.models import Source, Store, XAccount
from helpdesk.queries import QueueFilters, queue_page_for
from helpdesk.views.access import require_member
from helpdesk.x import webhook
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import RecordError, parse_v11_payload
from routing.crisis import crises_of
from routing.models import Topic

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


def _queue_url(filters: QueueFilters, **changes: Any) -> str:
    params: dict[str, Any] = {
        "topic": filters.topic,
        "lang": filters.lang,
        "store": filters.store,
        "priority": filters.priority,
    }
    params.update(changes)
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse("helpdesk:queue") + (f"?{query}" if query else "")


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The live queue: what this person may take (supervisors: the whole brand's), filtered,
    counted per topic, 50 at a time."""
    volunteer = require_member(request)
    assert isinstance(request.user, User)
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
    form = QueueFilterForm(request.GET or None, topics=topics, stores=stores)
    filters, after, ignored = form.chosen() if form.is_bound else (QueueFilters(), None, [])
    page = queue_page_for(volunteer, request.user, filters, after=after)
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
    context = {
        "volunteer": volunteer,
        "crises": crises,
        # Rows under crisis mode are marked (a trainee on shift is not offered them at all).
        "crisis_whole_brand": any(crisis.topic_id is None for crisis in crises),
        "crisis_topic_ids": [crisis.topic_id for crisis in crises if crisis.topic_id],
        "form": form,
        "ignored": ignored,
        "page": page,
        "questions": page.questions,
        "total": page.total,
        "topic_counts": topic_counts,
        "older_url": _queue_url(filters, after=page.next_cursor.encode())
        if page.next_cursor is not None
        else "",
        "newest_url": _queue_url(filters) if after is not None else "",
        "poll_url": request.get_full_path(),
        "ping_ms": int(settings.QUEUE_PING_SECONDS * 1000),
    }
    template = "helpdesk/_queue_rows.html" if request.headers.get("HX-Request") else None
    return render(request, template or "helpdesk/queue.html", context)
