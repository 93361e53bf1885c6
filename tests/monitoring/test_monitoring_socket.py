"""The monitoring page's websocket, through the whole ASGI application: who may listen,
that the brand's monitoring events arrive (and another brand's don't), and that the socket
takes no action but ``ping`` and ``resync``."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from prometheus_client import REGISTRY

from helpdesk.asgi import application
from helpdesk.events import announce, monitoring_group
from helpdesk.models import Brand
from tests.factories import make_brand
from tests.people import People
from tests.test_queue_consumer import (  # noqa: F401  (the fixture is used by name)
    _own_layer_and_counters,
    headers_for,
    refused_with,
    until,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(brand: Brand) -> People:
    return People(brand, other_brand=make_brand())


def connect(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/monitoring/", headers=headers)


@pytest.mark.parametrize("kind", ["certified", "trainee", "suspended", "no-desk-record"])
def test_volunteers_and_strangers_are_refused(people: People, kind: str) -> None:
    headers = headers_for(people.user(kind))

    async def flow() -> list[str]:
        comm = connect(headers)
        await comm.connect()
        try:
            return await refused_with(comm, 4403)
        finally:
            await comm.disconnect()

    assert async_to_sync(flow)() == ["not_monitor_role"]


@pytest.mark.parametrize("kind", ["agency", "supervisor", "admin"])
def test_the_brands_monitoring_events_arrive(people: People, brand: Brand, kind: str) -> None:
    headers = headers_for(people.user(kind))
    other = people.volunteer("other-brand-agency").brand_id

    async def flow() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        comm = connect(headers)
        await comm.connect()
        try:
            hello, _ = await until(comm, "hello")
            await _announce(monitoring_group(other), "question.queued")
            await _announce(monitoring_group(brand.pk), "reply.sent")
            event, _ = await until(comm, "event")
            await comm.send_json_to({"action": "claim", "question_id": 1})
            error, _ = await until(comm, "error")
            return hello, event, error
        finally:
            await comm.disconnect()

    hello, event, error = async_to_sync(flow)()
    assert hello["state_url"] == "/monitoring/live/"
    # Only this brand's event came, numbered after the hello.
    assert (event["kind"], event["seq"]) == ("reply.sent", hello["seq"] + 1)
    assert error["error"] == "Unknown action."


async def _announce(group: str, kind: str) -> None:
    await database_sync_to_async(announce)([group], kind, {"id": 1})


def test_a_person_whose_role_changed_is_closed_on_the_next_ping(
    people: People, brand: Brand
) -> None:
    agency = people.volunteer("agency")
    headers = headers_for(agency.user)

    async def flow() -> list[str]:
        comm = connect(headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            agency.role = "volunteer"
            await database_sync_to_async(agency.save)()
            await comm.send_json_to({"action": "ping"})
            return await refused_with(comm, 4403)
        finally:
            await comm.disconnect()

    assert async_to_sync(flow)() == ["not_monitor_role"]


def test_open_sockets_are_counted_for_metrics(people: People) -> None:
    headers = headers_for(people.user("agency"))

    def open_sockets() -> float:
        return REGISTRY.get_sample_value("helpforce_websocket_connections") or 0.0

    before = open_sockets()

    async def flow() -> tuple[float, float]:
        comm = connect(headers)
        await comm.connect()
        await until(comm, "hello")
        during = open_sockets()
        await comm.disconnect()
        return during, open_sockets()

    during, after = async_to_sync(flow)()
    assert (during, after) == (before + 1, before)
