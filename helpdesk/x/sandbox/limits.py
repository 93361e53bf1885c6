"""Rate-limit windows and injected faults."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60

# (per app bearer, per user) requests per 15 minutes; None: that kind of auth is refused.
DEFAULT_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "mentions": (450, 300),
    "search": (450, 300),
    "create_tweet": (None, 100),
    "delete_tweet": (None, 50),
    "retweet": (None, 50),
    "user_tweets": (1500, 900),
    "users_me": (None, 75),
    "tweet_lookup": (450, 900),
}

FAULT_ENDPOINTS = frozenset(
    {*DEFAULT_LIMITS, "oauth2_token", "oauth2_authorize", "*"},
)
FAULT_KINDS = frozenset({"latency", "5xx", "429", "timeout_after_accept"})


@dataclass(frozen=True)
class RateStatus:
    limit: int
    remaining: int
    reset: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(self.reset),
        }


class RateLimiter:
    """Fixed 15-minute windows per endpoint and per credential, started by the first call."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._overrides: dict[str, int] = {}
        self._windows: dict[tuple[str, str], list[float]] = {}

    def set_limit(self, endpoint: str, limit: int | None) -> None:
        """Override an endpoint's limit for every credential (None restores X's numbers)."""
        if endpoint not in DEFAULT_LIMITS:
            raise ValueError(f"unknown endpoint {endpoint!r}")
        with self._lock:
            if limit is None:
                self._overrides.pop(endpoint, None)
            else:
                self._overrides[endpoint] = max(0, int(limit))
            self._windows = {k: v for k, v in self._windows.items() if k[0] != endpoint}

    def limit_for(self, endpoint: str, is_app: bool) -> int | None:
        if endpoint in self._overrides:
            return self._overrides[endpoint]
        app_limit, user_limit = DEFAULT_LIMITS[endpoint]
        return app_limit if is_app else user_limit

    def consume(self, endpoint: str, bucket: str, is_app: bool) -> RateStatus:
        """Count one request against the window and say whether it may proceed."""
        now = self._clock()
        with self._lock:
            limit = self.limit_for(endpoint, is_app) or 0
            window = self._windows.get((endpoint, bucket))
            if window is None or window[0] <= now:
                window = [now + WINDOW_SECONDS, 0]
                self._windows[(endpoint, bucket)] = window
            reset = int(window[0])
            if window[1] >= limit:
                return RateStatus(limit, 0, reset, allowed=False)
            window[1] += 1
            return RateStatus(limit, limit - int(window[1]), reset, allowed=True)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


@dataclass
class Fault:
    endpoint: str
    kind: str
    count: int = 1
    seconds: float = 0.0


class FaultInjector:
    """Faults queued for the next matching requests, served first come first served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.endpoint not in FAULT_ENDPOINTS:
            raise ValueError(f"unknown endpoint {fault.endpoint!r}")
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        if fault.count < 1 or fault.seconds < 0:
            raise ValueError("count must be at least 1 and seconds not negative")
        with self._lock:
            self._pending.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The fault for this request, if one is queued for its endpoint (or for any)."""
        with self._lock:
            for fault in self._pending:
                if fault.endpoint in (endpoint, "*"):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._pending.remove(fault)
                    return Fault(endpoint, fault.kind, 1, fault.seconds)
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.endpoint, f.kind, f.count, f.seconds) for f in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
