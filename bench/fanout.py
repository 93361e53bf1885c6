"""Live desk fan-out: events from ingestion to 500 websocket clients on the Redis layer.

Builds a throw-away PostgreSQL database with one brand, one care account and N volunteers
who may follow the live queue (desk role, certified and trained, charter accepted: the gate
passes), each with a signed-in Django session; starts ONE uvicorn process on
``helpdesk.asgi`` with the project's Redis channel layers; connects N websocket clients to
``ws/queue/`` (session cookie, allowed Origin), spread over ``--client-processes`` processes
so that the measuring side does not starve the single server process; then ingests M new
questions, one tweet per ``ingest_batch`` call, at R per second from this process. Each
``questions.queued`` announcement goes to the brand's queue group with a sequence number.

Every client records each event's number and receive time; a gap in the numbers makes it
send ``{"action": "resync"}`` as the page does, and the missing events up to the ``resync``
answer's number count as recovered. At the end every client sends ``{"action": "ping"}``:
a ``pong`` ahead of the client shows lost last events (which no later event would reveal),
and the client resyncs; those count as recovered too and are reported apart
(``trailing_recovered``). Events neither received nor covered by a resync are lost.
Latency is the client's receive time minus the time just before ``ingest_batch`` was called,
both ``time.time_ns()`` (CLOCK_REALTIME, one clock for every process on the machine). Memory
per connection is the growth of the server's RSS across connecting the clients, divided by
their number; the server's CPU time while the questions were produced is reported too.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce_fanout \\
    REDIS_URL=redis://127.0.0.1:6379/10 SECRET_KEY=x DEBUG=1 .venv/bin/python bench/fanout.py

The Redis database named in REDIS_URL is flushed: give it one of its own. Prints its
figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crowd import certified_crowd  # noqa: E402 - needs the project on the path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

UNUSABLE = "!"  # an unusable password: nobody signs in as a bench volunteer
CARE = {"username": "BenchCare", "x_user_id": "1700000000000000001"}
AUTH_BACKEND = "django.contrib.auth.backends.ModelBackend"
# How long a hole in the numbers waits for its event before the client resyncs; queue.js
# waits the same (REORDER_WAIT_MS).
REORDER_WAIT_S = 0.5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    """Resident set size of ``pid`` in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def percentile(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


# --- the world -----------------------------------------------------------------------------


def build_world(clients: int) -> dict[str, Any]:
    """Brand, care account, ``clients`` volunteers who pass the gate, and their sessions."""
    from charter.acceptance import publish_version
    from helpdesk.models import Brand, XAccount
    from routing.models import Placement, RoutingSettings

    brand = Brand.objects.create(name="Bench", slug="bench-fanout")
    RoutingSettings.objects.create(brand=brand, default_placement=Placement.POOL)
    account = XAccount.objects.create(brand=brand, **CARE)
    version = publish_version(
        brand.pk, title="Charter", body="Be kind.", is_material=True, actor=None
    )
    users = certified_crowd(brand, version, clients, prefix="fanout", on_shift=False)
    return {"brand": brand, "account": account, "session_keys": signed_in_sessions(users)}


def signed_in_sessions(users: list[Any]) -> list[str]:
    """A signed-in database session for each of ``users`` (bulk-created: no login form);
    returns the session keys, in the same order."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store = SessionStore()
    expiry = timezone.now() + timedelta(days=1)
    sessions = [
        Session(
            session_key=get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789"),
            session_data=store.encode(
                {
                    "_auth_user_id": str(user.pk),
                    "_auth_user_backend": AUTH_BACKEND,
                    "_auth_user_hash": user.get_session_auth_hash(),
                }
            ),
            expire_date=expiry,
        )
        for user in users
    ]
    Session.objects.bulk_create(sessions)
    return [s.session_key for s in sessions]


# --- the server ----------------------------------------------------------------------------


def start_server(
    port: int, database_url: str, redis_url: str, *, ws_deflate: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-fanout-not-secret",
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "helpdesk.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--ws-max-size",
            "65536",
            # As the README's production command: the desk reads X-Forwarded-For itself.
            "--no-proxy-headers",
            # uvicorn's default is on, as in the README's production command.
            *([] if ws_deflate else ["--ws-per-message-deflate", "false"]),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the ASGI server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status < 500:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the ASGI server did not answer /healthz within 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- the clients (each group of them in a process of its own) ------------------------------


@dataclass
class Client:
    number: int
    hello_seq: int = -1
    # How long the server may hold an event (its hello's window): a hole waits that too.
    window_s: float = 0.0
    last_seq: int = 0
    # (seq, kind, receive time in ns since the epoch, payload question ids)
    events: list[tuple[int, str, int, list[int]]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)
    duplicates: int = 0
    out_of_order: int = 0
    gaps: int = 0
    resyncs_sent: int = 0
    resynced_upto: int = 0
    # Frames received, and of them the ones that carried several events.
    frames: int = 0
    frames_with_several: int = 0
    # A final ping whose pong was ahead of the client: a lost last event, then resynced.
    trailing_gaps: int = 0
    pong_seq: int = -1
    done: bool = False
    errors: list[str] = field(default_factory=list)
    closed_early: bool = False

    # Every number up to this one was received or resynced (holes below last_seq wait
    # REORDER_WAIT_S for their event before the client resyncs, as queue.js does).
    contiguous: int = 0
    # Holes closed within the wait (by their event, or a resync already asked for).
    reordered: int = 0

    @property
    def known(self) -> int:
        return max(self.last_seq, self.resynced_upto)

    def advance(self) -> None:
        self.contiguous = max(self.contiguous, self.resynced_upto)
        while self.contiguous + 1 in self.seen:
            self.contiguous += 1

    def summary(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "hello_seq": self.hello_seq,
            "last_seq": self.last_seq,
            "events": self.events,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "reordered": self.reordered,
            "gaps": self.gaps,
            "resyncs_sent": self.resyncs_sent,
            "resynced_upto": self.resynced_upto,
            "trailing_gaps": self.trailing_gaps,
            "pong_seq": self.pong_seq,
            "done": self.done,
            "errors": self.errors,
            "closed_early": self.closed_early,
        }


async def open_socket(
    client: Client, url: str, origin: str, session_key: str, connecting: asyncio.Semaphore
) -> Any:
    """The client's socket once ``hello`` came (its number recorded), or None (the error is
    in ``client.errors``)."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    try:
        async with connecting:
            ws = await asyncio.wait_for(
                connect(
                    url,
                    origin=Origin(origin),
                    additional_headers={"Cookie": f"sessionid={session_key}"},
                    ping_interval=None,
                    max_queue=None,
                    open_timeout=30,
                ),
                timeout=40,
            )
            first = json.loads(await asyncio.wait_for(ws.recv(), timeout=30))
    except Exception as error:  # counted as a connect failure
        client.errors.append(f"connect: {type(error).__name__}: {error}")
        return None
    if first.get("type") != "hello":
        client.errors.append(f"first message: {str(first)[:200]}")
        await ws.close()
        return None
    client.hello_seq = client.last_seq = client.contiguous = int(first["seq"])
    client.window_s = float(first.get("window_ms") or 0) / 1000
    return ws


