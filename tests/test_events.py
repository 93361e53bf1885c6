"""Announcements are numbered per group and encoded once, so a listener that sees a gap
reloads and a process forwards the same frame to each of its sockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

import helpdesk.sequence
from helpdesk.events import (
    EVENTS_LAYER,
    announce,
    event_frame,
    frame_around_seq,
    pubsub_channels,
)
from helpdesk.sequence import current_sequence, next_sequence


@pytest.fixture(autouse=True)
def _own_counters(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    tag = uuid.uuid4().hex[:12]
    monkeypatch.setattr(helpdesk.sequence, "KEY_PREFIX", f"helpforce-test-{tag}:seq:")
    yield
    monkeypatch.setattr(helpdesk.sequence, "_counters", {})


@pytest.mark.django_db(transaction=True)
def test_each_announcement_carries_the_next_number_of_its_group_and_its_frame() -> None:
    layer = get_channel_layer(EVENTS_LAYER)
    group = f"test.{uuid.uuid4().hex}"
    start = current_sequence(group)

    async def listen() -> list[dict[str, Any]]:
        # Subscribed and received in one event loop: pub/sub keeps nothing for a listener
        # that is not there.
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(announce)([group], "questions.queued", {"question_ids": [1]})
            await sync_to_async(announce)([group], "question.claimed", {"question_id": 1})
            return [await layer.receive(channel) for _ in range(2)]
        finally:
            await layer.group_discard(group, channel)

    received = async_to_sync(listen)()

    # The numbers say which came first, whatever order the layer hands them over in.
    first, second = sorted(received, key=lambda m: int(m["seq"]))
    assert first == {
        "type": "desk.event",
        "kind": "questions.queued",
        "payload": {"question_ids": [1]},
        "seq": start + 1,
        "frame": json.dumps(
            {
                "type": "event",
                "kind": "questions.queued",
                "seq": start + 1,
                "payload": {"question_ids": [1]},
            }
        ),
    }
    assert (second["seq"], second["kind"]) == (start + 2, "question.claimed")
    assert json.loads(second["frame"]) == event_frame(second)
    assert current_sequence(group) == start + 2


@pytest.mark.django_db(transaction=True)
def test_each_group_of_an_announcement_gets_its_own_number() -> None:
    quiet, busy = f"test.{uuid.uuid4().hex}", f"test.{uuid.uuid4().hex}"
    starts = (current_sequence(quiet), current_sequence(busy))
    announce([busy], "question.claimed", {"question_id": 1})

    announce([quiet, busy], "question.queued", {"question_id": 2})

    assert (current_sequence(quiet), current_sequence(busy)) == (starts[0] + 1, starts[1] + 2)


@pytest.mark.redis
def test_a_counter_redis_lost_goes_on_above_every_number_it_gave() -> None:
    """Redis restarted (or flushed) loses the counters; numbering again from 1 could look
    like the next event to a listener that saw only a few, so a new counter starts from the
    clock: every listener sees a gap and reloads."""
    import helpdesk.sequence

    group = f"test.{uuid.uuid4().hex}"
    given = [next_sequence(group) for _ in range(5)]
    helpdesk.sequence._client().delete(helpdesk.sequence.KEY_PREFIX + group)

    after = next_sequence(group)

    assert given == list(range(given[0], given[0] + 5))
    assert after > given[-1] + 1


def test_a_payload_that_is_not_plain_json_fails_in_the_caller() -> None:
    with pytest.raises(TypeError):
        announce(["g"], "bad", {"when": object()})


@pytest.mark.parametrize(
    ("message", "frame"),
    [
        (
            {"kind": "question.queued", "seq": 3, "payload": {"question_id": 1}},
            {"type": "event", "kind": "question.queued", "seq": 3, "payload": {"question_id": 1}},
        ),
        (
            {"kind": "x", "payload": {"seq": 4}},
            {"type": "event", "kind": "x", "seq": 4, "payload": {"seq": 4}},
        ),
        (
            {"kind": 5, "seq": True, "payload": [1]},
            {"type": "event", "kind": "5", "seq": None, "payload": {}},
        ),
        ({"seq": "7"}, {"type": "event", "kind": "", "seq": None, "payload": {}}),
    ],
)
def test_an_event_frame_holds_only_well_typed_fields(
    message: dict[str, Any], frame: dict[str, Any]
) -> None:
    assert event_frame(message) == frame


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("question.claimed", {"question_id": 1, "holder": "Zoë <b>"}),
        ("questions.queued", {}),
        ('he said "hi"', {"ids": [], "nested": {"a": None}}),
    ],
)
def test_the_frame_cut_around_its_number_is_the_frame_of_the_event(
    kind: str, payload: dict[str, Any]
) -> None:
    before, after = frame_around_seq(kind, payload)

    frame = f"{before}{1765000000000042}{after}"

    assert frame == json.dumps(
        event_frame({"kind": kind, "seq": 1765000000000042, "payload": payload})
    )


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_events_announced_by_many_threads_at_once_are_heard_in_the_order_of_their_numbers() -> None:
    """Numbered and published in one step on Redis: whoever sends them, every process hears
    a group's events in number order (numbering and publishing in two steps let events
    cross, and every socket of the group saw a gap and reloaded)."""
    assert pubsub_channels(["g"]) is not None, "the events layer is not Redis pub/sub here"
    layer = get_channel_layer(EVENTS_LAYER)
    groups = [f"test.{uuid.uuid4().hex}", f"test.{uuid.uuid4().hex}"]
    threads, each = 4, 50

    def send_many(n: int) -> None:
        for i in range(each):
            announce(groups, "question.queued", {"question_id": n * 1000 + i})
        connections.close_all()

    async def listen() -> dict[str, list[dict[str, Any]]]:
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        try:
            await asyncio.gather(
                *(sync_to_async(send_many, thread_sensitive=False)(n) for n in range(threads))
            )
            return {
                group: [
                    await asyncio.wait_for(layer.receive(channel), 10)
                    for _ in range(threads * each)
                ]
                for group, channel in channels.items()
            }
        finally:
            for group, channel in channels.items():
                await layer.group_discard(group, channel)

    heard = async_to_sync(listen)()

    for group in groups:
        seqs = [m["seq"] for m in heard[group]]
        assert seqs == list(range(seqs[0], seqs[0] + threads * each))
        assert current_sequence(group) == seqs[-1]
        # The layer's own shape: the payload as sent, the frame as encoded once.
        assert {m["payload"]["question_id"] for m in heard[group]} == {
            n * 1000 + i for n in range(threads) for i in range(each)
        }
        assert all(json.loads(m["frame"]) == event_frame(m) for m in heard[group])
        assert all(m["type"] == "desk.event" for m in heard[group])
