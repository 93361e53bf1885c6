"""Routing and claims: decisions per second, and claims on the production start.

Builds a throw-away PostgreSQL database with one brand, 3,000 volunteers on shift (certified,
charter accepted: the gate passes), 100 stores in 10 regions, 40 topics (pool, offer and
sticky; some local) and 200 routing rules, then:

1. routing: for each of 1,000 queued questions, one decision = classification (when
   ``routing.classify`` exists) + the eligible volunteers + the placement decision (pool,
   offer to whom, sticky back to whom), each timed alone, against an index of the 3,000
   people built once (its build is timed separately, cold and warm);
2. the production start (``bench/production.py``: the ``Procfile`` under honcho, uvicorn
   with ``--web-workers`` ASGI processes, a Celery worker, beat, a Redis of its own) on that
   database, and 50 claimers, each its own volunteer with a signed-in session and its own
   keep-alive HTTP connection, posting the claim form (``POST /desk/questions/<id>/claim/``,
   as the page without JavaScript does) for 80 questions picked at random from 2,000 queued
   ones, all at once: every call is timed from sending to the whole answer; a redirect to
   the composer is a win. Double claims are counted from the answers and checked against
   the questions' holders and the ``question.claimed`` audit rows. The ASGI processes' and
   the PostgreSQL backends' CPU time over the run gives the CPU per claim;
   Then the same 50 claimers and pattern on 2,000 other questions, each over the queue
   page's websocket (``{"action": "claim"}`` and its ``claim_result``, as the page's script
   claims), every socket also hearing every claim's event: once flat out (each claimer's
   next claim as soon as the last is answered), once paced at ``--ws-rate`` claims a second
   in all (330 by default: the goal's 300 and a tenth more), each claim timed from when it
   was due;
3. the ceiling, in the same run: the same 50 claimers on 50 connections of their own
   (psycopg, autocommit) running the bare conditional update
   ``UPDATE helpdesk_question SET state = 'claimed', claimed_by_id = %s WHERE id = %s AND
   state = 'queued' RETURNING id`` on 2,000 other queued questions of the same table;
4. ``claim_question`` called in this process by 50 threads (each its own connection) on
   2,000 more: the claim without HTTP, Django's request handling or the ASGI server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres SECRET_KEY=x \
        PYTHONPATH=$PWD .venv/bin/python bench/route.py

Prints a detail line on stderr and its figures as one JSON line on stdout at the end; the
line's ``claims_per_s`` and ``claim_p95_ms`` are the paced websocket run's (how the live
queue claims), the flat-out and the HTTP form's runs beside them (:func:`headline`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crowd import certified_crowd, p95  # noqa: E402 - needs the project on the path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Each claim measure takes its questions from a pool of its own.
CLAIM_POOLS = ("http", "ws", "ws_paced", "ceiling", "in_process", "warm_up")


def build_world(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from charter.acceptance import publish_version
    from helpdesk.models import Brand, Conversation, Question, Source, Store
    from routing.models import (
        Placement,
        RoutingRule,
        RoutingSettings,
        RuleEffect,
        RuleKind,
        Topic,
    )

    rng = random.Random(7)
    now = timezone.now()
    brand = Brand.objects.create(name="Bench", slug="bench-route")
    RoutingSettings.objects.create(
        brand=brand, default_placement=Placement.POOL, max_open_claims=1_000
    )
    version = publish_version(
        brand.pk, title="Charter", body="Be kind.", is_material=True, actor=None
    )
    stores = Store.objects.bulk_create(
        Store(brand=brand, code=f"S{n:03d}", name=f"Store {n}", region=f"R{n % 10}")
        for n in range(100)
    )
    modes = [Placement.POOL, Placement.OFFER, Placement.STICKY, ""]
    topics = Topic.objects.bulk_create(
        Topic(
            brand=brand,
            slug=f"topic-{n}",
            name=f"Topic {n}",
            placement=modes[n % 4],
            is_local=n % 8 == 0,
        )
        for n in range(40)
    )
    RoutingRule.objects.bulk_create(
        RoutingRule(
            brand=brand,
            name=f"rule {n}",
            kind=[RuleKind.KEYWORD, RuleKind.PHRASE, RuleKind.HASHTAG, RuleKind.REGEX][n % 4],
            pattern=[f"word{n}", f"my order {n}", f"#tag{n}", rf"\border{n}\d+\b"][n % 4],
            effect=RuleEffect.TOPIC if n % 10 else RuleEffect.PRIORITY,
            topic=topics[n % 40],
            position=n,
        )
        for n in range(200)
    )
    users = certified_crowd(brand, version, args.people, stores=stores, topics=topics, rng=rng)
    n_questions = args.questions + args.claim_questions * len(CLAIM_POOLS)
    conversations = Conversation.objects.bulk_create(
        Conversation(brand=brand, x_conversation_id=str(10**15 + n)) for n in range(n_questions)
    )
    texts = ["where is my order 12?", "word3 refund please #tag7", "order55123 late", "hello"]
    questions = Question.objects.bulk_create(
        Question(
            brand=brand,
            conversation=conversations[n],
            tweet_id=str(10**17 + n),
            text=texts[n % len(texts)],
            # The claim pool is open to every claimer: no topic, no store, undetermined language
            lang=["en", "en", "fr", "es", "und"][n % 5] if n < args.questions else "und",
            source=Source.MENTIONS,
            state="queued",
            priority=n % 4,
            received_at=now - timedelta(seconds=n),
            topic=topics[n % 40] if n % 3 and n < args.questions else None,
            store=stores[n % len(stores)] if n % 2 and n < args.questions else None,
        )
        for n in range(n_questions)
    )
    pools = {
        name: [
            q.pk
            for q in questions[args.questions + n * args.claim_questions :][: args.claim_questions]
        ]
        for n, name in enumerate(CLAIM_POOLS)
    }
    return {"brand": brand, "users": users, "questions": questions, "pools": pools}


def bench_routing(world: dict[str, Any]) -> dict[str, Any]:
    from routing.eligibility import EligibilityIndex, forget_gate_answers
    from routing.placement import _Rotation, decide

    brand = world["brand"]
    questions = world["questions"][: world["n_routing"]]
    classify: Any = None
    try:
        from routing import classify as classify_module  # another engineer's module

        rules = classify_module.compile_rules(brand.pk)

        def classify(question: Any) -> Any:
            return classify_module.classify(question.text, lang_hint=question.lang, compiled=rules)
    except (ImportError, AttributeError):
        classify = None

    forget_gate_answers()
    started = time.perf_counter()
    index = EligibilityIndex.build(brand.pk)
    cold_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    index = EligibilityIndex.build(brand.pk)
    warm_ms = (time.perf_counter() - started) * 1000
    rotation = _Rotation(index, index_now())
    timings: list[float] = []
    modes: Counter[str] = Counter()
    sizes: list[int] = []
    started = time.perf_counter()
    for question in questions:
        t0 = time.perf_counter_ns()
        if classify is not None:
            classify(question)
        eligible = index.eligible_for(question)
        mode, _user = decide(question, index, rotation)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        modes[mode] += 1
        sizes.append(len(eligible))
    elapsed = time.perf_counter() - started
    return {
        "classified": classify is not None,
        "index_build_cold_ms": round(cold_ms, 1),
        "index_build_warm_ms": round(warm_ms, 1),
        "decisions": len(timings),
        "decisions_per_s": round(len(timings) / elapsed, 1),
        "route_p50_ms": round(statistics.median(timings), 3),
        "route_p95_ms": round(p95(timings), 3),
        "route_max_ms": round(max(timings), 3),
        "modes": dict(modes),
        "eligible_median": statistics.median(sizes),
    }


def index_now() -> Any:
    from django.utils import timezone

    return timezone.now()


def bench_claims(
    world: dict[str, Any], claimers: int, per_claimer: int, rate: float
) -> dict[str, Any]:
    """``claim_question`` in this process: ``claimers`` threads, each its own volunteer and
    connection. ``rate`` > 0: the claimers together aim at ``rate`` claims per second (each
    waits its turn, as people clicking do); 0: every claimer claims as fast as it can."""
    from django.db import connection

    from routing.claims import ClaimResult, claim_question

    question_ids = world["pools"]["in_process"]
    users = world["users"][:claimers]
    latencies: list[list[float]] = [[] for _ in users]
    results: list[list[ClaimResult]] = [[] for _ in users]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(users) + 1)

    def run(n: int) -> None:
        rng = random.Random(n)
        order = rng.sample(question_ids, per_claimer)
        interval = len(users) / rate if rate > 0 else 0.0
        try:
            barrier.wait()
            next_at = time.perf_counter() + rng.random() * interval
            for question_id in order:
                if interval:
                    pause = next_at - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    next_at += interval
                t0 = time.perf_counter_ns()
                result = claim_question(question_id, users[n])
                latencies[n].append((time.perf_counter_ns() - t0) / 1e6)
                results[n].append(result)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(users))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if errors:
        raise SystemExit(f"a claimer failed: {errors[0]!r}")
    flat = [ms for per in latencies for ms in per]
    winners: dict[int, list[int]] = {}
    for n, per in enumerate(results):
        for result in per:
            if result.won:
                winners.setdefault(result.question_id, []).append(users[n].pk)
    losers = [r for per in results for r in per if not r.won]
    return {
        "claimers": len(users),
        "claim_calls": len(flat),
        "claims_won": len(winners),
        "lost_told_holder": sum(1 for r in losers if r.holder_display),
        "lost": len(losers),
        "claims_per_s": round(len(flat) / elapsed, 1),
        "claim_p50_ms": round(statistics.median(flat), 2),
        "claim_p95_ms": round(p95(flat), 2),
        "double_claims": double_claims(winners, question_ids),
        "client_cpu_ms_per_claim": round(1000 * cpu / len(flat), 2),
        "seconds": round(elapsed, 2),
    }


def double_claims(winners: dict[int, list[int]], question_ids: list[int]) -> int:
    """Questions won by more than one claimer, or whose holder or ``question.claimed``
    audit rows disagree with the one winner."""
    from helpdesk.models import AuditEvent, Question

    holders = dict(Question.objects.filter(pk__in=list(winners)).values_list("pk", "claimed_by_id"))
    events = Counter(
        AuditEvent.objects.filter(
            kind="question.claimed", question_id__in=question_ids
        ).values_list("question_id", flat=True)
    )
    return sum(
        1
        for pk, who in winners.items()
        if len(who) > 1 or events[pk] != 1 or holders.get(pk) != who[0]
    ) + sum(1 for pk, count in events.items() if count > 1 and pk not in winners)


# --- on the production start -----------------------------------------------------------------


async def _http_claimer(
    port: int,
    session_key: str,
    order: list[int],
    start: asyncio.Event,
) -> tuple[list[float], list[tuple[int, bool]], list[str]]:
    """One volunteer posting the claim form for each of ``order`` on one keep-alive
    connection; returns the latencies (ms), (question, won) and any unexpected answers."""
    from django.utils.crypto import get_random_string

    csrf = get_random_string(32)
    base = f"http://127.0.0.1:{port}"
    body = f"csrfmiddlewaretoken={csrf}".encode()
    latencies: list[float] = []
    outcomes: list[tuple[int, bool]] = []
    odd: list[str] = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await start.wait()
    try:
        for question_id in order:
            request = (
                f"POST /desk/questions/{question_id}/claim/ HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Cookie: sessionid={session_key}; csrftoken={csrf}\r\n"
                f"Origin: {base}\r\nReferer: {base}/queue/\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            t0 = time.perf_counter_ns()
            writer.write(request)
            await writer.drain()
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            headers = {
                line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                for line in head.split("\r\n")[1:]
                if ":" in line
            }
            await reader.readexactly(int(headers.get("content-length", "0")))
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            status = head.split(" ", 2)[1]
            location = headers.get("location", "")
            if status != "302":
                odd.append(f"{status} for {question_id}")
            outcomes.append((question_id, location.endswith(f"/questions/{question_id}/compose/")))
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()
    return latencies, outcomes, odd


async def _http_claims(
    port: int, session_keys: list[str], orders: list[list[int]]
) -> tuple[float, list[Any]]:
    start = asyncio.Event()
    tasks = [
        asyncio.ensure_future(_http_claimer(port, key, order, start))
        for key, order in zip(session_keys, orders, strict=True)
    ]
    await asyncio.sleep(0.5)  # every connection open before the first claim
    started = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return time.perf_counter() - started, results


def bench_http_claims(
    desk: Any, world: dict[str, Any], claimers: int, per_claimer: int, sample: float
) -> dict[str, Any]:
    question_ids = world["pools"]["http"]
    users = world["users"][:claimers]
    orders = [random.Random(n).sample(question_ids, per_claimer) for n in range(len(users))]

    # Every claimer's connection (and the ASGI processes' database connections) claims a
    # few questions of their own first: a process's first requests import and prepare.
    warm_up = world["pools"]["warm_up"]
    asyncio.run(
        _http_claims(
            port := int(desk.base.rsplit(":", 1)[1]),
            desk.session_keys[:claimers],
            [warm_up[n::claimers][:4] for n in range(len(users))],
        )
    )
    sessions_before = _sessions(desk.database)
    elapsed, results, usage, seconds, client_cpu = _sampled(
        desk, sample, lambda: asyncio.run(_http_claims(port, desk.session_keys[:claimers], orders))
    )
    new_sessions = _sessions(desk.database) - sessions_before
    return {
        **_claim_figures(list(results), users, question_ids, elapsed, usage, seconds, client_cpu),
        "new_postgres_sessions": new_sessions,
    }


def _sampled(
    desk: Any, sample: float, run: Callable[[], tuple[float, Any]]
) -> tuple[float, Any, dict[str, Any], float, float]:
    """``run()`` (its wall time and results) with the desk's processes and its database's
    PostgreSQL backends sampled every ``sample`` s: the elapsed time, the results, the
    usage by role, the sampled seconds and this process's CPU seconds meanwhile."""
    from bench.production import Sampler, desk_roles, postgres_backends

    backends = postgres_backends(desk.database)

    def roles() -> dict[str, list[int]]:
        return {**desk_roles(desk.honcho.pid), "postgres": backends()}

    sampler = Sampler(roles, sample)
    sampler.start()
    time.sleep(0.2)
    cpu_started = time.process_time()
    elapsed, results = run()
    client_cpu = time.process_time() - cpu_started
    usage = sampler.stop()
    return elapsed, results, usage, sampler.stopped_at - sampler.started_at, client_cpu