async def on_message(client: Client, ws: Any, message: dict[str, Any], received: int) -> bool:
    """What the page does with ``event``, ``resync`` and ``pong`` (a gap or a pong ahead of
    the client sends ``resync``); False for any other message."""
    kind = message.get("type")
    if kind == "events":
        # Events close together, in one frame: each handled as if it came alone.
        for one in message.get("events") or []:
            if one.get("type") == "event":
                on_event(client, ws, one, received)
            else:
                client.errors.append(f"not an event in events: {str(one)[:200]}")
        client.frames_with_several += 1
    elif kind == "event":
        on_event(client, ws, message, received)
    elif kind == "resync":
        client.resynced_upto = max(client.resynced_upto, int(message["seq"]))
        client.advance()
        if client.pong_seq >= 0 and client.known >= client.pong_seq:
            client.done = True
    elif kind == "pong":
        client.pong_seq = int(message["seq"])
        if client.pong_seq > client.known:
            # The last events never came: only the ping shows it. Reload.
            client.trailing_gaps += 1
            client.resyncs_sent += 1
            await ws.send(json.dumps({"action": "resync", "since": client.last_seq}))
        else:
            client.done = True
    else:
        return False
    return True


def on_event(client: Client, ws: Any, message: dict[str, Any], received: int) -> None:
    """One ``event`` (alone or in ``events``): counted, and a hole below its number checked
    again after ``REORDER_WAIT_S``. A plain function, not a coroutine: a client handles
    millions of them in a run, on the machine the desk runs on."""
    seq = message.get("seq")
    if not isinstance(seq, int):
        client.errors.append(f"event without seq: {str(message)[:200]}")
        return
    if seq in client.seen:
        client.duplicates += 1
        return
    client.seen.add(seq)
    payload = message.get("payload") or {}
    ids = [int(i) for i in payload.get("question_ids", [])]
    if isinstance(payload.get("question_id"), int):
        ids.append(int(payload["question_id"]))
    client.events.append((seq, str(message.get("kind")), received, ids))
    if seq < client.last_seq:
        client.out_of_order += 1
    client.last_seq = max(client.last_seq, seq)
    client.advance()
    if seq > client.contiguous + 1:
        # A hole below this number: events numbered by two processes may arrive in
        # either order, so wait a moment for it before reloading, as the page does.
        asyncio.get_running_loop().call_later(
            REORDER_WAIT_S + client.window_s,
            lambda: asyncio.ensure_future(_gap_check(client, ws, seq)),
        )


