"""Load: 2,500 volunteers on the production start, claiming at a human pace (issue 13).

The production start is the repository's ``Procfile`` run by honcho: uvicorn with
``WEB_WORKERS`` ASGI processes on one port, a Celery worker, one beat, on a throw-away
PostgreSQL database and a ``redis-server`` of the bench's own (a free loopback port). The
world is the demo brand (``manage.py migrate`` and ``seed_demo --no-history``: Northwind and
its two care accounts, topics and routing rules) plus N certified volunteers on shift who
speak English and French and have every topic of the brand (so any question is one they may
take), each with a signed-in session (``bench/crowd.py``, ``bench/fanout.py``).
``manage.py xsandbox --rate R`` posts R customer tweets a second mentioning the care
accounts; beat's polls ingest them, as in production.

N websocket clients on ``ws/queue/``, spread over ``--client-processes`` processes, follow
the queue as the page does (``bench/fanout.py``: a gap in the numbers sends ``resync``; at
the end every client pings, and a ``pong`` ahead of it resyncs). Each client remembers the
questions the events told it are queued (``*.queued`` adds, any other event about a question
removes) and acts after an exponential think time (mean ``--think`` s); every
``--burst-every`` s (in the middle of each interval), ``--burst-fraction`` of the clients
act at once. To act is to claim one of the ``--pick-from`` oldest questions it knows to be
queued (people take from the top of the list, so claims collide) with ``{"action":
"claim"}``. The claim latency is the time from sending it to receiving ``claim_result`` on
the same socket, so it includes waiting behind event frames. A client stops waiting after
``ASK_TIMEOUT_S`` and acts again later; a later answer still counts with its whole wait, and
claims never answered are counted apart (``claims_never_answered``, not in the percentiles).
A socket the server closes connects again after a second, as the page does; its new
``hello`` counts as a reload (a resync of everything before its number). A winner holds the
question for a uniform ``--hold`` s and then sends ``release``, which puts it back in the
queue (the bench does not compose replies: X's limit of 100 posts per 15 minutes per care
account would cap them at a few a minute anyway).

Delivery counts every event of the brand's queue group numbered between the start of the
claiming and its end: received, recovered by a resync (after a gap or the final ping), or
lost; ``delivered_ratio`` = (received + recovered) / (events x connected clients).

CPU and memory come from /proc, sampled every ``--sample`` s: each ASGI process (the
children of uvicorn's supervisor), the supervisor, the Celery worker and its pool, beat,
the PostgreSQL backends connected to the bench's database (summed; backends come and go),
Redis, and the client processes. ``cpu_percent`` is the ASGI processes' CPU time (user +
system) over the claiming, summed over the processes, divided by its wall time, in percent
of one core (200 = two cores busy); ``rss_mb`` is the ASGI processes' total resident memory
at the end of the claiming. The same figures per role and per process are in the detail line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres PYTHONPATH=$PWD \\
        .venv/bin/python bench/load.py --volunteers 2500 --duration 180

Needs PostgreSQL (``DATABASE_URL`` names the server; a database of the bench's own is
created and dropped), ``redis-server`` and ``honcho`` on the PATH or beside the Python.
Prints a detail line on stderr and its figures as one JSON line on stdout at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crowd import certified_crowd  # noqa: E402 - needs the project on the path
from bench.fanout import (  # noqa: E402
    Client,
    finish,
    open_socket,
    percentile,
    read_socket,
    signed_in_sessions,
    tally_delivery,
)
from bench.production import (  # noqa: E402
    Desk,
    Sampler,
    desk_roles,
    postgres_backends,
    production_start,
)

BRAND_SLUG = "northwind"  # seed_demo's brand, whose care accounts the sandbox serves
ASK_TIMEOUT_S = 60.0  # a client waits this long for an answer, then acts again later


def build_world(env: dict[str, str], volunteers: int) -> list[str]:
    """The demo brand plus ``volunteers`` certified people on shift; their session keys."""
    # seed_demo asks for --force with DEBUG off (a production start): the database is the
    # bench's own, made for this run.
    for command in (["migrate", "-v0"], ["seed_demo", "--no-history", "--force"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    from charter.gate import may_claim
    from charter.models import CharterVersion
    from helpdesk.models import Brand, Store
    from routing.models import Topic

    brand = Brand.objects.get(slug=BRAND_SLUG)
    version = CharterVersion.objects.filter(brand=brand).order_by("-number").first()
    # Every topic seed_demo gives the brand, as the demo's own volunteers have: any question
    # is one they may take (a crowd without the skills was refused every claim).
    topics = list(Topic.objects.filter(brand=brand).order_by("pk"))
    users = certified_crowd(
        brand,
        version,
        volunteers,
        prefix="load",
        stores=list(Store.objects.filter(brand=brand).order_by("pk")),
        topics=topics,
        skills_each=len(topics),
        languages=(["en", "fr"],),
    )
    decision = may_claim(users[0], brand.pk)
    if not decision.allowed:
        raise SystemExit(f"the crowd does not pass the gate: {decision.reasons}")
    return signed_in_sessions(users)


def set_traffic(desk: Desk, rate: float) -> None:
    request = urllib.request.Request(  # noqa: S310 - the sandbox's loopback http URL
        f"{desk.sandbox}/_sandbox/traffic",
        data=json.dumps({"rate": rate}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


# --- the volunteers (each group of them in a process of its own) ---------------------------


class EventLog:
    """A client's received events as two arrays (16 bytes each: thousands of events times
    thousands of clients), telling ``on_event`` each event's kind and question ids."""

    def __init__(self, on_event: Callable[[str, list[int]], None]) -> None:
        self.seqs = array("q")
        self.times = array("q")
        self.on_event = on_event

    def append(self, event: tuple[int, str, int, list[int]]) -> None:
        seq, kind, at, ids = event
        self.seqs.append(seq)
        self.times.append(at)
        self.on_event(kind, ids)

    def __iter__(self) -> Iterator[tuple[int, str, int, list[int]]]:
        for seq, at in zip(self.seqs, self.times, strict=True):
            yield seq, "", at, []