def _claim_figures(
    results: list[tuple[list[float], list[tuple[int, bool]], list[str]]],
    users: list[Any],
    question_ids: list[int],
    elapsed: float,
    usage: dict[str, dict[str, Any]],
    seconds: float,
    client_cpu: float,
) -> dict[str, Any]:
    """One claim measure's figures from its claimers' (latencies, (question, won),
    unexpected answers), in the claimers' order, and the sampler's CPU over ``seconds``."""
    flat = [ms for latencies, _outcomes, _odd in results for ms in latencies]
    winners: dict[int, list[int]] = {}
    for n, (_latencies, outcomes, _odd) in enumerate(results):
        for question_id, won in outcomes:
            if won:
                winners.setdefault(question_id, []).append(users[n].pk)
    odd = [line for _latencies, _outcomes, lines in results for line in lines]
    calls = len(flat)
    cpu = {role: figures["cpu_percent"] for role, figures in usage.items()}

    def per_claim(role: str) -> float:
        return round(10 * float(cpu.get(role, 0.0)) * seconds / max(calls, 1), 2)

    return {
        "claimers": len(users),
        "claim_calls": calls,
        "claims_won": len(winners),
        "unexpected_answers": len(odd),
        "unexpected_sample": odd[:3],
        "claims_per_s": round(calls / elapsed, 1) if calls else 0.0,
        "claim_p50_ms": round(statistics.median(flat), 2) if flat else None,
        "claim_p95_ms": round(p95(flat), 2) if flat else None,
        "claim_max_ms": round(max(flat), 2) if flat else None,
        "double_claims": double_claims(winners, question_ids),
        "seconds": round(elapsed, 2),
        "cpu_percent_by_role": cpu,
        "asgi_cpu_ms_per_claim": per_claim("asgi"),
        "postgres_cpu_ms_per_claim": per_claim("postgres"),
        "client_cpu_ms_per_claim": round(1000 * client_cpu / max(calls, 1), 2),
    }