async def _gap_check(client: Client, ws: Any, seq: int) -> None:
    """REORDER_WAIT_S after ``seq`` showed a hole: still open, reload (``resync``)."""
    if client.contiguous >= seq - 1:
        client.reordered += 1
        return
    client.gaps += 1
    client.resyncs_sent += 1
    try:
        await ws.send(json.dumps({"action": "resync", "since": client.contiguous}))
    except Exception as error:  # the socket closed meanwhile: its reconnect reloads
        client.errors.append(f"resync: {type(error).__name__}")


async def run_client(
    client: Client,
    url: str,
    origin: str,
    session_key: str,
    connecting: asyncio.Semaphore,
    sockets: dict[int, Any],
    closing: asyncio.Event,
) -> None:
    """One page: hello, then events; a gap sends ``resync`` as queue.js does; the final
    ``ping`` (sent by ``finish``) is answered by a ``pong`` carrying the current number."""
    ws = await open_socket(client, url, origin, session_key, connecting)
    if ws is not None:
        await read_socket(client, ws, sockets, closing)


async def read_socket(
    client: Client,
    ws: Any,
    sockets: dict[int, Any],
    closing: asyncio.Event,
    other: Callable[[dict[str, Any], int], None] | None = None,
) -> None:
    """Reads the socket until it closes; messages ``on_message`` does not handle go to
    ``other`` (message, receive time), else count as errors."""
    from websockets.exceptions import ConnectionClosed

    sockets[client.number] = ws
    try:
        async for raw in ws:
            received = time.time_ns()  # CLOCK_REALTIME: comparable across processes
            message = json.loads(raw)
            client.frames += 1
            if await on_message(client, ws, message, received):
                continue
            if other is not None:
                other(message, received)
            else:
                client.errors.append(f"unexpected: {str(message)[:200]}")
        if not closing.is_set():
            client.closed_early = True
            client.errors.append(f"closed by the server: {ws.close_code}")
    except ConnectionClosed as closed:
        client.closed_early = True
        client.errors.append(f"closed: {closed}")
    finally:
        sockets.pop(client.number, None)
        await ws.close()


async def client_group(
    conn: Any, url: str, origin: str, members: list[tuple[int, str]]
) -> dict[str, Any]:
    """Connects ``members`` (number, session key), reports how many are live, waits for
    ``finish``, lets them catch up, pings from every client and returns what each saw."""
    loop = asyncio.get_running_loop()
    clients = {number: Client(number) for number, _ in members}
    sockets: dict[int, Any] = {}
    connecting = asyncio.Semaphore(25)
    closing = asyncio.Event()
    tasks = [
        asyncio.create_task(run_client(clients[n], url, origin, key, connecting, sockets, closing))
        for n, key in members
    ]
    started = time.monotonic()
    while time.monotonic() - started < 90:
        if all(c.hello_seq >= 0 or c.errors for c in clients.values()):
            break
        await asyncio.sleep(0.1)
    live = sum(1 for c in clients.values() if c.hello_seq >= 0 and not c.errors)
    conn.send(("connected", live))

    cpu_before = time.process_time()
    command, end_seq, drain = await loop.run_in_executor(None, conn.recv)
    assert command == "finish"
    cpu_seconds = time.process_time() - cpu_before
    drain_seconds = await finish(clients, sockets, closing, end_seq, drain)
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "clients": [c.summary() for c in clients.values()],
        "cpu_seconds": cpu_seconds,
        "drain_seconds": drain_seconds,
    }


