"""PostgreSQL and Redis on an ASGI process's event loop, for the live queue's claims.

A socket's claim used to run its check and its statement in a worker thread. Under load
(2,500 sockets, ``bench/load.py``) the thread was the wait: a worker thread that had
nothing to do took up to 0.7 s to start a no-op, and as long to hand its answer back,
because the event loop's thread, writing event frames to a thousand sockets, held the
interpreter between their turns. Here the claim's two round trips (the one-statement check
and the claim's statement) and its announcement are awaited on the loop itself, on
psycopg's asynchronous connections and redis-py's asynchronous client, so a claim waits
only for the loop's turn.

Each event loop that has live-queue sockets gets its own small pool of connections
(``DATABASE_POOL_SIZE``, else 4) and Redis client; they open with the loop's first socket
(:func:`join`) and close when its last one leaves (:func:`leave`). Each connection is made
ready for claims as it opens, before the first claim waits for it (:func:`_configure`).
PostgreSQL only (SQLite is one process and one writer: the thread is no wait there).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

DEFAULT_POOL_SIZE = 4


@dataclass
class _Resources:
    pool: Any  # psycopg_pool.AsyncConnectionPool
    redis: Any | None  # redis.asyncio.Redis, or None without REDIS_URL
    opening: asyncio.Future[None]  # the pool's opening, which every join awaits
    scripts: dict[str, Any] = field(default_factory=dict)
    users: int = 0
    batches: dict[str, _Batch] = field(default_factory=dict)


@dataclass
class _Batch:
    """Requests of one kind waiting on a loop, each with the future of its answer, and
    whether a run of them is going."""

    waiting: list[tuple[Any, asyncio.Future[Any]]] = field(default_factory=list)
    running: bool = False


# At most this many requests in one run (a statement's parameters grow with them).
BATCH_MAX = 200

# A loop's connections run every prepared statement on its generic plan, built once per
# connection, which :func:`_configure` builds before the pool hands the connection out. By
# default PostgreSQL plans a prepared statement afresh for each of its first five runs (the
# claim's took 3-12 ms to plan, against 0.4-0.6 ms to run on a plan it keeps) and then keeps
# the generic plan only if the custom ones did not look cheaper: the claim's and the re-read's
# settle on it after five, but the checks' never did (each ran planned afresh) and a warm-up
# run with ids no row has would make custom plans look cheap for good. After a restart every
# connection of every process planned inside its first claims: bench/route.py's slow first
# seconds (docs/benchmarks.md). Every statement here looks rows up by key, for which the
# generic plan is the plan PostgreSQL keeps anyway.
PLAN_CACHE_MODE = "force_generic_plan"

# The statements every new connection prepares and plans, by name: what builds one (its SQL
# and harmless parameters: a run changes nothing), and, once built, the statement.
_warm_ups: dict[str, Callable[[], tuple[str, Sequence[Any]]]] = {}
_warm_statements: dict[str, tuple[str, Sequence[Any]]] = {}


# By event loop (its id: a loop is its own process's, and lives as long as its sockets).
# Every change to it happens between two awaits, so the loop's sockets need no lock.
_resources: dict[int, _Resources] = {}


def available() -> bool:
    """Whether claims run on the loop: the database is PostgreSQL."""
    return connection.vendor == "postgresql"


def _connection_kwargs() -> dict[str, Any]:
    """psycopg's connection arguments, as Django's own connections get them (its adapters,
    so a timestamp reads as Django reads it), in autocommit, with cursors that send a
    statement's text as it is (:func:`native`), without Django's pool options."""
    from psycopg import AsyncRawCursor

    params = dict(connection.get_connection_params())
    params["cursor_factory"] = AsyncRawCursor
    params.pop("prepare_threshold", None)
    params["autocommit"] = True
    return params


# Each statement's text with PostgreSQL's own placeholders, by its text with psycopg's.
_natives: dict[str, str] = {}
# More distinct statements than the loop ever runs (a few, each built once per process):
# past it the conversion is not kept, so nothing grows without bound.
NATIVES_MAX = 256
_PERCENT = re.compile(r"%(.?)", re.DOTALL)


def native(sql: str) -> str:
    """``sql`` (``%s`` placeholders, ``%%`` for a percent sign, as psycopg and Django write
    them) with PostgreSQL's own: ``$1``, ``$2``... in order. Converted once per statement
    here, where psycopg would convert it on every run: it keeps its conversions only of
    statements under 4 kB, the claim's is longer, and parsing its text was a seventh of the
    web processes' samples in the sockets' messages (py-spy over ``bench/route.py``;
    docs/benchmarks.md, Routing and claims)."""
    converted = _natives.get(sql)
    if converted is not None:
        return converted
    numbers = itertools.count(1)

    def placeholder(match: re.Match[str]) -> str:
        if match[1] == "s":
            return f"${next(numbers)}"
        if match[1] == "%":
            return "%"
        raise ValueError(f"only %s and %% may follow a percent sign: {sql[:200]!r}")

    converted = _PERCENT.sub(placeholder, sql)
    if len(_natives) < NATIVES_MAX:
        _natives[sql] = converted
    return converted


async def join() -> None:
    """One more socket of this loop uses the loop's connections (opened on the first).
    Raises what opening them raised, and then counts the socket out again."""
    if _warm_statements.keys() != _warm_ups.keys():  # the process's first socket
        await sync_to_async(_build_statements, thread_sensitive=False)()
    key = id(asyncio.get_running_loop())
    resources = _resources.get(key)
    if resources is None:
        resources = _resources[key] = _new_resources()
    resources.users += 1
    try:
        await asyncio.shield(resources.opening)  # a cancelled socket leaves it opening
    except BaseException:
        await leave()
        raise


async def leave() -> None:
    """One socket fewer; the last one out closes the loop's connections."""
    resources = _resources.get(id(asyncio.get_running_loop()))
    if resources is None:
        return
    resources.users -= 1
    if resources.users > 0:
        return
    del _resources[id(asyncio.get_running_loop())]
    try:
        await asyncio.wait([resources.opening])  # done, opened or not, before it closes
        await resources.pool.close()
    finally:
        if resources.redis is not None:
            await resources.redis.aclose()


