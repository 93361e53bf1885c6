"""Event sequence numbers, one counter per channel-layer group.

Every event announced to a group gets the group's next number, so a listener that sees a gap
(or reconnects) knows it missed something and reloads from the database (DESIGN invariant 7).
The counter is per group, not per brand: an event sent only to the monitoring group must not
look like a gap to the queue's listeners.

With ``REDIS_URL`` the counters live in Redis (``INCR``), shared by every ASGI and Celery
process. A counter Redis does not have (a new group, or a Redis restarted or flushed) starts
from the clock, in microseconds: higher than any number the lost counter handed out, so a
listener that was following it sees a gap after the restart and reloads, instead of numbers
starting again at 1 that could look like the next ones. Without Redis (the embedded mode:
one process, the in-memory channel layer) they are in-process counters behind a lock that
start at 0; ``current_sequence`` is 0 before the first event.
"""

from __future__ import annotations

import threading
import time
from functools import cache
from typing import Any

from django.conf import settings

KEY_PREFIX = "helpforce:seq:"

_lock = threading.Lock()
_counters: dict[str, int] = {}


@cache
def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _client() -> Any:
    url = settings.REDIS_URL
    return _redis(url) if url else None


# One round trip: the counter, started from the clock if Redis does not have it, then
# incremented (ARGV[2] = 1) or read (ARGV[2] = 0).
_COUNTER = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
if ARGV[2] == '1' then return redis.call('INCR', KEYS[1]) end
return tonumber(redis.call('GET', KEYS[1]))
"""


@cache
def _script(url: str) -> Any:
    return _redis(url).register_script(_COUNTER)


def _counter(group: str, *, increment: bool) -> int:
    start = int(time.time() * 1_000_000)  # below 2**53: exact in JavaScript too
    script = _script(settings.REDIS_URL)
    return int(script(keys=[KEY_PREFIX + group], args=[start, 1 if increment else 0]))


def next_sequence(group: str) -> int:
    """The next number for an event sent to ``group`` (strictly increasing)."""
    client = _client()
    if client is not None:
        return _counter(group, increment=True)
    with _lock:
        _counters[group] = _counters.get(group, 0) + 1
        return _counters[group]


def current_sequence(group: str) -> int:
    """The number of the last event sent to ``group`` (0 when none was)."""
    client = _client()
    if client is not None:
        return _counter(group, increment=False)
    with _lock:
        return _counters.get(group, 0)


# One round trip per event, for all its groups: each group's number taken and its message
# published in the same script, which Redis runs alone, so publishes reach every subscriber
# in the order of their numbers. Numbering first and publishing after, in two steps, let two
# processes' events cross between the steps, and every socket of the group saw a gap.
#
# The message is channels-redis's wire format (a msgpack map, as ``channels_redis.pubsub``
# serialises it): ARGV[2] holds the map's header and its ``type``, ``kind`` and ``payload``
# entries, packed by msgpack in Python; the script adds ``seq`` and ``frame``, the websocket
# frame with the number spliced between ARGV[3] and ARGV[4]. ARGV[4 + i] is the pub/sub
# channel of KEYS[i]'s group.
_PUBLISH = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call('SET', KEYS[i], ARGV[1]) end
  local seq = redis.call('INCR', KEYS[i])
  local frame = ARGV[3] .. string.format('%d', seq) .. ARGV[4]
  redis.call('PUBLISH', ARGV[4 + i], ARGV[2] .. cmsgpack.pack('seq') .. cmsgpack.pack(seq)
    .. cmsgpack.pack('frame') .. cmsgpack.pack(frame))
end
return #KEYS
"""


@cache
def _publish_script(url: str) -> Any:
    return _redis(url).register_script(_PUBLISH)


def publish_numbered(
    channels: dict[str, str], kind: str, payload: dict[str, Any], frame_around_seq: tuple[str, str]
) -> None:
    """Number and publish one event to each group of ``channels`` (group → its pub/sub
    channel) in one step on Redis. The frame is ``frame_around_seq[0]``, the number, then
    ``frame_around_seq[1]``. Only with ``REDIS_URL``."""
    keys, args = publish_arguments(channels, kind, payload, frame_around_seq)
    _publish_script(settings.REDIS_URL)(keys=keys, args=args)


async def publish_numbered_on_loop(
    channels: dict[str, str], kind: str, payload: dict[str, Any], frame_around_seq: tuple[str, str]
) -> None:
    """:func:`publish_numbered` from an event loop that ``helpdesk.on_loop`` joined."""
    from helpdesk import on_loop

    keys, args = publish_arguments(channels, kind, payload, frame_around_seq)
    await on_loop.run_script(_PUBLISH, keys, args)


def publish_arguments(
    channels: dict[str, str], kind: str, payload: dict[str, Any], frame_around_seq: tuple[str, str]
) -> tuple[list[str], list[Any]]:
    """The publishing script's keys and arguments for one event."""
    import msgpack

    head = b"\x85" + b"".join(
        msgpack.packb(part) for part in ("type", "desk.event", "kind", kind, "payload", payload)
    )
    groups = list(channels)
    start = int(time.time() * 1_000_000)
    return (
        [KEY_PREFIX + group for group in groups],
        [start, head, *frame_around_seq, *(channels[group] for group in groups)],
    )
