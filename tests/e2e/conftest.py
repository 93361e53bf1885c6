"""Browser tests: the real ASGI server (uvicorn, in a thread of the test process, so it shares
the test database and the in-memory channel layer), the embedded desk's X sandbox and ticker,
and Debian's Chromium driven by Playwright.

Tests marked ``e2e`` are skipped when /usr/bin/chromium or the playwright package is missing,
unless ``HELPFORCE_REQUIRE_SERVICES=1`` (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
import uvicorn

from helpdesk.management.commands.demo import web_server_config
from tests.artifacts import ARTIFACTS_ROOT
from tests.waiting import wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Browser

T = TypeVar("T")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ARTIFACTS_ROOT / "e2e"


def _require(reason: str) -> None:
    if os.environ.get("HELPFORCE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not item.get_closest_marker("e2e"):
        return
    if not CHROMIUM.exists():
        _require("needs Debian's Chromium: apt-get install chromium")
    if importlib.util.find_spec("playwright") is None:
        _require("needs Playwright: pip install -e '.[dev]'")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture
def live_settings(settings: Any) -> Any:
    """Plain-HTTP loopback settings for the browser, and DEBUG for ``seed_demo``."""
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.X_HTTP_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def file_database(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """On SQLite, the test database copied to a file for the length of the test.

    The in-memory test database is shared between threads in SQLite's shared-cache mode,
    where a writer makes every other thread fail at once with "database table is locked";
    the web server, the ticker and the test all use it at the same time here. A file with
    the embedded desk's options (busy timeout, immediate transactions, WAL) waits instead.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    path = tmp_path / "e2e.sqlite3"
    copy = sqlite3.connect(path)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()
    settings_dict = connection.settings_dict
    name, options = settings_dict["NAME"], settings_dict.get("OPTIONS", {})
    in_memory = connection.connection  # the last handle on it: keep it open
    connection.connection = None
    settings_dict["NAME"] = str(path)
    settings_dict["OPTIONS"] = {
        **options,
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
    try:
        yield
    finally:
        connection.close()
        settings_dict["NAME"], settings_dict["OPTIONS"] = name, options
        connection.connection = in_memory


@pytest.fixture
def server_url(file_database: None, live_settings: Any) -> Iterator[str]:
    """uvicorn serving ``helpdesk.asgi:application`` on a free loopback port, configured as
    ``manage.py demo`` configures it."""
    port = _free_port()
    server = uvicorn.Server(web_server_config("127.0.0.1", port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    wait_for("uvicorn to start", lambda: server.started or not thread.is_alive(), 15, every=0.05)
    if not server.started:
        pytest.fail("uvicorn stopped before it started")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Headless Chromium. Playwright's sync API keeps an asyncio loop open in this thread,
    which Django takes for async code; the test's own ORM calls are plain sync code, so
    Django is told so (the server runs in its own thread and is unaffected).

    While that loop runs, Django keeps this thread's database handles apart from the ones
    ``file_database`` swaps, and they outlive the test: they are closed on the way in and
    out, or a later test would read an earlier test's database file."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")

    with sync_playwright() as playwright:
        connections.close_all()
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()
            connections.close_all()


def off_the_browser_loop(action: Callable[[], T]) -> T:
    """Run ``action`` in a thread of its own, as a web request would be.

    Playwright's sync API keeps an event loop running in the test's thread, and the desk's
    announcements (``async_to_sync`` onto the channel layer) refuse to run inside one: on the
    Redis layer the event would be lost and the page would never hear of the reply.
    """
    from django.db import connection

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = action()
        except BaseException as error:  # handed to the test's thread below
            outcome["error"] = error
        finally:
            connection.close()

    worker = threading.Thread(target=run, name="desk-action")
    worker.start()
    worker.join(timeout=60)
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])