async def _ws_claimer(
    url: str,
    origin: str,
    session_key: str,
    order: list[int],
    start: asyncio.Event,
    interval: float = 0.0,
    offset: float = 0.0,
) -> tuple[list[float], list[tuple[int, bool]], list[str], int, list[float]]:
    """One volunteer claiming each of ``order`` over the queue page's websocket, as its
    script does (``{"action": "claim"}``, then the ``claim_result``); the other events the
    socket hears meanwhile (every claimer's claims) are read and counted. ``interval`` > 0:
    a claim every ``interval`` s from ``offset`` s after the start, each timed from when it
    was due (a claimer still waiting on the last answer sends late, and that wait counts);
    0: the next claim as soon as the last is answered. Returns the latencies (ms),
    (question, won), any unexpected answers, the events heard and when each claim was due
    (s after the start, to show where in the run the slow ones were)."""
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    latencies: list[float] = []
    outcomes: list[tuple[int, bool]] = []
    odd: list[str] = []
    heard = 0
    due_at: list[float] = []
    async with connect(
        url,
        origin=Origin(origin),
        additional_headers={"Cookie": f"sessionid={session_key}"},
        ping_interval=None,
        max_queue=None,
        open_timeout=30,
    ) as ws:
        first = json.loads(await ws.recv())
        if first.get("type") != "hello":
            return [], [], [f"first message: {str(first)[:200]}"], 0, []
        await start.wait()
        started = time.perf_counter()
        due = started + offset
        for question_id in order:
            if interval:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                t0 = int(due * 1e9)
                due += interval
            else:
                t0 = time.perf_counter_ns()
            due_at.append(t0 / 1e9 - started)
            await ws.send(json.dumps({"action": "claim", "question_id": question_id}))
            while True:
                message = json.loads(await ws.recv())
                kind = message.get("type")
                if kind == "claim_result" and message.get("question_id") == question_id:
                    break
                if kind == "event":
                    heard += 1
                elif kind == "events":  # events close together, in one frame
                    heard += len(message.get("events") or [])
                else:
                    odd.append(f"{kind} for {question_id}: {str(message)[:120]}")
                    if kind in ("error", "refused"):
                        break
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            outcomes.append((question_id, bool(message.get("won"))))
    return latencies, outcomes, odd, heard, due_at


