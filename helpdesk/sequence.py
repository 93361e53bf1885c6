"""Event sequence numbers, one counter per channel-layer group.

Every event announced to a group gets the group's next number, so a listener that sees a gap
(or reconnects) knows it missed something and reloads from the database (DESIGN invariant 7).
The counter is per group, not per brand: an event sent only to the monitoring group must not
look like a gap to the queue's listeners.

With ``REDIS_URL`` the counters live in Redis (``INCR``), shared by every ASGI and Celery
process. Without it (the embedded mode: one process, the in-memory channel layer) they are
in-process counters behind a lock. Numbers start at 1; ``current_sequence`` is 0 before the
first event.
"""

from __future__ import annotations

import threading
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


def next_sequence(group: str) -> int:
    """The next number for an event sent to ``group`` (strictly increasing)."""
    client = _client()
    if client is not None:
        return int(client.incr(KEY_PREFIX + group))
    with _lock:
        _counters[group] = _counters.get(group, 0) + 1
        return _counters[group]


def current_sequence(group: str) -> int:
    """The number of the last event sent to ``group`` (0 when none was)."""
    client = _client()
    if client is not None:
        value = client.get(KEY_PREFIX + group)
        return int(value) if value is not None else 0
    with _lock:
        return _counters.get(group, 0)
