"""Waiting for a condition, with a deadline: the only way a test waits on another thread
or process (a server, a ticker, a worker). It asks again every ``every`` seconds and fails
the test with what it was waiting for; it never waits longer than it has to."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.2) -> T:
    """``probe()``'s first truthy value, asked every ``every`` seconds; fails the test after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)