async def _ws_claims(
    url: str, origin: str, session_keys: list[str], orders: list[list[int]], rate: float
) -> tuple[float, list[Any]]:
    start = asyncio.Event()
    interval = len(session_keys) / rate if rate > 0 else 0.0
    tasks = [
        asyncio.ensure_future(
            _ws_claimer(url, origin, key, order, start, interval, interval * n / len(orders))
        )
        for n, (key, order) in enumerate(zip(session_keys, orders, strict=True))
    ]
    await asyncio.sleep(2.0)  # every socket open and greeted before the first claim
    started = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return time.perf_counter() - started, results


def bench_ws_claims(
    desk: Any,
    world: dict[str, Any],
    claimers: int,
    per_claimer: int,
    sample: float,
    rate: float = 0.0,
) -> dict[str, Any]:
    """The same claimers and pattern as :func:`bench_http_claims`, each on the queue
    page's websocket instead of a keep-alive HTTP connection; with ``rate`` > 0 the
    claimers together send ``rate`` claims a second, evenly spread (on a pool of their
    own), instead of each sending its next claim once the last is answered."""
    question_ids = world["pools"]["ws_paced" if rate > 0 else "ws"]
    users = world["users"][:claimers]
    orders = [random.Random(n).sample(question_ids, per_claimer) for n in range(len(users))]
    url = desk.base.replace("http://", "ws://") + "/ws/queue/"
    elapsed, results, usage, seconds, client_cpu = _sampled(
        desk,
        sample,
        lambda: asyncio.run(_ws_claims(url, desk.base, desk.session_keys[:claimers], orders, rate)),
    )
    return {
        **_claim_figures(
            [(latencies, outcomes, odd) for latencies, outcomes, odd, _heard, _due in results],
            users,
            question_ids,
            elapsed,
            usage,
            seconds,
            client_cpu,
        ),
        "aimed_claims_per_s": rate or None,
        "events_heard": sum(heard for *_rest, heard, _due in results),
        "p95_ms_by_second": _by_second(
            [
                (due, ms)
                for latencies, *_rest, due_at in results
                for due, ms in zip(due_at, latencies, strict=True)
            ]
        ),
    }


