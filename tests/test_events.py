"""Announcements are numbered per group, so a listener that sees a gap reloads."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from helpdesk.events import announce
from helpdesk.sequence import current_sequence


@pytest.mark.django_db(transaction=True)
def test_each_announcement_carries_the_next_number_of_its_group() -> None:
    layer = get_channel_layer()
    group = f"test.{uuid.uuid4().hex}"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    start = current_sequence(group)

    announce([group], "questions.queued", {"question_ids": [1]})
    announce([group], "question.claimed", {"question_id": 1})

    async def take_two() -> list[dict[str, object]]:
        # One event loop for both: channels-redis buffers per loop.
        return [await layer.receive(channel) for _ in range(2)]

    received = async_to_sync(take_two)()
    async_to_sync(layer.group_discard)(group, channel)
    # The layer may hand them over in either order; the numbers say which came first.
    assert sorted((int(str(m["seq"])), str(m["kind"])) for m in received) == [
        (start + 1, "questions.queued"),
        (start + 2, "question.claimed"),
    ]
    assert current_sequence(group) == start + 2


def test_a_payload_that_is_not_plain_json_fails_in_the_caller() -> None:
    with pytest.raises(TypeError):
        announce(["g"], "bad", {"when": object()})
