"""One subscription per group and process: the live pages' fan-out.

With thousands of volunteers on a brand's queue, each event goes to every socket. Through
channels' groups that is, per socket and per event, a queue put, a wake-up of the socket's
task, an ``asyncio.wait`` and a dispatch: with 2,500 sockets and about ten events a second,
the web processes delivered less than half of them in time (docs/benchmarks.md, Load). Here
a process subscribes to the group once (:class:`GroupHub`), receives each event once, and
hands its frame to each of its sockets (:meth:`helpdesk.consumers.QueueConsumer.hold`), which
appends it and writes what it holds at most once per ``QUEUE_COALESCE_SECONDS``.

A hub lives in one event loop (a uvicorn worker has one; tests make one per call), is made by
the first socket of its group and closed with the last.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from channels.layers import get_channel_layer

from helpdesk.events import EVENTS_LAYER, frame_of

log = logging.getLogger(__name__)


class Listener(Protocol):
    def hold(self, frame: str) -> None: ...


class GroupHub:
    def __init__(self, group: str, loop: asyncio.AbstractEventLoop) -> None:
        self.group = group
        self.loop = loop
        self.listeners: set[Listener] = set()
        self.channel = ""
        self.ready: asyncio.Future[None] = loop.create_future()
        self.reader: asyncio.Task[None] | None = None
        self.closed = False

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
                frame = frame_of(message)
                for listener in list(self.listeners):
                    listener.hold(frame)
            except Exception:
                log.warning("could not hand an event of %s on", self.group, exc_info=True)

    async def close(self) -> None:
        self.closed = True
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


async def join(group: str, listener: Listener) -> None:
    """Have ``listener`` hear ``group``'s events from now on (subscribed when this returns)."""
    loop = asyncio.get_running_loop()
    key = (id(loop), group)
    hub = _hubs.get(key)
    if hub is None or hub.loop is not loop or hub.closed:
        hub = _hubs[key] = GroupHub(group, loop)
        hub.listeners.add(listener)
        await hub.start()
    else:
        hub.listeners.add(listener)
    try:
        await asyncio.shield(hub.ready)
    except Exception:
        hub.listeners.discard(listener)
        if _hubs.get(key) is hub:
            del _hubs[key]
        raise


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