async def finish(
    clients: dict[int, Client],
    sockets: dict[int, Any],
    closing: asyncio.Event,
    end_seq: int,
    drain: float,
) -> float:
    """Waits (at most ``drain`` s) for every live client to know ``end_seq``, pings from
    every client, waits for the answers (and their resyncs), closes the sockets; returns
    the seconds spent draining."""
    # Drain: a bound on the wait for late events; what counts is decided by the pings below.
    drain_started = time.monotonic()
    while time.monotonic() - drain_started < drain:
        if all(clients[n].known >= end_seq for n in list(sockets)):
            break
        await asyncio.sleep(0.1)
    drain_seconds = time.monotonic() - drain_started
    # What a page that pings does: a pong ahead of it means the last events were lost.
    for number, ws in list(sockets.items()):
        try:
            await ws.send(json.dumps({"action": "ping"}))
        except Exception as error:
            clients[number].errors.append(f"ping: {type(error).__name__}: {error}")
    ping_started = time.monotonic()
    while time.monotonic() - ping_started < 15:
        if all(clients[n].done for n in list(sockets)):
            break
        await asyncio.sleep(0.1)
    closing.set()
    for ws in list(sockets.values()):
        await ws.close()
    return drain_seconds


def client_process(conn: Any, url: str, origin: str, members: list[tuple[int, str]]) -> None:
    """Entry point of a client process (spawned: no Django here, only websockets)."""
    try:
        import uvloop

        results = uvloop.run(client_group(conn, url, origin, members))
    except ImportError:
        results = asyncio.run(client_group(conn, url, origin, members))
    conn.send(("results", results))
    conn.close()


# --- the producer --------------------------------------------------------------------------


def produce(world: dict[str, Any], events: int, rate: float) -> dict[str, Any]:
    """Ingest ``events`` one-tweet batches at ``rate`` per second; question id -> t0 (ns)."""
    from django.db import connection
    from django.utils import timezone

    from helpdesk.models import Source
    from helpdesk.x.ingest import ingest_batch
    from helpdesk.x.normalize import Batch, XTweet, XUser

    brand, account = world["brand"], world["account"]
    t0_by_question: dict[int, int] = {}
    not_queued = 0
    ingest_ms: list[float] = []
    started = time.monotonic()
    try:
        for n in range(events):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            tweet_id = str(1_800_000_000_000_000_000 + n)
            author = str(1_600_000_000_000_000_000 + n % 400)
            text = (
                f"@{CARE['username']} hi, my order #{40_000 + n} was due on Monday and the "
                "tracking has not moved since. Can you check where it is?"
            )
            batch = Batch(
                tweets=[
                    XTweet(
                        id=tweet_id,
                        text=text,
                        raw={"id": tweet_id, "text": text, "author_id": author},
                        author_id=author,
                        created_at=timezone.now(),
                        conversation_id=tweet_id,
                        lang="en",
                    )
                ],
                users={author: XUser(id=author, username=f"customer{n % 400}", name="Customer")},
            )
            t0 = time.time_ns()
            result = ingest_batch(brand, batch, source=Source.MENTIONS, account=account)
            ingest_ms.append((time.time_ns() - t0) / 1e6)
            if not result.question_ids:
                not_queued += 1
            for question_id in result.question_ids:
                t0_by_question[question_id] = t0
        return {
            "t0": t0_by_question,
            "seconds": time.monotonic() - started,
            "ingest_p50_ms": statistics.median(ingest_ms),
            "ingest_p95_ms": percentile(ingest_ms, 95),
            "not_stored": not_queued,
        }
    finally:
        connection.close()


