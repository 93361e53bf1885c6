"""One subscription per group and process: the live pages' fan-out.

With thousands of volunteers on a brand's queue, each event goes to every socket. Through
channels' groups that is, per socket and per event, a queue put, a wake-up of the socket's
task, an ``asyncio.wait`` and a dispatch: with 2,500 sockets and about ten events a second,
the web processes delivered less than half of them in time (docs/benchmarks.md, Load). Here
a process subscribes to the group once (:class:`GroupHub`), receives each event once, and
keeps its frame; at most once per ``QUEUE_COALESCE_SECONDS`` (at once after a quiet spell,
else at the end of the window after its last write) it joins what it kept into one frame and
hands it to each of its sockets (:meth:`helpdesk.consumers.QueueConsumer.take`), which writes
it at once (:func:`start_now`). One timer and one joined text per process and window, not one
timer, one task and one join per socket: with 1,250 sockets a process, those were a third of
its work (docs/benchmarks.md, Load). A socket about to send anything else first writes what
the hub keeps and it has not had (:meth:`GroupHub.unwritten`), so a reply never overtakes an
event; the hub's later write skips what it already had (each socket counts the frames it has
had in ``hub_seen``).

A hub lives in one event loop (a uvicorn worker has one; tests make one per call), is made by
the first socket of its group and closed with the last.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from helpdesk.events import EVENTS_LAYER, frame_of

log = logging.getLogger(__name__)


# How many sockets a write is handed to before the loop may turn (a claim's message, a
# reply from the database): with 1,250 sockets a process, a write held the loop for tens of
# milliseconds at a time.
SOCKETS_PER_TURN = 100


class Listener(Protocol):
    # How many of the hub's frames the listener has had (or holds): frames are numbered
    # from 0 in the order the hub heard them.
    hub_seen: int

    def take(self, frames: list[str], first: int, texts: list[str]) -> None:
        """``frames`` (numbered from ``first``) as written now: ``texts`` is what to write,
        when the listener had none of them."""
        ...


def joined(frames: list[str]) -> list[str]:
    """What to write for ``frames`` (each already a JSON event): one ``events`` frame, or
    each its own frame when the window is off."""
    if len(frames) == 1 or settings.QUEUE_COALESCE_SECONDS <= 0:
        return frames
    # Each is already JSON text: joined, not decoded and encoded again.
    return ['{"type": "events", "events": [' + ", ".join(frames) + "]}"]


def start_now(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | None:
    """Run ``coro`` now, until it first waits; None when that finished it, else the task
    that finishes it. A socket's write finishes at once unless the socket's buffer is full
    (a client that does not read): then it waits in a task of its own, without holding up
    the hub's other sockets. A failure (a socket closed meanwhile, whose reconnect reloads)
    is logged and dropped. What Python 3.12's eager tasks do, without a task when none is
    needed."""
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return None
    except Exception:
        log.debug("could not write to a socket", exc_info=True)
        return None
    return asyncio.ensure_future(_finish(coro, waiting_on))


async def _finish(coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
    """Step ``coro`` on as a task would: it waits on ``waiting_on`` (a future, or None for
    a bare yield), then reads the outcome itself when sent ``None``."""
    try:
        while True:
            try:
                if waiting_on is None:
                    await asyncio.sleep(0)
                else:
                    await waiting_on
            except Exception:  # noqa: S110 - the coroutine reads the future's error itself
                pass
            try:
                waiting_on = coro.send(None)
            except StopIteration:
                return
    except asyncio.CancelledError:
        coro.close()
        raise
    except Exception:
        log.debug("could not write to a socket", exc_info=True)


class GroupHub:
    def __init__(self, group: str, loop: asyncio.AbstractEventLoop) -> None:
        self.group = group
        self.loop = loop
        self.listeners: set[Listener] = set()
        self.channel = ""
        self.ready: asyncio.Future[None] = loop.create_future()
        self.reader: asyncio.Task[None] | None = None
        self.closed = False
        # Frames heard and not yet written, the number of the first of them (frames are
        # numbered from 0 as heard), when the hub last wrote (the loop's clock) and the
        # timer of its next write.
        self.pending: list[str] = []
        self.written = 0
        self.last_write_at = float("-inf")
        self.timer: asyncio.TimerHandle | None = None
        # A write going through its sockets a share at a time (its frames' first number and
        # the frames), and whether another is due when it ends.
        self.handing: tuple[int, list[str]] | None = None
        self.delivery: asyncio.Task[None] | None = None
        self.write_after = False

    async def start(self) -> None:
        """Subscribe to the group and start reading it; ``ready`` says when (or why not)."""
        try:
            layer = get_channel_layer(EVENTS_LAYER)
            self.channel = await layer.new_channel()
            await layer.group_add(self.group, self.channel)
        except Exception as error:
            self.ready.set_exception(error)
            return
        self.ready.set_result(None)
        if self.closed:  # the last socket left while this subscribed
            await self.close()
            return
        self.reader = asyncio.create_task(self._read(layer))

    async def _read(self, layer: Any) -> None:
        while True:
            try:
                message = await layer.receive(self.channel)
            except Exception:  # a message the layer cannot read: the next one may be fine
                log.warning("could not read an event of %s", self.group, exc_info=True)
                await asyncio.sleep(0.1)
                continue
            try:
                if message.get("type") != "desk.event":
                    continue
                self.heard(frame_of(message))
            except Exception:
                log.warning("could not hand an event of %s on", self.group, exc_info=True)

    def heard(self, frame: str) -> None:
        """Keep ``frame`` for the next write: at once (the next turn of the loop, with what
        comes meanwhile) after a quiet spell, else at the end of the window."""
        self.pending.append(frame)
        if self.timer is None:
            window = settings.QUEUE_COALESCE_SECONDS
            wait = max(0.0, self.last_write_at + window - self.loop.time())
            self.timer = self.loop.call_later(wait, self.write)

    def upto(self) -> int:
        """The number the next frame heard will have."""
        return self.written + len(self.pending)

    def unwritten(self, since: int) -> list[str]:
        """The frames not yet handed to every socket (a write still going through its
        sockets, then those kept for the next), from number ``since`` on."""
        frames: list[str] = []
        if self.handing is not None:
            first, handed = self.handing
            frames += handed[max(0, since - first) :]
        return frames + self.pending[max(0, since - self.written) :]

    def write(self) -> None:
        """Hand what was kept to every socket, joined once; a write still going through
        its sockets goes first (this one follows when it ends)."""
        self.timer = None
        if self.delivery is not None:
            self.write_after = True
            return
        frames, self.pending = self.pending, []
        first = self.written
        self.written += len(frames)
        if not frames:
            return
        self.last_write_at = self.loop.time()
        texts = joined(frames)
        listeners = list(self.listeners)
        if len(listeners) <= SOCKETS_PER_TURN:
            self._hand(listeners, frames, first, texts)
            return
        self.handing = (first, frames)
        self.delivery = self.loop.create_task(self._deliver(listeners, frames, first, texts))

    async def _deliver(
        self, listeners: list[Listener], frames: list[str], first: int, texts: list[str]
    ) -> None:
        """:meth:`_hand` ``SOCKETS_PER_TURN`` sockets at a time, letting the loop turn in
        between: a claim that arrives meanwhile waits for one share, not for every socket."""
        try:
            for start in range(0, len(listeners), SOCKETS_PER_TURN):
                if start:
                    await asyncio.sleep(0)
                if self.closed:
                    return
                share = [
                    s for s in listeners[start : start + SOCKETS_PER_TURN] if s in self.listeners
                ]
                self._hand(share, frames, first, texts)
        finally:
            self.handing = None
            self.delivery = None
            if self.write_after and not self.closed:
                self.write_after = False
                self.write()

    def _hand(
        self, listeners: list[Listener], frames: list[str], first: int, texts: list[str]
    ) -> None:
        for listener in listeners:
            try:
                listener.take(frames, first, texts)
            except Exception:
                log.warning("could not hand an event of %s on", self.group, exc_info=True)

    async def close(self) -> None:
        self.closed = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.delivery is not None:
            self.delivery.cancel()
        if self.reader is not None:
            self.reader.cancel()
            self.reader = None
        if self.channel and self.ready.done():
            try:
                await get_channel_layer(EVENTS_LAYER).group_discard(self.group, self.channel)
            except Exception:
                log.warning("could not leave %s", self.group, exc_info=True)


# The hubs of each event loop, by group.
_hubs: dict[tuple[int, str], GroupHub] = {}


async def join(group: str, listener: Listener) -> GroupHub:
    """Have ``listener`` hear ``group``'s events from now on (subscribed when this returns);
    the hub it hears them from."""
    loop = asyncio.get_running_loop()
    key = (id(loop), group)
    hub = _hubs.get(key)
    if hub is None or hub.loop is not loop or hub.closed:
        hub = _hubs[key] = GroupHub(group, loop)
        listener.hub_seen = hub.upto()
        hub.listeners.add(listener)
        await hub.start()
    else:
        listener.hub_seen = hub.upto()  # what the hub kept before is not the listener's
        hub.listeners.add(listener)
    try:
        await asyncio.shield(hub.ready)
    except Exception:
        hub.listeners.discard(listener)
        if _hubs.get(key) is hub:
            del _hubs[key]
        raise
    return hub


async def leave(group: str, listener: Listener) -> None:
    """``listener`` hears ``group`` no more; the last one out closes the hub."""
    key = (id(asyncio.get_running_loop()), group)
    hub = _hubs.get(key)
    if hub is None:
        return
    hub.listeners.discard(listener)
    if not hub.listeners:
        del _hubs[key]
        await hub.close()


def listeners_of(group: str) -> int:
    """How many sockets of this event loop hear ``group`` (for tests)."""
    hub = _hubs.get((id(asyncio.get_running_loop()), group))
    return len(hub.listeners) if hub is not None else 0
