"""Announcements on the channel layer, sent only after the transaction commits.

The database is the truth; an event only tells listeners to look again, so a failed send is
logged and never undoes or blocks the write that caused it (DESIGN invariant 7).

Announcements go through the ``EVENTS_LAYER`` channel layer. With ``REDIS_URL`` that is
channels-redis's pub/sub layer: one Redis ``PUBLISH`` per event and group, received once by
each ASGI process, which hands it to its own sockets in the group. Delivery is at most once
(nothing is queued for a process that is not listening), which is what an announcement
needs: every event carries its group's sequence number, and a listener that sees a gap
reloads from the database.

Each event is encoded once, here: the message carries the finished websocket frame
(``frame``, JSON text) so that a process with hundreds of sockets in the group only copies
it to each of them. On channels-redis's pub/sub layer an event is numbered and published in
one step on Redis (``helpdesk.sequence.publish_numbered``), so every process hears a
group's events in the order of their numbers, whichever processes sent them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from helpdesk.sequence import next_sequence, publish_numbered, publish_numbered_on_loop

log = logging.getLogger(__name__)

# The channel-layer alias for announcements (settings.CHANNEL_LAYERS); the live queue's
# consumer listens on it too.
EVENTS_LAYER = "events"


def brand_queue_group(brand_id: int) -> str:
    return f"queue.brand.{brand_id}"


def monitoring_group(brand_id: int) -> str:
    return f"monitor.brand.{brand_id}"


def person_group(user_id: int) -> str:
    """Every open socket of one person, whatever page it serves."""
    return f"person.{user_id}"


def recheck_sockets_of(user_id: int) -> None:
    """Once the current transaction commits, have every open socket of the person check
    the session, the role and the gate again, and close itself if they no longer hold (a
    suspension, a sign-out, a changed role): it would otherwise hear the brand's events until
    the person next sends something."""

    def send() -> None:
        layer = get_channel_layer(EVENTS_LAYER)
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(person_group(user_id), {"type": "desk.recheck"})
        except Exception:
            log.warning("could not ask the sockets of user %s to recheck", user_id, exc_info=True)

    transaction.on_commit(send)


def event_frame(message: dict[str, Any]) -> dict[str, Any]:
    """What a page receives for a channel-layer ``desk.event`` message: ``kind`` as a
    string, ``seq`` an integer or None, ``payload`` an object (empty when it is not one)."""
    seq = message.get("seq")
    payload = message.get("payload")
    if seq is None and isinstance(payload, dict):
        seq = payload.get("seq")
    return {
        "type": "event",
        "kind": str(message.get("kind", "")),
        "seq": seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        "payload": payload if isinstance(payload, dict) else {},
    }


def frame_of(message: dict[str, Any]) -> str:
    """The websocket frame of a channel-layer ``desk.event`` message: the one announce()
    encoded, or (from a sender that did not encode it) :func:`event_frame`'s."""
    frame = message.get("frame")
    return frame if isinstance(frame, str) else json.dumps(event_frame(message))


def numbered_message(group: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for the next event of ``group``: numbered, with its
    websocket frame encoded once."""
    message: dict[str, Any] = {
        "type": "desk.event",
        "kind": kind,
        "payload": payload,
        # Numbered per group, so a listener that sees a gap knows to reload.
        "seq": next_sequence(group),
    }
    message["frame"] = json.dumps(event_frame(message))
    return message


PUBSUB_LAYER = "channels_redis.pubsub.RedisPubSubChannelLayer"


def pubsub_channels(groups: list[str]) -> dict[str, str] | None:
    """Each group's channel on Redis, when the events layer is channels-redis's pub/sub
    layer on ``REDIS_URL`` alone with its plain msgpack messages (the wire format
    ``publish_numbered`` writes); None for any other layer."""
    layer: dict[str, Any] = settings.CHANNEL_LAYERS.get(EVENTS_LAYER, {})
    config: dict[str, Any] = layer.get("CONFIG", {})
    if (
        layer.get("BACKEND") != PUBSUB_LAYER
        or not settings.REDIS_URL
        or config.get("hosts") != [settings.REDIS_URL]
        or config.get("symmetric_encryption_keys")
        or config.get("serializer_format", "msgpack") != "msgpack"
    ):
        return None
    prefix = config.get("prefix", "asgi")
    # channels_redis.pubsub.RedisPubSubLoopLayer._get_group_channel_name
    return {group: f"{prefix}__group__{group}" for group in groups}


def frame_around_seq(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    """``json.dumps(event_frame(...))`` of the event, cut where its number goes."""
    head = json.dumps({"type": "event", "kind": kind})
    return head[:-1] + ', "seq": ', ', "payload": ' + json.dumps(payload) + "}"


def announce(groups: list[str], kind: str, payload: dict[str, Any]) -> None:
    """Send ``kind`` with a plain-JSON ``payload`` to ``groups`` once the current
    transaction commits (at once when there is none)."""
    json.dumps({"kind": kind, "payload": payload})  # not plain JSON: fails here, in the caller

    def send() -> None:
        layer = get_channel_layer(EVENTS_LAYER)
        if layer is None:
            return
        channels = pubsub_channels(groups)
        if channels is not None:
            try:
                publish_numbered(channels, kind, payload, frame_around_seq(kind, payload))
            except Exception:
                log.warning("could not announce %s", kind, exc_info=True)
            return
        messages: list[tuple[str, dict[str, Any]]] = []
        for group in groups:
            try:
                messages.append((group, numbered_message(group, kind, payload)))
            except Exception:
                log.warning("could not number %s for %s", kind, group, exc_info=True)
        if not messages:
            return
        try:
            # One event loop (and so one Redis connection) for all the groups of the event.
            async_to_sync(_send_all)(layer, kind, messages)
        except Exception:
            log.warning("could not announce %s", kind, exc_info=True)

    transaction.on_commit(send)


async def announce_on_loop(groups: list[str], kind: str, payload: dict[str, Any]) -> None:
    """:func:`announce` from an event loop that ``helpdesk.on_loop`` joined, for a write
    already committed (the claim's statement, in autocommit): numbered and published from
    the loop on channels-redis's pub/sub layer; any other layer through :func:`announce`,
    in a worker thread."""
    from helpdesk import on_loop

    json.dumps({"kind": kind, "payload": payload})  # not plain JSON: fails here, in the caller
    channels = pubsub_channels(groups) if get_channel_layer(EVENTS_LAYER) is not None else None
    if channels is None or not on_loop.has_redis():
        await sync_to_async(announce, thread_sensitive=False)(groups, kind, payload)
        return
    try:
        await publish_numbered_on_loop(channels, kind, payload, frame_around_seq(kind, payload))
    except Exception:
        log.warning("could not announce %s", kind, exc_info=True)


async def _send_all(layer: Any, kind: str, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in messages:
        try:
            await layer.group_send(group, message)
        except Exception:
            log.warning("could not announce %s to %s", kind, group, exc_info=True)
