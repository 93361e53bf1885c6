"""A Celery worker that loses Redis while it holds a message it has not acknowledged (a task
received and not yet done: every task here is acknowledged late, and a task due later is
held unacknowledged until it runs) stays up, connects again when Redis is back, and takes
tasks again.

Why this is its own test: Celery 5.7.0 ended the worker instead ("Unrecoverable error:
AttributeError: 'NoneType' object has no attribute 'hostname'", exit status 1), when the
worker, having lost the broker, closed its connection and tried to put the held message
back through a transport it had already let go. Under honcho one process ending stops the
others, so the whole desk went down with Redis's restart; the Procfile test
(``test_procfile.py``) failed that way in one of six runs on a loaded machine, when a task
happened to be in flight at the moment Redis went away. Here a task due in five minutes
makes the held message certain. The pin (``celery<5.7`` in ``pyproject.toml``) says why.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from tests.production.services import RedisServer, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "helpforce"
# Any task the worker knows: it is due in five minutes, so it is only ever held.
HELD_TASK = "helpdesk.tasks.dispatch_outbox"

pytestmark = [pytest.mark.redis]


class Worker:
    def __init__(self, redis: RedisServer, tmp_path: Path) -> None:
        self.log = tmp_path / "worker.log"
        self.name = f"probe-{uuid.uuid4().hex[:6]}@loopback"
        env = {
            **os.environ,
            "REDIS_URL": redis.url,
            # The held task never runs: the worker needs no database beyond its settings.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "SECRET_KEY": "worker-broker-loss-" + uuid.uuid4().hex,
            "DEBUG": "1",
            "CELERY_QUEUE": QUEUE,
        }
        env.pop("HELPFORCE_REQUIRE_SERVICES", None)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "helpdesk",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "1",
                    "--hostname",
                    self.name,
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker(redis: RedisServer, tmp_path: Path) -> Iterator[Worker]:
    started = Worker(redis, tmp_path)
    try:
        yield started
    finally:
        started.stop()


def held_until_later(client: Celery) -> str:
    """Sends a task due in five minutes; its id."""
    result = client.send_task(HELD_TASK, countdown=300, queue=QUEUE)
    return str(result.id)


def test_a_worker_holding_an_unacknowledged_task_outlives_redis_going_away(
    redis: RedisServer, worker: Worker
) -> None:
    client = Celery("probe", broker=redis.url)
    client.conf.broker_connection_retry_on_startup = True
    try:
        wait_until("the worker ready", lambda: "ready." in worker.text(), 90)
        first = held_until_later(client)
        wait_until(
            "the worker to hold the task", lambda: f"[{first}] received" in worker.text(), 30
        )

        redis.stop()
        # The worker notices at once (its connection closes) and tries again every few
        # seconds; 3 s gives it time to have ended, as Celery 5.7.0 did within 0.1 s.
        time.sleep(3)
        assert worker.alive(), "the worker ended when Redis went away:\n" + worker.text()[-4000:]

        redis.start()
        # Redis came back empty: the held task went with it (the desk keeps nothing only in
        # Redis; beat sends the periodic tasks again). A task sent now is taken.
        second = wait_until("a task sent after the restart", lambda: held_until_later(client), 30)
        wait_until(
            "the worker to take a task after Redis's restart",
            lambda: f"[{second}] received" in worker.text(),
            30,
        )
        assert worker.alive()
        assert "Unrecoverable error" not in worker.text()
    finally:
        client.close()
