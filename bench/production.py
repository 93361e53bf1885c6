"""The production start on loopback, for the benchmarks that measure it (``bench/load.py``,
``bench/route.py``): the repository's ``Procfile`` run by honcho (uvicorn with
``WEB_WORKERS`` ASGI processes on one port, a Celery worker, one beat) on a throw-away
PostgreSQL database and a ``redis-server`` of the bench's own (a free loopback port), with
``DEBUG=1``; optionally ``manage.py xsandbox`` as X; on a server without autovacuum, its
``ANALYZE`` (:class:`Autoanalyze`), as production's PostgreSQL has it. And what its
processes cost: CPU and memory per role, from /proc.

Needs PostgreSQL (``DATABASE_URL`` names the server; a database of the bench's own is
created and dropped), ``redis-server`` and ``honcho`` on the PATH or beside the Python.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.fanout import free_port

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- processes: who is who, and what they cost --------------------------------------------


def _stat(pid: int) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds user + system, RSS KiB) of ``pid``, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
                break
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK, rss


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def descendants(root: int) -> list[int]:
    """Every live process under ``root`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def desk_roles(honcho_pid: int) -> dict[str, list[int]]:
    """The production start's processes by role: ``asgi`` (uvicorn's workers),
    ``asgi_supervisor``, ``celery_worker`` (the main process and its pool), ``beat``."""
    roles: dict[str, list[int]] = {
        "asgi": [],
        "asgi_supervisor": [],
        "celery_worker": [],
        "beat": [],
    }
    pids = descendants(honcho_pid)
    command = {pid: _cmdline(pid) for pid in pids}
    parent = {pid: (_stat(pid) or (0, 0.0, 0))[0] for pid in pids}
    for pid in pids:
        line = command[pid]
        if "resource_tracker" in line:
            continue  # multiprocessing's helper beside uvicorn's workers, not a server
        if "uvicorn helpdesk.asgi" in line:
            roles["asgi_supervisor"].append(pid)
        elif "uvicorn helpdesk.asgi" in command.get(parent[pid], ""):
            roles["asgi"].append(pid)
        elif " beat" in line and "celery" in line:
            roles["beat"].append(pid)
        elif "celery" in line and " worker" in line:
            roles["celery_worker"].append(pid)
    return roles


@dataclass
class Usage:
    """CPU seconds and RSS per pid between a start and the last sample."""

    first_cpu: dict[int, float] = field(default_factory=dict)
    last_cpu: dict[int, float] = field(default_factory=dict)
    last_rss: dict[int, int] = field(default_factory=dict)
    peak_rss_kb: int = 0

    def sample(self, pids: list[int], *, baseline: bool) -> None:
        total = 0
        live = {}
        for pid in pids:
            stat = _stat(pid)
            if stat is None:
                continue
            _, cpu, rss = stat
            # A process that appeared after the start (a new backend, a replaced worker)
            # counts from zero.
            self.first_cpu.setdefault(pid, cpu if baseline else 0.0)
            self.last_cpu[pid] = cpu
            live[pid] = rss
            total += rss
        self.last_rss = live
        self.peak_rss_kb = max(self.peak_rss_kb, total)

    def cpu_seconds(self) -> float:
        return sum(self.last_cpu[pid] - self.first_cpu[pid] for pid in self.last_cpu)

    def figures(self, seconds: float) -> dict[str, Any]:
        return {
            "processes": len(self.last_cpu),
            "cpu_percent": round(100 * self.cpu_seconds() / seconds, 1),
            "rss_mb": round(sum(self.last_rss.values()) / 1024, 1),
            "peak_rss_mb": round(self.peak_rss_kb / 1024, 1),
            "per_process": {
                str(pid): {
                    "cpu_percent": round(
                        100 * (self.last_cpu[pid] - self.first_cpu[pid]) / seconds, 1
                    ),
                    "rss_mb": round(self.last_rss.get(pid, 0) / 1024, 1),
                }
                for pid in sorted(self.last_cpu)
            },
        }


class Sampler(threading.Thread):
    """Samples every role's processes every ``interval`` s until stopped."""

    def __init__(self, roles: Callable[[], dict[str, list[int]]], interval: float) -> None:
        super().__init__(daemon=True)
        self.roles = roles
        self.interval = interval
        self.usage: dict[str, Usage] = {}
        self.halt = threading.Event()
        self.started_at = 0.0
        self.stopped_at = 0.0
        self.lock = threading.Lock()

    def take(self, *, baseline: bool = False) -> None:
        roles = self.roles()
        with self.lock:
            for role, pids in roles.items():
                self.usage.setdefault(role, Usage()).sample(pids, baseline=baseline)

    def run(self) -> None:
        self.started_at = time.monotonic()
        self.take(baseline=True)
        while not self.halt.wait(self.interval):
            self.take()

    def stop(self) -> dict[str, dict[str, Any]]:
        self.halt.set()
        self.join()
        self.take()
        self.stopped_at = time.monotonic()
        seconds = self.stopped_at - self.started_at
        return {role: usage.figures(seconds) for role, usage in self.usage.items()}


def postgres_backends(database: str) -> Callable[[], list[int]]:
    """The pids of the server's backends connected to ``database`` (not the asker's)."""

    def pids() -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [database],
            )
            return [int(row[0]) for row in cursor.fetchall()]

    return pids


# --- the desk ------------------------------------------------------------------------------


def wait_for(what: str, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http, ours
                if response.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer within {timeout:.0f} s")


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"the production start needs {name}")
    return found


class Autoanalyze(threading.Thread):
    """What autovacuum's ``ANALYZE`` gives a production database, on a server that runs
    without autovacuum (this machine's PostgreSQL: ``SHOW autovacuum`` is off). Every
    ``autovacuum_naptime`` (the server's setting), the first time at once, each table of
    ``database_url`` changed in more rows since its last ``ANALYZE`` than
    ``autovacuum_analyze_threshold`` + ``autovacuum_analyze_scale_factor`` times its rows (the
    rule autovacuum applies, with the server's settings) is analyzed. Nothing on a server
    whose autovacuum is on: it does that itself.

    Without it, the live queue's connections kept, for the whole run, the plans they made
    as they opened, when the bench's question table was empty: every claim and release read
    the whole table (docs/benchmarks.md, Load). Production's autovacuum analyzes that table
    within a minute of its first fifty questions, and PostgreSQL plans the statements again."""

    def __init__(self, database_url: str) -> None:
        super().__init__(daemon=True)
        self.database_url = database_url
        self.halt = threading.Event()
        self.server_runs_autovacuum: bool | None = None
        self.analyzed: list[str] = []
        self.error = ""

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                settings: dict[str, str] = dict(
                    conn.execute(
                        "SELECT name, setting FROM pg_settings WHERE name IN ('autovacuum', "
                        "'autovacuum_naptime', 'autovacuum_analyze_threshold', "
                        "'autovacuum_analyze_scale_factor')"
                    ).fetchall()
                )
                self.server_runs_autovacuum = settings["autovacuum"] == "on"
                if self.server_runs_autovacuum:
                    return
                naptime = float(settings["autovacuum_naptime"])  # seconds
                threshold = float(settings["autovacuum_analyze_threshold"])
                scale = float(settings["autovacuum_analyze_scale_factor"])
                while True:
                    self._analyze_due(conn, threshold, scale)
                    if self.halt.wait(naptime):
                        return
        except Exception as error:  # reported with the bench's figures, not hidden
            self.error = f"{type(error).__name__}: {error}"

    def _analyze_due(self, conn: Any, threshold: float, scale: float) -> None:
        from psycopg import sql

        due = conn.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.n_mod_since_analyze > %s + %s * GREATEST(c.reltuples, 0) ORDER BY 1",
            [threshold, scale],
        ).fetchall()
        for (table,) in due:
            if self.halt.is_set():
                return
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            self.analyzed.append(table)

    def stop(self) -> None:
        self.halt.set()
        self.join(60)

    def figures(self) -> dict[str, Any]:
        """For the bench's detail line: whether this stood in for autovacuum, and what it
        analyzed."""
        return {
            "server_runs_autovacuum": self.server_runs_autovacuum,
            "analyzes": len(self.analyzed),
            "tables_analyzed": sorted(set(self.analyzed)),
            "error": self.error,
        }


def psql(server_url: str, sql: str) -> None:
    admin = urlsplit(server_url)._replace(path="/postgres").geturl()
    subprocess.run([tool("psql"), admin, "-q", "-c", sql], check=True, capture_output=True)


@dataclass
class Desk:
    env: dict[str, str]
    base: str
    sandbox: str
    database: str
    honcho: subprocess.Popen[bytes]
    redis: subprocess.Popen[bytes]
    session_keys: list[str]
    autoanalyze: Autoanalyze


@contextlib.contextmanager
def production_start(
    workdir: Path,
    prepare: Callable[[dict[str, str]], list[str]],
    *,
    web_workers: int = 2,
    worker_concurrency: int = 2,
    sandbox_rate: float | None = None,
    seed: int = 13,
    label: str = "load",
    debug: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Desk]:
    """A database, a Redis, the sandbox (given ``sandbox_rate``: customer tweets a second)
    and the Procfile of the bench's own; all stopped and dropped on the way out.
    ``prepare`` builds the world in the new database, in this process (Django is set up on
    it) with the desk's environment at hand, before the desk starts; it returns signed-in
    session keys, which the ``Desk`` carries. ``debug``: the desk runs with ``DEBUG=1`` (as
    ``bench/load.py`` has it), else as in production; ``extra_env`` is added to the desk's
    environment (not this process's)."""
    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... (the server; the bench makes a database)")
    database = f"helpforce_{label}_{uuid.uuid4().hex[:8]}"
    database_url = urlsplit(server)._replace(path=f"/{database}").geturl()
    redis_port, sandbox_port, web_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": f"bench-{label}-" + uuid.uuid4().hex,
        "DEBUG": "1" if debug else "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "X_API_BASE_URL": f"http://127.0.0.1:{sandbox_port}",
        "PORT": str(web_port),
        "WEB_WORKERS": str(web_workers),
        "WORKER_CONCURRENCY": str(worker_concurrency),
        "BEAT_SCHEDULE": str(workdir / "celerybeat-schedule"),
        **(extra_env or {}),
    }
    env.pop("HELPFORCE_REQUIRE_SERVICES", None)
    psql(server, f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen[bytes]] = []
    autoanalyze: Autoanalyze | None = None
    try:
        redis = subprocess.Popen(
            [
                tool("redis-server"),
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        processes.append(redis)
        os.environ.update(DATABASE_URL=database_url, REDIS_URL=env["REDIS_URL"])
        os.environ.update(SECRET_KEY=env["SECRET_KEY"], DEBUG=env["DEBUG"])
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
        import django

        django.setup()
        started = time.monotonic()
        session_keys = prepare(env)
        print(f"world built in {time.monotonic() - started:.0f} s", file=sys.stderr)
        sandbox_url = ""
        if sandbox_rate is not None:
            sandbox_url = f"http://127.0.0.1:{sandbox_port}"
            sandbox = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "xsandbox",
                    "--port",
                    str(sandbox_port),
                    "--rate",
                    str(sandbox_rate),
                    "--seed",
                    str(seed),
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(workdir / "sandbox.log").open("wb"),
                start_new_session=True,
            )
            processes.append(sandbox)
        honcho = subprocess.Popen(
            [tool("honcho"), "start", "-f", "Procfile"],
            cwd=ROOT,
            env=env,
            stdout=(workdir / "honcho.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(honcho)
        base = f"http://127.0.0.1:{web_port}"
        wait_for("the desk", f"{base}/healthz", 90)
        if sandbox_url:
            wait_for("the sandbox", f"{sandbox_url}/_sandbox/stats", 30)
        autoanalyze = Autoanalyze(database_url)
        autoanalyze.start()
        yield Desk(env, base, sandbox_url, database, honcho, redis, session_keys, autoanalyze)
    finally:
        from django.db import connection

        connection.close()
        if autoanalyze is not None:
            autoanalyze.stop()
        for process in reversed(processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            psql(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
