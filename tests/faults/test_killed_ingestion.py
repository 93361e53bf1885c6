"""Issue 11, fault 2: the ingestion process killed (SIGKILL) after it fetched a page from X
and before it committed it, twice, then started again: every tweet is stored exactly once
and the cursor ends at the newest (DESIGN invariant 1).

The poller is a real process running ``poll_account`` (tests/faults/poller.py) against the
X sandbox over HTTP, on a database of its own on SQLite (a file) or the test database on
PostgreSQL. The kill lands inside the transaction because this test holds a lock the
poller's transaction needs: on PostgreSQL a row lock on the care account, which the poller
takes to move its cursor after writing the page's rows; on SQLite the file's write lock,
which the poller needs for its first write.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from helpdesk.models import XAccount
from helpdesk.x.sandbox import SandboxAccount
from tests.faults.common import inject_mentions, report

pytestmark = pytest.mark.django_db(transaction=True)

MENTIONS = 250  # three pages of 100, one page per poll
KILLS = 2
CARE = {
    "username": "KilledCare",
    "x_user_id": "9100000001",
    "bearer_token": "bearer-killed",
    "consumer_key": "ck-killed",
    "consumer_secret": "cs-killed",
    "access_token": "9100000001-at",
    "access_token_secret": "ats-killed",
    "language": "en",
}


class Poller:
    """Runs tests/faults/poller.py in its own process against one database and the sandbox."""

    def __init__(self, database_url: str, sandbox: Any) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "X_API_BASE_URL": sandbox.base_url,
            "X_HTTP_TIMEOUT_SECONDS": "5",
            "X_MAX_PAGES_PER_POLL": "1",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "HELPFORCE_TOKEN_KEY": django_settings.TOKEN_ENCRYPTION_KEY,
            "DEBUG": "1",
            "PYTHONPATH": str(django_settings.BASE_DIR),
        }

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.faults.poller", *args],
            env=self.env,
            cwd=Path(django_settings.BASE_DIR),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str) -> dict[str, Any]:
        process = self.start(*args)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        line = [row for row in out.splitlines() if row.startswith("{")][-1]
        result: dict[str, Any] = json.loads(line)
        return result

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
            env=self.env,
            cwd=Path(django_settings.BASE_DIR),
            check=True,
            capture_output=True,
            timeout=300,
        )


def _postgres_url() -> str:
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


def _waiting_poller(seen: set[int]) -> int | None:
    """The PostgreSQL backend of a poller waiting for the care account's row lock, with the
    page's rows already written in its transaction."""
    table = XAccount._meta.db_table
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing its first snapshot of the view.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        for pid, query in cursor.fetchall():
            if pid not in seen and table in query and "FOR UPDATE" in query:
                return int(pid)
    return None


def _alive(process: subprocess.Popen[str]) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the poller ended early: {process.communicate()[1][-3000:]}")
    return True


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == 0


@contextmanager
def _account_row_held(account_id: int) -> Iterator[None]:
    table = XAccount._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # NO KEY UPDATE: the poller's inserts (which reference the row) go through; its
        # cursor's SELECT ... FOR UPDATE, after the rows, waits.
        cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR NO KEY UPDATE", [account_id])  # noqa: S608 - our table name
        yield


@contextmanager
def _file_write_held(path: Path) -> Iterator[None]:
    held = sqlite3.connect(path, isolation_level=None)
    try:
        held.execute("BEGIN IMMEDIATE")
        yield
        held.execute("ROLLBACK")
    finally:
        held.close()


def _mention_fetches(sandbox: Any) -> int:
    stats = sandbox.world.stats()
    return int(stats["requests"].get("mentions", 0))


def _wait(condition: Any, what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    detail = ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT pid, state, wait_event_type, wait_event, left(query, 300) "
                "FROM pg_stat_activity WHERE backend_type = %s",
                ["client backend"],
            )
            detail = repr(cursor.fetchall())
    raise AssertionError(f"timed out waiting for {what}: {detail}")


def test_a_poller_killed_between_fetching_and_committing_loses_and_doubles_nothing(
    sandbox: Any, tmp_path: Path
) -> None:
    # Given a care account with 250 mentions on X and a poller process that stored page 1
    on_postgres = connection.vendor == "postgresql"
    database_file = tmp_path / "poller.sqlite3"
    poller = Poller(_postgres_url() if on_postgres else f"sqlite:///{database_file}", sandbox)
    if not on_postgres:
        poller.migrate()
    account_id = str(poller.run("setup", json.dumps(CARE))["account_id"])
    twin = {("user_id" if k == "x_user_id" else k): v for k, v in CARE.items()}
    sandbox.world.add_account(SandboxAccount(**twin))
    tweet_ids = inject_mentions(sandbox.world, CARE["username"], MENTIONS, tag="killed")
    assert poller.run("poll", account_id)["new"] == 100

    # When the poller is killed with page 2 fetched and not committed, twice
    killed_pids: set[int] = set()
    exits = []
    for _ in range(KILLS):
        fetched = _mention_fetches(sandbox)
        holding = (
            _account_row_held(int(account_id)) if on_postgres else _file_write_held(database_file)
        )
        with holding:
            process = poller.start("poll", account_id)
            if on_postgres:
                backend = _wait(
                    lambda p=process: _alive(p) and _waiting_poller(killed_pids),
                    "the poller's row lock",
                )
                killed_pids.add(backend)
            else:
                _wait(lambda f=fetched: _mention_fetches(sandbox) > f, "the poller's fetch")
                time.sleep(0.5)  # parsing the page; then its first write waits for the lock
            assert process.poll() is None, process.communicate()[1][-3000:]
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=30)
            exits.append(process.returncode)
        if on_postgres:
            _wait(lambda b=backend: _backend_gone(b), "the killed poller's backend to end")
        after_kill = poller.run("report", account_id)
        # Page 1 stands with its cursor's progress; nothing of page 2 was kept
        assert len(after_kill["tweet_ids"]) == 100
        assert (after_kill["since"], bool(after_kill["pending_token"])) == ("", True)
    killed_at = time.monotonic()

    # And the poller is started again until X has nothing new
    polls = []
    for _ in range(10):
        polls.append(poller.run("poll", account_id))
        if polls[-1]["new"] == 0 and polls[-1]["error"] == "":
            break
    recover_s = time.monotonic() - killed_at

    # Then every tweet is stored exactly once and the cursor is at the newest
    final = poller.run("report", account_id)
    stored = Counter(final["tweet_ids"])
    lost = len(set(tweet_ids) - stored.keys())
    doubled = sum(n - 1 for n in stored.values())
    assert exits == [-signal.SIGKILL] * KILLS
    assert [p["new"] for p in polls] == [100, 50, 0]
    assert (lost, doubled, len(stored)) == (0, 0, MENTIONS)
    assert (final["since"], final["pending_token"]) == (max(tweet_ids, key=int), "")
    assert final["received_events"] == MENTIONS
    report(
        "poller_killed_before_commit",
        questions=len(stored),
        replies=0,
        lost=lost,
        doubled=doubled,
        stuck=0,
        kills=KILLS,
        killed_after_writing_rows=on_postgres,
        recover_s=round(recover_s, 2),
        restarts=len(polls),
        mention_fetches=_mention_fetches(sandbox),
    )