@dataclass
class Claims:
    latencies_ms: list[float] = field(default_factory=list)
    # The latencies of the claims a burst set off (also in latencies_ms), by burst (0 is
    # the first).
    burst_latencies_ms: dict[int, list[float]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    releases: int = 0
    release_errors: int = 0
    idle: int = 0  # acted, but knew of no queued question
    late: int = 0  # answered after the client stopped waiting (their latency counts)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


@dataclass
class Volunteer:
    """One client's queue as the events told it, and its claims."""

    client: Client
    claims: Claims
    ws: Any = None
    queued: dict[int, None] = field(default_factory=dict)  # oldest first
    waiting: tuple[str, int, int, asyncio.Future[dict[str, Any]]] | None = None
    # Claims that timed out on the client, by question: when each was sent.
    overdue: dict[int, int] = field(default_factory=dict)
    nudge: asyncio.Event = field(default_factory=asyncio.Event)
    burst: int = 0  # the burst that last nudged it (0 is the first)
    reconnects: int = 0
    handing_back: set[asyncio.Future[None]] = field(default_factory=set)

    def heard(self, kind: str, ids: list[int]) -> None:
        for question_id in ids:
            if kind.endswith(".queued"):
                self.queued[question_id] = None
            else:
                self.queued.pop(question_id, None)

    def answered(self, message: dict[str, Any], received: int) -> None:
        kind = message.get("type")
        question_id = message.get("question_id")
        waiting = self.waiting
        if waiting is not None and kind in ("claim_result", "release_result", "error"):
            _action, asked, sent, future = waiting
            if question_id == asked and not future.done():
                future.set_result({**message, "ms": (received - sent) / 1e6})
                return
        if kind == "claim_result" and isinstance(question_id, int) and question_id in self.overdue:
            # A late answer still counts, with its whole wait; a late win is handed back.
            self.claims.late += 1
            self.claims.latencies_ms.append((received - self.overdue.pop(question_id)) / 1e6)
            if message.get("won") and self.ws is not None:
                release = json.dumps({"action": "release", "question_id": question_id})
                self.handing_back.add(asyncio.ensure_future(self.ws.send(release)))
            return
        if kind in ("release_result", "error"):
            return  # the answer to a request the client stopped waiting for
        if kind != "refused":
            self.client.errors.append(f"unexpected: {str(message)[:200]}")

    async def ask(self, action: str, question_id: int) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        sent = time.time_ns()
        self.waiting = (action, question_id, sent, future)
        try:
            await self.ws.send(json.dumps({"action": action, "question_id": question_id}))
            return await asyncio.wait_for(future, timeout=ASK_TIMEOUT_S)
        except TimeoutError:
            if action == "claim":
                self.overdue[question_id] = sent
            return {"type": "timeout"}
        except Exception as error:  # the socket closed under the request
            return {"type": type(error).__name__}
        finally:
            self.waiting = None


async def act(
    volunteer: Volunteer,
    claims: Claims,
    rng: random.Random,
    options: dict[str, Any],
    in_burst: bool = False,
) -> None:
    """Claim one of the oldest questions the volunteer knows to be queued; hold a won
    question for a while, then hand it back. ``in_burst``: a burst set it off."""
    if volunteer.ws is None or volunteer.client.number not in options["sockets"]:
        return
    known = list(volunteer.queued)[: options["pick_from"]]
    if not known:
        claims.idle += 1
        return
    question_id = rng.choice(known)
    result = await volunteer.ask("claim", question_id)
    kind = result.get("type")
    if kind == "claim_result":
        claims.latencies_ms.append(result["ms"])
        if in_burst:
            claims.burst_latencies_ms.setdefault(volunteer.burst, []).append(result["ms"])
        claims.count("won" if result["won"] else str(result.get("reason") or "lost"))
    else:
        claims.count(str(kind))
    volunteer.queued.pop(question_id, None)
    if kind != "claim_result" or not result["won"]:
        return
    hold = rng.uniform(*options["hold"])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(options["stopping"].wait(), timeout=hold)
    released = await volunteer.ask("release", question_id)
    if released.get("type") == "release_result":
        claims.releases += 1
    else:
        claims.release_errors += 1


async def volunteer_loop(
    volunteer: Volunteer, claims: Claims, rng: random.Random, options: dict[str, Any]
) -> None:
    stopping: asyncio.Event = options["stopping"]
    await options["go"].wait()
    while not stopping.is_set():
        think = rng.expovariate(1.0 / options["think"])
        nudged = asyncio.ensure_future(volunteer.nudge.wait())
        stopped = asyncio.ensure_future(stopping.wait())
        await asyncio.wait([nudged, stopped], timeout=think, return_when=asyncio.FIRST_COMPLETED)
        in_burst = volunteer.nudge.is_set()
        nudged.cancel()
        stopped.cancel()
        if stopping.is_set():
            break
        volunteer.nudge.clear()
        await act(volunteer, claims, rng, options, in_burst)


async def bursts(volunteers: list[Volunteer], rng: random.Random, options: dict[str, Any]) -> int:
    """Every ``burst_every`` s (on the wall clock, so every process bursts together), in
    the middle of each interval, ``burst_fraction`` of this process's volunteers act at
    once. In the middle, so that no burst falls on the end of the claiming: there every
    winner still holding a question hands it back at once (the bench's own ending, about
    forty releases in the same instant), and a burst at its end (180 s of claiming, every
    30 s) was a burst beside that, partly cut off by the stop (docs/benchmarks.md, Load)."""
    stopping: asyncio.Event = options["stopping"]
    count = 0
    epoch = options["epoch"]
    while True:
        due = epoch + (count + 0.5) * options["burst_every"]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=max(0.0, due - time.time()))
        if stopping.is_set():
            return count
        size = math.ceil(options["burst_fraction"] * len(volunteers))
        for volunteer in rng.sample(volunteers, min(size, len(volunteers))):
            volunteer.burst = count
            volunteer.nudge.set()
        count += 1