def _by_second(timed: list[tuple[float, float]]) -> list[list[float]]:
    """[second of the run, claims due in it, their p95 (ms)] for each second: whether the
    slow claims are spread over the run or come together (its start, a stall)."""
    seconds: dict[int, list[float]] = {}
    for due, ms in timed:
        seconds.setdefault(int(due), []).append(ms)
    return [[second, len(ms), round(p95(ms), 1)] for second, ms in sorted(seconds.items())]


def _sessions(database: str) -> int:
    """How many sessions PostgreSQL has opened on ``database`` so far (the sampler's
    included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [database])
        return int(cursor.fetchone()[0])


async def _ceiling(
    database_url: str, user_ids: list[int], orders: list[list[int]]
) -> tuple[float, list[list[float]], list[list[int]]]:
    import psycopg

    connections = [
        await psycopg.AsyncConnection.connect(database_url, autocommit=True) for _ in user_ids
    ]
    start = asyncio.Event()

    async def claimer(n: int) -> tuple[list[float], list[int]]:
        latencies: list[float] = []
        won: list[int] = []
        await start.wait()
        for question_id in orders[n]:
            t0 = time.perf_counter_ns()
            cursor = await connections[n].execute(
                "UPDATE helpdesk_question SET state = 'claimed', claimed_by_id = %s "
                "WHERE id = %s AND state = 'queued' RETURNING id",
                (user_ids[n], question_id),
            )
            row = await cursor.fetchone()
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            if row is not None:
                won.append(question_id)
        return latencies, won

    try:
        tasks = [asyncio.ensure_future(claimer(n)) for n in range(len(user_ids))]
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        start.set()
        results = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()
    return elapsed, [r[0] for r in results], [r[1] for r in results]


def bench_ceiling(
    database_url: str, world: dict[str, Any], claimers: int, per_claimer: int
) -> dict[str, Any]:
    """The raw conditional update, with the claims' concurrency and pattern."""
    question_ids = world["pools"]["ceiling"]
    users = world["users"][:claimers]
    orders = [random.Random(n).sample(question_ids, per_claimer) for n in range(len(users))]
    elapsed, latencies, won = asyncio.run(_ceiling(database_url, [u.pk for u in users], orders))
    flat = [ms for per in latencies for ms in per]
    wins = Counter(pk for per in won for pk in per)
    return {
        "claim_calls": len(flat),
        "claims_won": len(wins),
        "claims_per_s": round(len(flat) / elapsed, 1),
        "claim_p50_ms": round(statistics.median(flat), 2),
        "claim_p95_ms": round(p95(flat), 2),
        "double_claims": sum(1 for count in wins.values() if count > 1),
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=3_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--claim-questions", type=int, default=2_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--per-claimer", type=int, default=80)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="claims/s the in-process claimers aim at; 0: flat out",
    )
    parser.add_argument(
        "--ws-rate",
        type=float,
        default=330.0,
        help="claims/s the websocket claimers aim at in the paced run (the goal's 300, and "
        "a tenth more: the run's first and last moments count in its rate)",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--sample", type=float, default=1.0, help="seconds between samples")
    parser.add_argument("--debug", action="store_true", help="run the desk with DEBUG=1")
    parser.add_argument(
        "--pool-size",
        type=int,
        default=8,
        help="DATABASE_POOL_SIZE of the desk's processes (0: a connection per thread)",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... : this benchmark measures PostgreSQL")

    from bench.fanout import signed_in_sessions
    from bench.production import production_start

    figures: dict[str, Any] = {}

    def prepare(env: dict[str, str]) -> list[str]:
        import subprocess

        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        world = build_world(args)
        world["n_routing"] = args.questions
        figures["world"] = world
        figures["routing"] = bench_routing(world)
        return signed_in_sessions(world["users"][: args.claimers])

    tmp = Path(tempfile.mkdtemp(prefix="helpforce-route-"))
    try:
        with production_start(
            tmp,
            prepare,
            web_workers=args.web_workers,
            worker_concurrency=args.worker_concurrency,
            label="route",
            debug=args.debug,
            extra_env={"DATABASE_POOL_SIZE": str(args.pool_size)},
        ) as desk:
            world = figures["world"]
            ceiling = bench_ceiling(
                desk.env["DATABASE_URL"], world, args.claimers, args.per_claimer
            )
            http = bench_http_claims(desk, world, args.claimers, args.per_claimer, args.sample)
            ws = bench_ws_claims(desk, world, args.claimers, args.per_claimer, args.sample)
            ws_paced = bench_ws_claims(
                desk, world, args.claimers, args.per_claimer, args.sample, args.ws_rate
            )
            in_process = bench_claims(world, args.claimers, args.per_claimer, args.rate)
            autoanalyze = desk.autoanalyze.figures()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    routing = figures["routing"]
    print(
        json.dumps(
            {
                "routing": routing,
                "http": http,
                "ws": ws,
                "ws_paced": ws_paced,
                "ceiling": ceiling,
                "in_process": in_process,
                "web_workers": args.web_workers,
                "debug": args.debug,
                "pool_size": args.pool_size,
                "autoanalyze": autoanalyze,
                "load_average": os.getloadavg(),
            }
        ),
        file=sys.stderr,
    )
    print(json.dumps(headline(routing, http, ws, ws_paced, ceiling, in_process)))


def headline(
    routing: dict[str, Any],
    http: dict[str, Any],
    ws: dict[str, Any],
    ws_paced: dict[str, Any],
    ceiling: dict[str, Any],
    in_process: dict[str, Any],
) -> dict[str, Any]:
    """The JSON line. ``claims_per_s`` and ``claim_p95_ms`` are the live queue's claims (over
    its websocket, as the page's script claims) at the rate the run aimed at (``--ws-rate``,
    at or above the goal's 300 a second), each timed from when it was due; the same 50
    claimers' other measures are beside them under their own names: flat out over the
    websocket (``ws_flat_*``), through the claim form of the page without JavaScript
    (``http_*``), and ``claim_question`` called in this process (``in_process_*``).
    ``double_claims`` counts every measure's."""
    return {
        "bench": "route",
        "route_p95_ms": routing["route_p95_ms"],
        "claimers": ws_paced["claimers"],
        "claim_path": "websocket",
        "aimed_claims_per_s": ws_paced["aimed_claims_per_s"],
        "claims_per_s": ws_paced["claims_per_s"],
        "claim_p95_ms": ws_paced["claim_p95_ms"],
        "double_claims": sum(
            run["double_claims"] for run in (ws_paced, ws, http, in_process, ceiling)
        ),
        "ceiling_claims_per_s": ceiling["claims_per_s"],
        "ceiling_p95_ms": ceiling["claim_p95_ms"],
        "statements_per_claim": 1,
        "ws_flat_claims_per_s": ws["claims_per_s"],
        "ws_flat_claim_p95_ms": ws["claim_p95_ms"],
        "ws_asgi_cpu_ms_per_claim": ws["asgi_cpu_ms_per_claim"],
        "ws_postgres_cpu_ms_per_claim": ws["postgres_cpu_ms_per_claim"],
        "http_claims_per_s": http["claims_per_s"],
        "http_claim_p95_ms": http["claim_p95_ms"],
        "http_asgi_cpu_ms_per_claim": http["asgi_cpu_ms_per_claim"],
        "http_postgres_cpu_ms_per_claim": http["postgres_cpu_ms_per_claim"],
        "in_process_claims_per_s": in_process["claims_per_s"],
        "in_process_p95_ms": in_process["claim_p95_ms"],
    }


if __name__ == "__main__":
    main()
