"""Counting the gateway's calls for the X bill: which price category an endpoint is, how
many resources X returned or created, and the row that records it.

X's pay-per-use bills per resource: each post a read returns (an owned read of the account's
own mentions or posts, or a post read of a search or lookup), each post created (one whose
text has a URL costs more) and each post deleted. A failed call returns nothing and is
billed nothing, but it is counted (0 units): it still spent a request of the rate limit.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from charter.linter.text import url_entities
from helpdesk.models import PriceCategory, XAccount, XApiCall

log = logging.getLogger(__name__)

# Each endpoint the desk calls and what X bills it as. The desk reads only its own
# accounts' timelines (the care account's, or the linked volunteer's own posts).
ENDPOINT_CATEGORIES = {
    "GET /2/users/:id/mentions": PriceCategory.OWNED_READ,
    "GET /2/users/:id/tweets": PriceCategory.OWNED_READ,
    "GET /2/tweets/search/recent": PriceCategory.POST_READ,
    "GET /2/tweets/:id": PriceCategory.POST_READ,
    "GET /2/tweets": PriceCategory.POST_READ,
    "POST /2/tweets": PriceCategory.POST_CREATE,
    "DELETE /2/tweets/:id": PriceCategory.POST_DELETE,
}
# An id in a path, not the API version ("/2/users/12/mentions").
_ID_SEGMENT = re.compile(r"(?<!^)/\d+(?=/|$)")
MICROS = 1_000_000


def endpoint_of(method: str, url: str) -> str:
    """``GET /2/users/:id/mentions`` for ``GET https://api.twitter.com/2/users/12/mentions?...``."""
    path = urlsplit(url).path or "/"
    return f"{method.upper()} {_ID_SEGMENT.sub('/:id', path)}"


def has_url(text: str) -> bool:
    """Whether X sees a link in a post's text (twitter-text's extraction, as X's)."""
    return bool(url_entities(text))


def price_micros(category: str) -> int:
    """The price of one unit of ``category`` in micro-dollars (0 for unpriced calls)."""
    price = settings.X_PRICES.get(category)
    return int(price * MICROS) if price is not None else 0


def _json(raw: bytes | str | None) -> Any:
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _posted_text(request: requests.PreparedRequest) -> str:
    body = _json(request.body)
    text = body.get("text") if isinstance(body, dict) else None
    return text if isinstance(text, str) else ""


def measure(
    request: requests.PreparedRequest, response: requests.Response | None
) -> tuple[str, str, int]:
    """The call's endpoint, price category and billed units (posts returned, created or
    deleted; 0 when X answered with an error or not at all)."""
    endpoint = endpoint_of(request.method or "GET", request.url or "")
    category = ENDPOINT_CATEGORIES.get(endpoint, PriceCategory.UNPRICED)
    if category == PriceCategory.POST_CREATE and has_url(_posted_text(request)):
        category = PriceCategory.POST_CREATE_URL
    if response is None or not 200 <= response.status_code < 300:
        return endpoint, category, 0
    if category == PriceCategory.UNPRICED:
        return endpoint, category, 0
    payload = _json(response.content)
    data = payload.get("data") if isinstance(payload, dict) else None
    if category in (PriceCategory.OWNED_READ, PriceCategory.POST_READ):
        units = len(data) if isinstance(data, list) else int(isinstance(data, dict))
    elif category == PriceCategory.POST_DELETE:
        units = int(isinstance(data, dict) and data.get("deleted") is True)
    else:
        units = int(isinstance(data, dict) and bool(data.get("id")))
    return endpoint, category, units


def record_call(
    account: XAccount | None,
    request: requests.PreparedRequest,
    response: requests.Response | None,
    error: str = "",
) -> None:
    """Write the call's row. Never raises: a row that cannot be written is logged, and the
    X call goes on as if nothing happened.

    The gateway's billed calls run outside any transaction (polling fetches before a page's
    transaction, the sender posts between its claim and its mark), so the row commits at
    once and nothing the caller does afterwards can undo the fact of the call. Called inside
    a caller's transaction (today only the unbilled OAuth token refresh), it is written in
    a savepoint and shares that transaction's fate.
    """
    try:
        endpoint, category, units = measure(request, response)
        unit_price = price_micros(category)
        with transaction.atomic():
            XApiCall.objects.create(
                at=timezone.now(),
                brand_id=account.brand_id if account is not None else None,
                account=account,
                endpoint=endpoint[:80],
                category=category,
                units=units,
                unit_price_micros=unit_price,
                cost_micros=units * unit_price,
                status=response.status_code if response is not None else None,
                error=error[:200],
            )
    except Exception:
        log.exception("X call %s %s not counted", request.method, request.url)


def bill_found_post(account: XAccount, text: str, since: datetime) -> bool:
    """Count as billed the post X created although its answer never reached us (a timeout
    after X accepted it, found on X afterwards): the latest unanswered create of the
    account since ``since`` in the post's price category gets its unit and cost.

    The call row does not name its reply, so when two replies of one account both lost
    their answers the row taken may be the other's; it is priced the same unless only one
    of them has a link. Returns whether a row was found to bill; never raises (the reply is
    sent whatever the bill says).
    """
    try:
        return _bill_found_post(account, text, since)
    except Exception:
        log.exception("a post found on X for %s could not be billed", account)
        return False


def _bill_found_post(account: XAccount, text: str, since: datetime) -> bool:
    category = PriceCategory.POST_CREATE_URL if has_url(text) else PriceCategory.POST_CREATE
    with transaction.atomic():
        row = (
            XApiCall.objects.select_for_update()
            .filter(
                account=account,
                endpoint="POST /2/tweets",
                category=category,
                status__isnull=True,
                units=0,
                at__gte=since,
            )
            .order_by("-at", "-pk")
            .first()
        )
        if row is None:
            log.warning("a post found on X for %s has no unanswered call to bill", account)
            return False
        row.units = 1
        row.cost_micros = row.unit_price_micros
        row.save(update_fields=["units", "cost_micros"])
    return True
