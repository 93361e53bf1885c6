"""The process's fan-out (``helpdesk.hub``): a write that finishes at once runs without a
task, one that has to wait (a socket whose buffer is full) waits alone, and a failed one is
dropped without troubling the others."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from helpdesk import hub


class Socket:
    """A listener as the hub sees one: writes what it is handed through ``send``, the
    server's send (here a list, or one that blocks until ``drained`` is set)."""

    def __init__(self, *, blocked: bool = False, broken: bool = False) -> None:
        self.hub_seen = 0
        self.written: list[str] = []
        self.blocked = blocked
        self.broken = broken
        self.drained = asyncio.Event()

    async def send(self, text: str) -> None:
        if self.broken:
            raise ConnectionResetError("the client went away")
        if self.blocked:
            await self.drained.wait()
        self.written.append(text)

    def take(self, frames: list[str], first: int, texts: list[str]) -> None:
        """As the live queue's socket takes them: less what it had (it caught up)."""
        skip = self.hub_seen - first
        if skip >= len(frames):
            return
        self.hub_seen = first + len(frames)
        for text in texts if skip <= 0 else hub.joined(frames[skip:]):
            hub.start_now(self.send(text))


def test_a_write_that_can_finish_at_once_is_done_before_start_now_returns() -> None:
    async def flow() -> tuple[Any, list[str]]:
        socket = Socket()
        return hub.start_now(socket.send("a")), socket.written

    task, written = asyncio.run(flow())

    assert task is None
    assert written == ["a"]


def test_a_write_that_must_wait_finishes_in_a_task_with_what_it_waited_for() -> None:
    async def flow() -> tuple[list[Any], bool]:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        got: list[Any] = []

        async def write() -> None:
            got.append(await future)
            await asyncio.sleep(0)  # a bare yield too
            got.append("done")

        task = hub.start_now(write())
        assert task is not None and got == []
        future.set_result("drained")
        await task
        return got, task.done()

    got, done = asyncio.run(flow())

    assert got == ["drained", "done"]
    assert done


def test_an_error_the_write_waited_for_reaches_the_write_and_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def flow() -> list[str]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        seen: list[str] = []

        async def write() -> None:
            try:
                await future
            except ConnectionResetError as error:
                seen.append(str(error))
                raise

        task = hub.start_now(write())
        assert task is not None
        future.set_exception(ConnectionResetError("gone"))
        await task  # does not raise: logged and dropped
        return seen

    with caplog.at_level(logging.DEBUG, logger="helpdesk.hub"):
        seen = asyncio.run(flow())

    assert seen == ["gone"]
    assert "could not write to a socket" in caplog.text


def test_a_socket_that_does_not_read_holds_up_no_other_and_gets_its_frames_in_order() -> None:
    # Given a hub with a window of 0 and three sockets: one whose buffer is full, one whose
    # client went away and one that reads
    async def flow() -> tuple[list[str], list[str], list[str], list[str]]:
        group = hub.GroupHub("queue.brand.test", asyncio.get_running_loop())
        stuck, gone, reading = Socket(blocked=True), Socket(broken=True), Socket()
        group.listeners.update({stuck, gone, reading})
        # When two events are written, one after the other
        group.heard('{"seq": 1}')
        group.write()
        group.heard('{"seq": 2}')
        group.write()
        read_before_drain = list(reading.written)
        stuck_before_drain = list(stuck.written)
        # and the full socket drains afterwards
        stuck.drained.set()
        for _ in range(5):
            await asyncio.sleep(0)
        return read_before_drain, stuck_before_drain, stuck.written, gone.written

    reading, stuck_before, stuck_after, gone = asyncio.run(flow())

    # Then the reading socket had both at once, the full one both in order once drained,
    # and the one whose client went away none (and no error reached the others)
    assert reading == ['{"seq": 1}', '{"seq": 2}']
    assert stuck_before == []
    assert stuck_after == ['{"seq": 1}', '{"seq": 2}']
    assert gone == []


def test_a_write_goes_a_share_of_sockets_at_a_time_in_order_and_skips_what_one_had(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a hub whose writes go to two sockets a turn of the loop, and five sockets
    monkeypatch.setattr(hub, "SOCKETS_PER_TURN", 2)

    async def flow() -> tuple[list[int], list[str], list[list[str]]]:
        group = hub.GroupHub("queue.brand.test", asyncio.get_running_loop())
        sockets = [Socket() for _ in range(5)]
        group.listeners.update(sockets)
        order = [s for s in group.listeners if isinstance(s, Socket)]  # the order it goes
        # When a write starts, and the loop turns once (the first share has it)
        group.heard('{"seq": 1}')
        group.write()
        await asyncio.sleep(0)
        had_after_one_turn = [len(s.written) for s in order]
        # and the last socket, about to send a reply of its own, takes what it has not had
        last = order[-1]
        caught_up = group.unwritten(last.hub_seen)
        last.hub_seen = group.upto()
        last.written += caught_up
        # and a second event is written while the first write is still going
        group.heard('{"seq": 2}')
        group.write()
        while group.delivery is not None:
            await asyncio.sleep(0)
        return had_after_one_turn, caught_up, [s.written for s in order]

    had_after_one_turn, caught_up, written = asyncio.run(flow())

    # Then the first turn reached two sockets only; the last socket had the first event from
    # its catch-up and not again; every socket has both, the first before the second
    assert had_after_one_turn == [1, 1, 0, 0, 0]
    assert caught_up == ['{"seq": 1}']
    assert written == [['{"seq": 1}', '{"seq": 2}']] * 5