# An id no row has (a sequence starts at 1), within every id column's range: what the
# statements of :func:`prepare_on_connect` are built for, so that a run reads or changes
# nothing.
NO_ONE = -1


def prepare_on_connect(name: str, build: Callable[[], tuple[str, Sequence[Any]]]) -> None:
    """Have every new connection of a loop's pool prepare and plan ``build()``'s statement
    before it answers anything (:func:`_configure`). ``build`` returns the SQL and
    parameters a run of which changes nothing (for ids no row has: :data:`NO_ONE`); it runs
    once per process, in a worker thread (building may compile queries), when the first
    socket joins."""
    _warm_ups[name] = build


def _build_statements() -> None:
    for name, build in list(_warm_ups.items()):
        if name not in _warm_statements:
            _warm_statements[name] = build()


async def _configure(conn: Any) -> None:
    """A new connection of a loop's pool, made ready: every integer goes as a bigint (so a
    statement is one prepared statement whatever the size of its ids: psycopg otherwise
    sends a small id as a smallint and a large one as an integer, and each would be
    prepared and planned apart), prepared statements keep their generic plan
    (:data:`PLAN_CACHE_MODE`), and the statements of :func:`prepare_on_connect` are
    prepared and planned, by one run each."""
    from psycopg.types.numeric import Int8Dumper

    conn.adapters.register_dumper(int, Int8Dumper)
    await conn.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
    for sql, params in list(_warm_statements.values()):  # built by the first join
        await conn.execute(native(sql), params, prepare=True)


def _new_resources() -> _Resources:
    """The loop's pool (opening) and Redis client: made at once, with no round trip, so
    that the sockets joining while the pool opens all find and wait for this one."""
    from psycopg_pool import AsyncConnectionPool

    size = int(getattr(settings, "DATABASE_POOL_SIZE", 0) or DEFAULT_POOL_SIZE)
    pool = AsyncConnectionPool(
        kwargs=_connection_kwargs(),
        # Every connection opened, and planned, with the first socket (in the background),
        # not while claims wait for one: grown as claims waited, a connection a time, each
        # new one planning inside the claims that waited for it.
        min_size=max(size, 1),
        max_size=max(size, 1),
        timeout=10,
        open=False,
        configure=_configure,
        name="helpforce-on-loop",
    )
    redis = None
    if settings.REDIS_URL:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _Resources(pool, redis, asyncio.ensure_future(pool.open()))


def _current() -> _Resources:
    resources = _resources.get(id(asyncio.get_running_loop()))
    if resources is None:
        raise RuntimeError("on_loop.join() first: this loop has no connections")
    return resources


async def fetchone(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (``%s`` placeholders), run as a statement the connection
    prepared (the claim's takes the planner about ten times as long as it takes to run), in
    autocommit: one round trip."""
    async with _current().pool.connection() as conn:
        cursor = await conn.execute(native(sql), params, prepare=True)
        row = await cursor.fetchone()
    return tuple(row) if row is not None else None


async def fetchall(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``sql``, as :func:`fetchone` runs it."""
    async with _current().pool.connection() as conn:
        cursor = await conn.execute(native(sql), params, prepare=True)
        rows = await cursor.fetchall()
    return [tuple(row) for row in rows]


async def batched(name: str, request: Any, run: Callable[[list[Any]], Awaitable[list[Any]]]) -> Any:
    """``run``'s answer to ``request``, with every request of ``name`` waiting on this loop
    answered together: the first at the loop's next turn, with what came meanwhile, and
    those that come while a run is going in the next run, at most ``BATCH_MAX`` at a time.
    ``run`` takes the requests and returns their answers, in order. Sixty sockets of a
    process claiming in the same instant are one round trip and one statement this way,
    not sixty waiting for a pooled connection each (docs/benchmarks.md, Load)."""
    resources = _current()
    batch = resources.batches.setdefault(name, _Batch())
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    batch.waiting.append((request, answer))
    if not batch.running:
        batch.running = True
        asyncio.get_running_loop().create_task(_run_batches(batch, run))
    return await answer


async def _run_batches(batch: _Batch, run: Callable[[list[Any]], Awaitable[list[Any]]]) -> None:
    try:
        while batch.waiting:
            now, batch.waiting = batch.waiting[:BATCH_MAX], batch.waiting[BATCH_MAX:]
            try:
                answers = await run([request for request, _ in now])
            except Exception as error:  # each waiting request fails as its own would have
                for _, answer in now:
                    if not answer.done():
                        answer.set_exception(error)
                continue
            for (_, answer), value in zip(now, answers, strict=True):
                if not answer.done():  # not cancelled meanwhile (its socket closed)
                    answer.set_result(value)
    finally:
        batch.running = False


async def run_script(source: str, keys: list[str], args: list[Any]) -> Any:
    """A Lua script on Redis (loaded once per client), from the loop."""
    resources = _current()
    if resources.redis is None:
        raise RuntimeError("no REDIS_URL")
    script = resources.scripts.get(source)
    if script is None:
        script = resources.redis.register_script(source)
        resources.scripts[source] = script
    return await script(keys=keys, args=args)


def has_redis() -> bool:
    resources = _resources.get(id(asyncio.get_running_loop()))
    return resources is not None and resources.redis is not None
