"""Announcements on the channel layer, sent only after the transaction commits.

The database is the truth; an event only tells listeners to look again, so a failed send is
logged and never undoes or blocks the write that caused it (DESIGN invariant 7).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from helpdesk.sequence import next_sequence

log = logging.getLogger(__name__)


def brand_queue_group(brand_id: int) -> str:
    return f"queue.brand.{brand_id}"


def monitoring_group(brand_id: int) -> str:
    return f"monitor.brand.{brand_id}"


def announce(groups: list[str], kind: str, payload: dict[str, Any]) -> None:
    """Send ``kind`` with a plain-JSON ``payload`` to ``groups`` once the current
    transaction commits (at once when there is none)."""
    message = {"type": "desk.event", "kind": kind, "payload": payload}
    json.dumps(message)  # a payload that is not plain JSON fails here, in the caller

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group in groups:
            try:
                # Numbered per group, so a listener that sees a gap knows to reload.
                numbered = {**message, "seq": next_sequence(group)}
                async_to_sync(layer.group_send)(group, numbered)
            except Exception:
                log.warning("could not announce %s to %s", kind, group, exc_info=True)

    transaction.on_commit(send)