async def loop_lag(stopping: asyncio.Event, every: float = 0.02) -> list[float]:
    """How late (ms) this client process's event loop ran a timer due every ``every`` s
    while the volunteers acted: an answer that reached this process waited about as long
    before it was read, on top of the server's time. (625 volunteers' frames are read here
    by one process, on the same two cores as the server; each volunteer's browser reads
    only its own.)"""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    while not stopping.is_set():
        due = loop.time() + every
        await asyncio.sleep(every)
        lags.append((loop.time() - due) * 1000)
    return lags


async def volunteer_group(
    conn: Any, url: str, origin: str, members: list[tuple[int, str]], options: dict[str, Any]
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    rng = random.Random(options["seed"] * 1000 + members[0][0])
    volunteers: dict[int, Volunteer] = {}
    claims = Claims()
    for number, _key in members:
        client = Client(number)
        volunteer = Volunteer(client, claims)
        client.events = EventLog(volunteer.heard)  # type: ignore[assignment]
        volunteers[number] = volunteer
    sockets: dict[int, Any] = {}
    closing = asyncio.Event()
    options = {**options, "sockets": sockets, "stopping": asyncio.Event(), "go": asyncio.Event()}
    connecting = asyncio.Semaphore(25)

    async def follow(volunteer: Volunteer, key: str) -> None:
        """As the page: connect; when the socket closes, connect again after a second; the
        new ``hello`` reloads the list, which covers every event before its number."""
        client = volunteer.client
        ws = await open_socket(client, url, origin, key, connecting)
        while ws is not None:
            volunteer.ws = ws
            await read_socket(client, ws, sockets, closing, volunteer.answered)
            volunteer.ws = None
            ws = None
            while ws is None and not closing.is_set():
                await asyncio.sleep(1.0)
                first_hello = client.hello_seq
                ws = await open_socket(client, url, origin, key, connecting)
                if ws is not None:
                    # The new hello reloaded the list: it covers everything before it.
                    volunteer.reconnects += 1
                    client.resynced_upto = max(client.resynced_upto, client.hello_seq)
                    client.hello_seq = first_hello
                if ws is not None and closing.is_set():
                    await ws.close()  # connected again after the end: nobody reads it
                    return

    readers = [asyncio.create_task(follow(volunteers[n], key)) for n, key in members]
    started = time.monotonic()
    while time.monotonic() - started < 180:
        if all(v.client.hello_seq >= 0 or v.client.errors for v in volunteers.values()):
            break
        await asyncio.sleep(0.2)
    conn.send(("connected", sum(1 for v in volunteers.values() if v.ws is not None)))

    command, epoch = await loop.run_in_executor(None, conn.recv)
    assert command == "start"
    options["epoch"] = epoch
    live = [v for v in volunteers.values() if v.ws is not None]
    actors = [asyncio.create_task(volunteer_loop(v, claims, rng, options)) for v in live]
    burster = asyncio.create_task(bursts(live, rng, options))
    lag = asyncio.create_task(loop_lag(options["stopping"]))
    options["go"].set()
    cpu_before = time.process_time()

    command, _ = await loop.run_in_executor(None, conn.recv)
    assert command == "stop"
    options["stopping"].set()
    await asyncio.gather(*actors, return_exceptions=True)
    burst_count = await burster
    lags = await lag
    conn.send(("stopped", None))

    command, (start_seq, end_seq, drain) = await loop.run_in_executor(None, conn.recv)
    assert command == "finish"
    cpu_seconds = time.process_time() - cpu_before
    clients = {n: v.client for n, v in volunteers.items()}
    drain_seconds = await finish(clients, sockets, closing, end_seq, drain)
    _, hung = await asyncio.wait(readers, timeout=30)
    for reader in hung:  # a socket still opening at the end
        reader.cancel()
    summaries = [c.summary() for c in clients.values()]
    tally = tally_delivery(summaries, start_seq, end_seq)
    errors = [e for c in clients.values() for e in c.errors]
    return {
        **tally,
        "connected": sum(1 for c in clients.values() if c.hello_seq >= 0),
        "clients_with_errors": sum(1 for c in clients.values() if c.errors),
        "errors": sorted({e[:120] for e in errors})[:5],
        "gaps": sum(c.gaps for c in clients.values()),
        "trailing_gaps": sum(c.trailing_gaps for c in clients.values()),
        "resyncs": sum(c.resyncs_sent for c in clients.values()),
        "frames": sum(c.frames for c in clients.values()),
        "frames_with_several_events": sum(c.frames_with_several for c in clients.values()),
        "duplicates": sum(c.duplicates for c in clients.values()),
        "out_of_order": sum(c.out_of_order for c in clients.values()),
        "reordered": sum(c.reordered for c in clients.values()),
        "closed_early": sum(1 for c in clients.values() if c.closed_early),
        "unanswered_pings": sum(
            1 for c in clients.values() if c.hello_seq >= 0 and not c.errors and not c.done
        ),
        "claim_ms": claims.latencies_ms,
        "burst_claim_ms": claims.burst_latencies_ms,
        "late_answers": claims.late,
        "never_answered": sum(len(v.overdue) for v in volunteers.values()),
        "reconnects": sum(v.reconnects for v in volunteers.values()),
        "outcomes": claims.outcomes,
        "releases": claims.releases,
        "release_errors": claims.release_errors,
        "idle": claims.idle,
        "bursts": burst_count,
        "loop_lag_ms": lags,
        "cpu_seconds": cpu_seconds,
        "drain_seconds": drain_seconds,
    }


def volunteer_process(
    conn: Any, url: str, origin: str, members: list[tuple[int, str]], options: dict[str, Any]
) -> None:
    """Entry point of a client process (spawned: no Django here, only websockets).

    Python's cyclic garbage collector is off here: the process keeps every event number its
    625 volunteers heard (millions, to count delivery), and each full collection walked them
    all with the loop stopped, so an answer waiting to be read waited too, and counted as
    the server's (client loops late by 28 ms at p95 and 126 ms at p99 with it on, 7-14 and
    40-79 ms off: docs/benchmarks.md, Load). The clients' memory is reported as before."""
    import gc

    gc.disable()
    try:
        import uvloop

        results = uvloop.run(volunteer_group(conn, url, origin, members, options))
    except ImportError:
        results = asyncio.run(volunteer_group(conn, url, origin, members, options))
    conn.send(("results", results))
    conn.close()


# --- the run -------------------------------------------------------------------------------


def expect(pipes: list[Any], what: str, timeout: float) -> list[Any]:
    answers = []
    for pipe in pipes:
        if not pipe.poll(timeout):
            raise SystemExit(f"a client process did not report {what}")
        kind, value = pipe.recv()
        if kind != what:
            raise SystemExit(f"a client process said {kind}, not {what}")
        answers.append(value)
    return answers


def bench(args: argparse.Namespace, desk: Desk) -> dict[str, Any]:
    import multiprocessing

    from helpdesk.events import brand_queue_group
    from helpdesk.models import Brand
    from helpdesk.sequence import current_sequence

    group = brand_queue_group(Brand.objects.get(slug=BRAND_SLUG).pk)
    url = desk.base.replace("http://", "ws://") + "/ws/queue/"
    numbered = list(enumerate(desk.session_keys))
    size = -(-len(numbered) // args.client_processes)
    shares = [numbered[i : i + size] for i in range(0, len(numbered), size)]
    options = {
        "think": args.think,
        "burst_every": args.burst_every,
        "burst_fraction": args.burst_fraction,
        "pick_from": args.pick_from,
        "hold": tuple(args.hold),
        "seed": args.seed,
    }
    context = multiprocessing.get_context("spawn")
    pipes: list[Any] = []
    workers: list[Any] = []
    connect_started = time.monotonic()
    for share in shares:
        ours, theirs = context.Pipe()
        worker = context.Process(
            target=volunteer_process, args=(theirs, url, desk.base, share, options)
        )
        worker.start()
        theirs.close()
        pipes.append(ours)
        workers.append(worker)
    try:
        connected = sum(expect(pipes, "connected", 240))
        connect_seconds = time.monotonic() - connect_started
        print(
            f"connected {connected}/{args.volunteers} in {connect_seconds:.1f} s",
            file=sys.stderr,
        )
        backends = postgres_backends(desk.database)
        redis_pid, client_pids = desk.redis.pid, [w.pid for w in workers]

        def roles() -> dict[str, list[int]]:
            return {
                **desk_roles(desk.honcho.pid),
                "postgres": backends(),
                "redis": [redis_pid],
                "clients": client_pids,
            }

        sampler = Sampler(roles, args.sample)
        start_seq = current_sequence(group)
        sampler.start()
        started = time.monotonic()
        for pipe in pipes:
            pipe.send(("start", time.time()))
        time.sleep(args.duration)
        for pipe in pipes:
            pipe.send(("stop", None))
        expect(pipes, "stopped", 400)  # in-flight claims and releases wait up to 120 s each
        usage = sampler.stop()
        claiming_seconds = time.monotonic() - started
        # The last releases and polls are announced; then the customers stop for the drain.
        time.sleep(2.0)
        set_traffic(desk, 0)
        end_seq = current_sequence(group)
        print(
            f"claimed for {claiming_seconds:.0f} s; queue seq {start_seq} -> {end_seq}",
            file=sys.stderr,
        )
        for pipe in pipes:
            pipe.send(("finish", (start_seq, end_seq, args.drain)))
        reports = expect(pipes, "results", args.drain + 180)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    outcomes: dict[str, int] = {}
    for report in reports:
        for outcome, count in report["outcomes"].items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count

    def total(key: str) -> int:
        return sum(int(r[key]) for r in reports)

    return {
        "connected": connected,
        "connect_seconds": round(connect_seconds, 1),
        "claiming_seconds": round(claiming_seconds, 1),
        "announced": end_seq - start_seq,
        **{
            key: total(key)
            for key in (
                "delivered",
                "recovered",
                "trailing_recovered",
                "lost",
                "gaps",
                "trailing_gaps",
                "resyncs",
                "frames",
                "frames_with_several_events",
                "duplicates",
                "out_of_order",
                "reordered",
                "closed_early",
                "unanswered_pings",
                "clients_with_errors",
                "releases",
                "release_errors",
                "idle",
                "late_answers",
                "never_answered",
                "reconnects",
            )
        },
        "expected": (end_seq - start_seq) * connected,
        "errors": sorted({e for r in reports for e in r["errors"]})[:5],
        "outcomes": outcomes,
        "claim_ms": [ms for r in reports for ms in r["claim_ms"]],
        "burst_claim_ms": _by_burst(r["burst_claim_ms"] for r in reports),
        "bursts": max(r["bursts"] for r in reports),
        "client_loop_lag_ms": [ms for r in reports for ms in r["loop_lag_ms"]],
        "client_cpu_seconds": round(sum(r["cpu_seconds"] for r in reports), 1),
        "drain_seconds": round(max(r["drain_seconds"] for r in reports), 1),
        "usage": usage,
    }


def _by_burst(parts: Iterable[dict[int, list[float]]]) -> dict[int, list[float]]:
    """Each burst's claim latencies, from every client process."""
    merged: dict[int, list[float]] = {}
    for part in parts:
        for burst, latencies in part.items():
            merged.setdefault(burst, []).extend(latencies)
    return dict(sorted(merged.items()))


def _without(values: list[float], some: list[float]) -> list[float]:
    """``values`` less one of each of ``some`` (a sub-multiset of them)."""
    left = Counter(some)
    kept = []
    for value in values:
        if left[value]:
            left[value] -= 1
        else:
            kept.append(value)
    return kept


def questions_stored() -> dict[str, int]:
    from django.db.models import Count

    from helpdesk.models import Question

    return {
        str(row["state"]): int(row["n"])
        for row in Question.objects.values("state").annotate(n=Count("pk"))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=2_500)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of claiming")
    parser.add_argument("--rate", type=float, default=10.0, help="customer tweets per second")
    parser.add_argument("--think", type=float, default=90.0, help="mean think time, s")
    parser.add_argument("--burst-every", type=float, default=30.0)
    parser.add_argument("--burst-fraction", type=float, default=0.05)
    parser.add_argument("--pick-from", type=int, default=5, help="claim among the N oldest")
    parser.add_argument("--hold", type=float, nargs=2, default=[3.0, 10.0], metavar=("MIN", "MAX"))
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at the end")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument(
        "--debug", action="store_true", help="run the desk with DEBUG=1 (not as in production)"
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=8,
        help="DATABASE_POOL_SIZE of the desk's processes, as docs/operations.md sets it "
        "(0: a connection per thread)",
    )
    parser.add_argument("--sample", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="helpforce-load-"))
    try:
        with production_start(
            tmp,
            lambda env: build_world(env, args.volunteers),
            web_workers=args.web_workers,
            worker_concurrency=args.worker_concurrency,
            sandbox_rate=args.rate,
            seed=args.seed,
            label="load",
            debug=args.debug,
            extra_env={"DATABASE_POOL_SIZE": str(args.pool_size)},
        ) as desk:
            figures = bench(args, desk)
            figures["autoanalyze"] = desk.autoanalyze.figures()
            stored = questions_stored()
            log_tail = (tmp / "honcho.log").read_text(errors="replace")[-400:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    latencies = figures.pop("claim_ms")
    by_burst = figures.pop("burst_claim_ms")
    in_bursts = [ms for burst in by_burst.values() for ms in burst]
    lags = figures.pop("client_loop_lag_ms")
    usage = figures.pop("usage")
    asgi = usage["asgi"]
    ratio = (figures["delivered"] + figures["recovered"]) / max(figures["expected"], 1)
    detail = {
        **figures,
        "delivered_only_ratio": round(figures["delivered"] / max(figures["expected"], 1), 4),
        "claims": len(latencies),
        "claim_p50_ms": round(percentile(latencies, 50), 1),
        "claim_p99_ms": round(percentile(latencies, 99), 1),
        "claim_max_ms": round(max(latencies, default=0.0), 1),
        # The claims a burst set off (every --burst-every s, a share of the volunteers at
        # once), and the others, apart: where the slow claims are.
        "claims_in_bursts": len(in_bursts),
        "claim_p50_ms_in_bursts": round(percentile(in_bursts, 50), 1) if in_bursts else None,
        "claim_p95_ms_in_bursts": round(percentile(in_bursts, 95), 1) if in_bursts else None,
        "claim_p95_ms_between_bursts": round(percentile(_without(latencies, in_bursts), 95), 1),
        # Each burst's claims apart (the first burst first): whether one burst made the tail.
        "claim_p50_ms_by_burst": [round(percentile(v, 50), 1) for v in by_burst.values()],
        "claim_p95_ms_by_burst": [round(percentile(v, 95), 1) for v in by_burst.values()],
        # How late the client processes' loops ran (loop_lag): the part of a claim's wait
        # spent in the bench's own clients, not the server.
        "client_loop_lag_p50_ms": round(percentile(lags, 50), 1) if lags else None,
        "client_loop_lag_p95_ms": round(percentile(lags, 95), 1) if lags else None,
        "client_loop_lag_p99_ms": round(percentile(lags, 99), 1) if lags else None,
        "debug": args.debug,
        "pool_size": args.pool_size,
        "questions": stored,
        "usage": usage,
        "total_seconds": round(time.monotonic() - started, 1),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(detail), file=sys.stderr)
    if figures["connected"] < args.volunteers:
        print(f"honcho's log ends: {log_tail}", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "load",
                "volunteers": figures["connected"],
                "delivered_ratio": round(ratio, 4),
                "claim_p95_ms": round(percentile(latencies, 95), 1),
                "rss_mb": asgi["rss_mb"],
                "cpu_percent": asgi["cpu_percent"],
                "asgi_processes": asgi["processes"],
                "events": figures["announced"],
                "lost": figures["lost"],
                "resyncs": figures["resyncs"],
                "frames": figures["frames"],
                "frames_with_several_events": figures["frames_with_several_events"],
                "out_of_order": figures["out_of_order"],
                "reordered": figures["reordered"],
                "reconnects": figures["reconnects"],
                "claims": len(latencies),
                "claim_p50_ms": detail["claim_p50_ms"],
                "claims_never_answered": figures["never_answered"],
                "won": figures["outcomes"].get("won", 0),
                "cpu_percent_by_role": {role: u["cpu_percent"] for role, u in usage.items()},
                "rss_mb_by_role": {role: u["rss_mb"] for role, u in usage.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