# --- the run -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench(
    args: argparse.Namespace, world: dict[str, Any], server: subprocess.Popen[bytes], port: int
) -> dict[str, Any]:
    import multiprocessing

    from helpdesk.events import brand_queue_group
    from helpdesk.sequence import current_sequence

    url = f"ws://127.0.0.1:{port}/ws/queue/"
    origin = f"http://127.0.0.1:{port}"
    group = brand_queue_group(world["brand"].pk)
    numbered = list(enumerate(world["session_keys"]))
    size = -(-len(numbered) // args.client_processes)
    shares = [numbered[i : i + size] for i in range(0, len(numbered), size)]
    # Spawned, not forked: the clients need none of this process's Django state.
    context = multiprocessing.get_context("spawn")
    pipes: list[Any] = []
    workers: list[Any] = []

    rss_before = rss_kb(server.pid)
    connect_started = time.monotonic()
    for share in shares:
        ours, theirs = context.Pipe()
        worker = context.Process(target=client_process, args=(theirs, url, origin, share))
        worker.start()
        theirs.close()
        pipes.append(ours)
        workers.append(worker)
    try:
        connected = 0
        for pipe in pipes:
            if not pipe.poll(120):
                raise SystemExit("a client process did not report its connections")
            _kind, live = pipe.recv()
            connected += int(live)
        connect_seconds = time.monotonic() - connect_started
        time.sleep(1.0)  # let the server settle before reading its RSS
        rss_after = rss_kb(server.pid)
        print(
            f"connected {connected}/{args.clients} in {connect_seconds:.1f} s from "
            f"{len(workers)} client processes; server RSS {rss_before} -> {rss_after} KiB",
            file=sys.stderr,
        )

        start_seq = current_sequence(group)
        server_cpu_before = cpu_seconds(server.pid)
        produced = produce(world, args.events, args.rate)
        server_cpu = cpu_seconds(server.pid) - server_cpu_before
        end_seq = current_sequence(group)
        print(
            f"produced {args.events} in {produced['seconds']:.1f} s "
            f"(ingest p50 {produced['ingest_p50_ms']:.1f} ms, "
            f"p95 {produced['ingest_p95_ms']:.1f}); queue seq {start_seq} -> {end_seq}; "
            f"server CPU {server_cpu:.1f} s",
            file=sys.stderr,
        )
        for pipe in pipes:
            pipe.send(("finish", end_seq, args.drain))
        reports: list[dict[str, Any]] = []
        for pipe in pipes:
            if not pipe.poll(args.drain + 60):
                raise SystemExit("a client process did not report its results")
            _kind, report = pipe.recv()
            reports.append(report)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()

    t0 = produced["t0"]
    clients = [c for r in reports for c in r["clients"]]
    live = [c for c in clients if c["hello_seq"] >= 0 and not c["errors"]]
    broken = [c for c in clients if c["hello_seq"] >= 0 and c["errors"]]
    latencies: list[float] = []
    other_kinds = 0

    def timed(seq: int, kind: str, at: int, ids: list[int]) -> None:
        nonlocal other_kinds
        if kind != "questions.queued":
            other_kinds += 1
            return
        starts = [t0[i] for i in ids if i in t0]
        if starts:
            latencies.append((at - min(starts)) / 1e6)

    tally = tally_delivery(clients, start_seq, end_seq, timed)
    delivered, recovered = tally["delivered"], tally["recovered"]
    trailing_recovered, lost = tally["trailing_recovered"], tally["lost"]
    return {
        "connected": connected,
        "connect_failures": args.clients - connected,
        "client_errors": sorted({e[:120] for c in clients for e in c["errors"]})[:5],
        "clients_with_errors": len(broken),
        "connect_seconds": round(connect_seconds, 1),
        "client_processes": len(workers),
        "rss_before_kb": rss_before,
        "rss_after_kb": rss_after,
        "announced": end_seq - start_seq,
        "delivered": delivered,
        "recovered": recovered,
        "trailing_recovered": trailing_recovered,
        "lost": lost,
        "other_kinds": other_kinds,
        "gaps": sum(c["gaps"] for c in clients),
        "trailing_gaps": sum(c["trailing_gaps"] for c in clients),
        "resyncs": sum(c["resyncs_sent"] for c in clients),
        "duplicates": sum(c["duplicates"] for c in clients),
        "out_of_order": sum(c["out_of_order"] for c in clients),
        "closed_early": sum(1 for c in clients if c["closed_early"]),
        "unanswered_pings": sum(1 for c in live if not c["done"]),
        "expected": args.events * args.clients,
        "latencies": latencies,
        "produce_seconds": produced["seconds"],
        "server_cpu_seconds": server_cpu,
        "client_cpu_seconds": sum(r["cpu_seconds"] for r in reports),
        "ingest_p50_ms": produced["ingest_p50_ms"],
        "ingest_p95_ms": produced["ingest_p95_ms"],
        "not_stored": produced["not_stored"],
        "drain_seconds": max(r["drain_seconds"] for r in reports),
    }


def tally_delivery(
    clients: list[dict[str, Any]],
    start_seq: int,
    end_seq: int,
    on_received: Callable[[int, str, int, list[int]], None] | None = None,
) -> dict[str, int]:
    """For every connected client (``Client.summary()``) and every number in
    (``start_seq``, ``end_seq``] after its ``hello``: received, recovered by a resync (after
    a gap, or after the final ping: ``trailing_recovered``), or lost. ``on_received`` sees
    each received event (seq, kind, receive time in ns, question ids)."""
    delivered = recovered = trailing_recovered = lost = 0
    for c in clients:
        if c["hello_seq"] < 0:
            continue  # never connected: its events count as not delivered
        received = {seq: (kind, at, ids) for seq, kind, at, ids in c["events"]}
        for seq in range(max(start_seq, c["hello_seq"]) + 1, end_seq + 1):
            event = received.get(seq)
            if event is None:
                if seq <= c["resynced_upto"]:
                    recovered += 1
                    if seq > c["last_seq"]:
                        trailing_recovered += 1
                else:
                    lost += 1
                continue
            delivered += 1
            if on_received is not None:
                on_received(seq, *event)
    return {
        "delivered": delivered,
        "recovered": recovered,
        "trailing_recovered": trailing_recovered,
        "lost": lost,
    }


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def database_url_for(settings_dict: dict[str, Any]) -> str:
    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(str(settings_dict['NAME']), safe='')}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=10.0, help="questions per second")
    parser.add_argument("--drain", type=float, default=15.0, help="seconds to wait at the end")
    parser.add_argument(
        "--client-processes",
        type=int,
        default=4,
        help="processes the websocket clients are spread over (the server stays one process)",
    )
    parser.add_argument(
        "--ws-deflate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="permessage-deflate on the server's websockets (uvicorn's default: on; off "
        "as the README runs production and the demo: the frames are small)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... : this benchmark measures PostgreSQL")
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith(("redis://", "rediss://")):
        raise SystemExit(
            "set REDIS_URL=redis://127.0.0.1:6379/10 : this benchmark measures the Redis "
            "channel layer (the database number given is flushed)"
        )

    import django

    django.setup()
    from django.db import connection

    flush_redis(redis_url)
    # A name of its own, so a test run elsewhere on the machine is never clobbered.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"helpforce_fanout_{os.getpid()}"
    started = time.monotonic()
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server: subprocess.Popen[bytes] | None = None
    try:
        world = build_world(args.clients)
        connection.close()
        port = free_port()
        server = start_server(
            port, database_url_for(connection.settings_dict), redis_url, ws_deflate=args.ws_deflate
        )
        figures = bench(args, world, server, port)
    finally:
        if server is not None:
            stop_server(server)
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)
        flush_redis(redis_url)
    total_seconds = time.monotonic() - started

    latencies = figures.pop("latencies")
    ratio = (figures["delivered"] + figures["recovered"]) / figures["expected"]
    kb_per_connection = (figures["rss_after_kb"] - figures["rss_before_kb"]) / max(
        figures["connected"], 1
    )
    detail = {
        **figures,
        "delivered_only_ratio": round(figures["delivered"] / figures["expected"], 4),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=0.0), 1),
        "receipts": len(latencies),
        "produce_seconds": round(figures["produce_seconds"], 1),
        "server_cpu_seconds": round(figures["server_cpu_seconds"], 1),
        "client_cpu_seconds": round(figures["client_cpu_seconds"], 1),
        "ingest_p50_ms": round(figures["ingest_p50_ms"], 1),
        "ingest_p95_ms": round(figures["ingest_p95_ms"], 1),
        "drain_seconds": round(figures["drain_seconds"], 1),
        "total_seconds": round(total_seconds, 1),
        "ws_deflate": args.ws_deflate,
    }
    print(json.dumps(detail), file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "fanout",
                "clients": args.clients,
                "events": args.events,
                "delivered_ratio": round(ratio, 4),
                "p95_ms": round(percentile(latencies, 95), 1),
                "kb_per_connection": round(kb_per_connection, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
