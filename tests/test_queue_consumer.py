"""The live queue's websocket, through the whole ASGI application (origin check, session,
routing): refusals, hello and event numbers, resync, claims, re-checks, bad input."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import channels.consumer
import psycopg
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

import helpdesk.consumers
import helpdesk.sequence
import routing.claims
from charter.models import Level, Standing
from charter.standing import suspend
from helpdesk import hub, on_loop
from helpdesk.asgi import application
from helpdesk.consumers import in_db_thread
from helpdesk.events import (
    EVENTS_LAYER,
    announce,
    brand_queue_group,
    monitoring_group,
    pubsub_channels,
)
from helpdesk.models import AuditEvent, Brand, Question, Role, Volunteer
from helpdesk.moves import move_question
from helpdesk.sequence import next_sequence
from helpdesk.states import QuestionState
from routing.claims import claim_question, release_question
from tests.factories import make_brand, make_volunteer, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


@pytest.fixture(autouse=True)
def _own_layer_and_counters(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh channel layer and sequence keys of our own, so that other test runs on the
    same Redis cannot reach these sockets (their brands have the same ids)."""
    tag = uuid.uuid4().hex[:12]
    monkeypatch.setattr(helpdesk.sequence, "KEY_PREFIX", f"helpforce-test-{tag}:seq:")
    if settings.REDIS_URL:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"hftest{tag}"},
            },
            EVENTS_LAYER: {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"hftest{tag}."},
            },
        }
    else:
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
            EVENTS_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        }
    yield
    monkeypatch.setattr(helpdesk.sequence, "_counters", {})


@pytest.fixture
def desk(brand: Brand) -> Brand:
    publish_charter(brand)
    return brand


def headers_for(
    user: User | None, origin: bytes = b"http://testserver"
) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", origin)]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


def session_key_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The session key in the cookie of :func:`headers_for`."""
    return dict(headers)[b"cookie"].decode().split("=", 1)[1]


def communicator(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/queue/", headers=headers)


async def until(comm: WebsocketCommunicator, kind: str) -> tuple[dict[str, Any], list[Any]]:
    """The next message of ``type`` ``kind``, and what came before it."""
    before: list[Any] = []
    while True:
        message = await comm.receive_json_from(timeout=TIMEOUT)
        if message["type"] == kind:
            return message, before
        before.append(message)


async def checked_once(comm: WebsocketCommunicator) -> None:
    """Connect, and pass the socket's first full check (a ping answered)."""
    await comm.connect()
    await until(comm, "hello")
    await comm.send_json_to({"action": "ping"})
    await until(comm, "pong")


async def refused_with(comm: WebsocketCommunicator, code: int) -> list[str]:
    """Reads the final ``refused`` message and the close; returns the reason codes. The
    socket follows the brand's queue: events of other sockets' claims may reach it first (a
    clean-clone CI run saw the three winners' ``events`` ahead of the refusal), and nothing
    else may."""
    message = await comm.receive_json_from(timeout=TIMEOUT)
    while message["type"] in ("event", "events"):
        message = await comm.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "refused"
    closing = await comm.receive_output(timeout=TIMEOUT)
    assert closing == {"type": "websocket.close", "code": code}
    return [reason["code"] for reason in message["reasons"]]


def send_numbered(brand_id: int, kind: str, payload: dict[str, Any]) -> int:
    """A numbered event as a sender without the encoded ``frame`` sends it (an older
    process during a deploy): group_send with the group's next number."""
    group = brand_queue_group(brand_id)
    seq = next_sequence(group)
    layer = get_channel_layer(EVENTS_LAYER)
    async_to_sync(layer.group_send)(
        group, {"type": "desk.event", "kind": kind, "payload": payload, "seq": seq}
    )
    return seq


# refusals


def refused_on_connect(user: Any, code: int) -> list[str]:
    """Connect as ``user`` and return the reason codes of the refusal closed with ``code``."""
    headers = headers_for(user)

    async def flow() -> list[str]:
        comm = communicator(headers)
        await comm.connect()
        try:
            return await refused_with(comm, code)
        finally:
            await comm.disconnect()

    return async_to_sync(flow)()


def test_anonymous_is_refused_with_4401() -> None:
    h1 = headers_for(None)

    async def flow() -> list[str]:
        comm = communicator(h1)
        connected, _ = await comm.connect()
        assert connected
        try:
            return await refused_with(comm, 4401)
        finally:
            await comm.disconnect()

    assert async_to_sync(flow)() == ["not_signed_in"]


@pytest.mark.parametrize("role", [Role.AGENCY])
def test_a_role_outside_the_desk_is_refused_with_4403(desk: Brand, role: str) -> None:
    agency = make_volunteer(desk, role=role)

    assert refused_on_connect(agency.user, 4403) == ["not_desk_role"]


def test_a_person_without_a_programme_is_refused(desk: Brand) -> None:
    user = User.objects.create_user("outsider", password="correct horse battery")
    assert refused_on_connect(user, 4403) == ["not_desk_role"]


@pytest.mark.parametrize(
    ("state", "codes"),
    [
        ("enrolled", ["training_incomplete"]),
        ("suspended", ["suspended"]),
        ("lapsed-charter", ["charter_not_accepted"]),
        ("expired-certification", ["training_expired"]),
    ],
)
def test_the_gate_refuses_with_its_reasons(desk: Brand, state: str, codes: list[str]) -> None:
    publish_charter(desk)  # a second material version: "lapsed-charter" accepted the first
    volunteer = member(desk, state)

    assert refused_on_connect(volunteer.user, 4403) == codes


def test_a_foreign_origin_is_refused_before_anything_is_sent(desk: Brand) -> None:
    volunteer = member(desk)

    h1 = headers_for(volunteer.user, origin=b"https://evil.example")

    async def flow() -> tuple[bool, int | None]:
        comm = communicator(h1)
        connected, code = await comm.connect()
        await comm.disconnect()
        return connected, code

    connected, _code = async_to_sync(flow)()
    assert connected is False


def test_a_missing_origin_is_refused(desk: Brand) -> None:
    volunteer = member(desk)
    headers = [h for h in headers_for(volunteer.user) if h[0] != b"origin"]

    async def flow() -> bool:
        comm = WebsocketCommunicator(application, "/ws/queue/", headers=headers)
        connected, _ = await comm.connect()
        await comm.disconnect()
        return bool(connected)

    assert async_to_sync(flow)() is False


# hello, events and their numbers


def test_hello_carries_the_current_number_and_events_follow_in_order(desk: Brand) -> None:
    volunteer = member(desk)
    before = send_numbered(desk.pk, "question.queued", {"question_id": 1})  # nobody listens

    h1 = headers_for(volunteer.user)

    async def flow() -> list[dict[str, Any]]:
        comm = communicator(h1)
        connected, _ = await comm.connect()
        assert connected
        try:
            hello = await comm.receive_json_from(timeout=TIMEOUT)
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 2})
            await sync_to_async(send_numbered)(desk.pk, "question.claimed", {"question_id": 2})
            events: list[dict[str, Any]] = []
            while len(events) < 2:  # one frame each, or both in one (close together)
                frame = await comm.receive_json_from(timeout=TIMEOUT)
                events += frame.get("events", [frame])
            return [hello, *events]
        finally:
            await comm.disconnect()

    hello, first, second = async_to_sync(flow)()
    assert hello == {"type": "hello", "seq": before, "state_url": "/queue/", "window_ms": 1000}
    assert first == {
        "type": "event",
        "kind": "question.queued",
        "seq": before + 1,
        "payload": {"question_id": 2},
    }
    assert second["kind"] == "question.claimed"
    assert second["seq"] == before + 2


def test_an_announced_event_reaches_the_brand_and_no_other(desk: Brand) -> None:
    publish_charter(other := make_brand())
    here, there = member(desk), member(other)

    h1 = headers_for(here.user)
    h2 = headers_for(there.user)

    async def flow() -> tuple[int, str, bool]:
        comm_here, comm_there = communicator(h1), communicator(h2)
        await comm_here.connect()
        await comm_there.connect()
        try:
            hello, _ = await until(comm_here, "hello")
            await until(comm_there, "hello")
            await sync_to_async(announce)(
                [brand_queue_group(desk.pk), monitoring_group(desk.pk)],
                "question.queued",
                {"question_id": 7},
            )
            text = await comm_here.receive_from(timeout=TIMEOUT)
            quiet = await comm_there.receive_nothing(timeout=0.5)
            return int(hello["seq"]), text, quiet
        finally:
            await comm_here.disconnect()
            await comm_there.disconnect()

    start, text, quiet = async_to_sync(flow)()
    # The frame announce() encoded once, forwarded as it is.
    assert text == json.dumps(
        {
            "type": "event",
            "kind": "question.queued",
            "seq": start + 1,
            "payload": {"question_id": 7},
        }
    )
    assert quiet is True


def test_a_client_that_sees_a_gap_resyncs_and_is_told_to_reload(desk: Brand) -> None:
    volunteer = member(desk)

    h1 = headers_for(volunteer.user)

    async def flow() -> tuple[int, dict[str, Any], dict[str, Any]]:
        comm = communicator(h1)
        await comm.connect()
        try:
            hello = await comm.receive_json_from(timeout=TIMEOUT)
            missed = await sync_to_async(next_sequence)(brand_queue_group(desk.pk))  # lost
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 3})
            event = await comm.receive_json_from(timeout=TIMEOUT)
            assert missed == hello["seq"] + 1
            assert event["seq"] == hello["seq"] + 2  # a gap: the client asks again
            await comm.send_json_to({"action": "resync", "since": hello["seq"]})
            resync = await comm.receive_json_from(timeout=TIMEOUT)
            return hello["seq"], event, resync
        finally:
            await comm.disconnect()

    start, _event, resync = async_to_sync(flow)()
    assert resync == {"type": "resync", "seq": start + 2, "reload": True, "state_url": "/queue/"}


def test_neither_an_event_nor_a_client_message_takes_a_thread_hop_before_its_handler(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hop channels takes before each handler (closing stale connections through the
    one thread-sensitive thread) is skipped for events and client messages alike: a
    message's database work closes stale connections itself (``database_sync_to_async``,
    in the thread that reads) or uses the loop's own connections."""
    volunteer = member(desk)
    h1 = headers_for(volunteer.user)
    hops: list[str] = []

    async def counted() -> None:
        hops.append("hop")

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)

    async def flow() -> tuple[int, int, int]:
        comm = communicator(h1)
        await comm.connect()
        try:
            await until(comm, "hello")
            on_connect = len(hops)
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 4})
            await until(comm, "event")
            after_event = len(hops)
            await comm.send_json_to({"action": "ping"})
            pong, _ = await until(comm, "pong")
            assert pong["seq"] >= 1  # answered from the database, as before
            return on_connect, after_event - on_connect, len(hops) - after_event
        finally:
            await comm.disconnect()

    # With hundreds of sockets a hop per socket per event was most of the fan-out's cost,
    # and a burst's claims queued behind one another's hops. The connect still takes it.
    assert async_to_sync(flow)() == (1, 0, 0)


def test_a_sockets_frames_go_out_without_reading_the_session(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session is read from the cookie as the socket connects, and the person is checked
    from it; the frames after that (events from the hub, answers) go to the server's own
    send. channels' session layer read the session for each, to save it on an HTTP response
    a websocket never sends: with thousands of sockets, about 7 % of a web process."""
    volunteer = member(desk)
    h1 = headers_for(volunteer.user)
    reads: list[str] = []
    is_empty = SessionBase.is_empty

    def counted(session: SessionBase) -> bool:
        reads.append("is_empty")
        return is_empty(session)

    monkeypatch.setattr(SessionBase, "is_empty", counted)

    async def flow() -> tuple[int, str]:
        comm = communicator(h1)
        await comm.connect()
        try:
            await until(comm, "hello")
            reads.clear()
            for question_id in (4, 5, 6):
                await sync_to_async(send_numbered)(
                    desk.pk, "question.queued", {"question_id": question_id}
                )
                await comm.receive_json_from(timeout=TIMEOUT)
            await comm.send_json_to({"action": "ping"})
            pong, _ = await until(comm, "pong")
            return len(reads), pong["type"]
        finally:
            await comm.disconnect()

    # Three event frames and a pong, and the session not read once for them
    assert async_to_sync(flow)() == (0, "pong")


def test_a_client_that_pings_learns_of_a_lost_last_event(desk: Brand) -> None:
    volunteer = member(desk)

    h1 = headers_for(volunteer.user)

    async def flow() -> tuple[int, dict[str, Any], bool]:
        comm = communicator(h1)
        await comm.connect()
        try:
            hello = await comm.receive_json_from(timeout=TIMEOUT)
            await sync_to_async(next_sequence)(brand_queue_group(desk.pk))  # the last, lost
            quiet = await comm.receive_nothing(timeout=0.2)
            await comm.send_json_to({"action": "ping"})
            pong = await comm.receive_json_from(timeout=TIMEOUT)
            return int(hello["seq"]), pong, quiet
        finally:
            await comm.disconnect()

    start, pong, quiet = async_to_sync(flow)()
    assert quiet is True  # no later event would have shown the gap
    assert pong == {"type": "pong", "seq": start + 1}  # ahead of the client: it resyncs


# claims


def test_of_two_volunteers_claiming_at_once_one_wins_and_the_other_learns_who(
    desk: Brand,
) -> None:
    first = member(desk, display_name="Ada")
    second = member(desk, display_name="Grace")
    queued = question(desk)

    h1 = headers_for(first.user)
    h2 = headers_for(second.user)

    async def flow() -> list[dict[str, Any]]:
        a, b = communicator(h1), communicator(h2)
        await a.connect()
        await b.connect()
        try:
            await until(a, "hello")
            await until(b, "hello")
            await a.send_json_to({"action": "claim", "question_id": queued.pk})
            await b.send_json_to({"action": "claim", "question_id": queued.pk})
            result_a, _ = await until(a, "claim_result")
            result_b, _ = await until(b, "claim_result")
            return [result_a, result_b]
        finally:
            await a.disconnect()
            await b.disconnect()

    results = async_to_sync(flow)()
    assert sorted(r["won"] for r in results) == [False, True]
    winner = next(r for r in results if r["won"])
    loser = next(r for r in results if not r["won"])
    holder = "Ada" if winner is results[0] else "Grace"
    assert winner["question_id"] == queued.pk
    assert loser["reason"] == "already_claimed"
    assert loser["holder"] == holder
    assert loser["message"].startswith(f"Already claimed by {holder}")
    queued.refresh_from_db()
    assert queued.state == QuestionState.CLAIMED
    assert queued.claimed_by_id == (first if holder == "Ada" else second).user_id


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([(b"accept-language", b"fr-FR,fr;q=0.9")], "Déjà réclamée par Ada"),
        ([(b"accept-language", b"fr")], "Déjà réclamée par Ada"),
        # The saved choice wins over the browser's language, as on the pages.
        (
            [(b"accept-language", b"en"), (b"cookie", b"django_language=fr")],
            "Déjà réclamée par Ada",
        ),
        ([(b"accept-language", b"de")], "Already claimed by Ada"),
    ],
)
def test_the_socket_answers_in_the_persons_language(
    desk: Brand, extra: list[tuple[bytes, bytes]], expected: str
) -> None:
    holder = member(desk, display_name="Ada")
    other = member(desk, display_name="Grace")
    queued = question(desk)
    claim_question(queued.pk, holder.user)
    headers = headers_for(other.user)
    cookies = [value for name, value in extra if name == b"cookie"]
    if cookies:
        headers = [
            (name, value + b"; " + cookies[0] if name == b"cookie" else value)
            for name, value in headers
        ]
    headers += [(name, value) for name, value in extra if name != b"cookie"]

    async def flow() -> tuple[dict[str, Any], dict[str, Any]]:
        comm = communicator(headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            await comm.send_json_to({"action": "claim", "question_id": queued.pk})
            result, _ = await until(comm, "claim_result")
            await comm.send_json_to({"action": "dance"})
            error, _ = await until(comm, "error")
            return result, error
        finally:
            await comm.disconnect()

    result, error = async_to_sync(flow)()
    assert result["won"] is False
    assert result["message"].startswith(expected)
    french = expected.startswith("Déjà")
    assert error["error"] == ("Action inconnue." if french else "Unknown action.")


def test_claim_release_and_renew_by_socket_and_the_claim_is_announced(desk: Brand) -> None:
    volunteer, watcher = member(desk), member(desk)
    queued = question(desk)

    h1 = headers_for(volunteer.user)
    h2 = headers_for(watcher.user)

    async def flow() -> dict[str, Any]:
        comm, other = communicator(h1), communicator(h2)
        await comm.connect()
        await other.connect()
        try:
            await until(comm, "hello")
            await until(other, "hello")
            await comm.send_json_to({"action": "claim", "question_id": queued.pk})
            claimed, _ = await until(comm, "claim_result")
            seen, _ = await until(other, "event")
            await comm.send_json_to({"action": "renew", "question_id": queued.pk})
            renewed, _ = await until(comm, "renew_result")
            await comm.send_json_to({"action": "release", "question_id": queued.pk})
            released, _ = await until(comm, "release_result")
            await comm.send_json_to({"action": "renew", "question_id": queued.pk})
            late, _ = await until(comm, "error")
            return {
                "claimed": claimed,
                "seen": seen,
                "renewed": renewed,
                "released": released,
                "late": late,
            }
        finally:
            await comm.disconnect()
            await other.disconnect()

    out = async_to_sync(flow)()
    assert out["claimed"]["won"] is True
    assert out["seen"]["kind"] == "question.claimed"
    assert out["renewed"]["question_id"] == queued.pk
    assert out["released"] == {"type": "release_result", "question_id": queued.pk, "ok": True}
    assert out["late"]["code"] == "not_holder"
    queued.refresh_from_db()
    assert queued.state == QuestionState.QUEUED
    assert queued.claimed_by_id is None


def reply_to(user: User, message: dict[str, Any]) -> dict[str, Any]:
    """``user`` connects, sends ``message`` after the hello, and gets this: the next
    message the socket sends."""
    headers = headers_for(user)

    async def flow() -> dict[str, Any]:
        comm = communicator(headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            await comm.send_json_to(message)
            reply: dict[str, Any] = await comm.receive_json_from(timeout=TIMEOUT)
            return reply
        finally:
            await comm.disconnect()

    return async_to_sync(flow)()


@pytest.mark.parametrize("foreign_state", ["queued", "claimed", "missing"])
def test_a_question_of_another_brand_looks_like_none(desk: Brand, foreign_state: str) -> None:
    # Given a question of another brand, queued, held by one of that brand's volunteers
    # (whose name must not leak), or an id that is no question at all
    publish_charter(other := make_brand())
    volunteer = member(desk)
    foreign = question(other)
    if foreign_state == "claimed":
        assert claim_question(foreign.pk, member(other, display_name="Secret").user).won
    before = Question.objects.get(pk=foreign.pk).state
    if foreign_state == "missing":
        foreign.pk = Question.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000

    # Then the claim is told only that there is no such question, and nothing changed
    assert reply_to(volunteer.user, {"action": "claim", "question_id": foreign.pk}) == {
        "type": "error",
        "error": "No such question.",
        "question_id": foreign.pk,
    }
    if foreign_state != "missing":
        assert Question.objects.get(pk=foreign.pk).state == before


@pytest.mark.parametrize("whose", ["someone_elses", "another_brands", "missing", "queued"])
def test_a_release_of_a_question_the_person_does_not_hold_changes_nothing_and_says_why(
    desk: Brand, whose: str
) -> None:
    # Given a question held by a colleague, one of another brand held by one of theirs,
    # an id that is no question, or a question in the queue
    publish_charter(other_brand := make_brand())
    volunteer, colleague = member(desk), member(desk)
    asked = question(desk if whose != "another_brands" else other_brand)
    if whose == "someone_elses":
        assert claim_question(asked.pk, colleague.user).won
    if whose == "another_brands":
        assert claim_question(asked.pk, member(other_brand).user).won
    question_id = asked.pk + 1000 if whose == "missing" else asked.pk
    before = Question.objects.values().get(pk=asked.pk)

    reply = reply_to(volunteer.user, {"action": "release", "question_id": question_id})

    # Then the reply says why (another brand's question looks like none), and nothing changed
    if whose in ("someone_elses", "queued"):
        assert (reply["type"], reply["code"]) == ("error", "not_holder")
    else:
        assert reply == {"type": "error", "error": "No such question.", "question_id": question_id}
    assert Question.objects.values().get(pk=asked.pk) == before
    assert not AuditEvent.objects.filter(kind="question.released").exists()


# checks on every message


def test_a_volunteer_suspended_after_connecting_is_refused_on_the_next_message(
    desk: Brand,
) -> None:
    volunteer = member(desk)
    supervisor = make_volunteer(desk, role=Role.SUPERVISOR)
    queued = question(desk)

    h1 = headers_for(volunteer.user)

    async def flow() -> tuple[dict[str, Any], list[str], bool]:
        comm = communicator(h1)
        await comm.connect()
        try:
            hello, _ = await until(comm, "hello")
            await comm.send_json_to({"action": "ping"})
            pong = await comm.receive_json_from(timeout=TIMEOUT)
            assert pong == {
                "type": "pong",
                "seq": hello["seq"],
            }  # tells a quiet client it is current
            await sync_to_async(suspend)(
                volunteer.user_id, desk.pk, actor=supervisor.user, reason="Shared an order number"
            )
            await comm.send_json_to({"action": "claim", "question_id": queued.pk})
            codes = await refused_with(comm, 4403)
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 9})
            quiet = await comm.receive_nothing(timeout=0.3)
            return pong, codes, quiet
        finally:
            await comm.disconnect()

    pong, codes, quiet = async_to_sync(flow)()
    assert pong["type"] == "pong"
    assert codes == ["suspended"]
    assert quiet is True  # no longer in the brand's group
    assert Question.objects.get(pk=queued.pk).state == QuestionState.QUEUED


def test_a_person_signed_out_meanwhile_is_closed_with_4401(desk: Brand) -> None:
    volunteer = member(desk)
    headers = headers_for(volunteer.user)
    session_key = session_key_of(headers)

    def sign_out() -> None:
        from django.contrib.sessions.models import Session

        Session.objects.filter(session_key=session_key).delete()

    async def flow() -> list[str]:
        comm = WebsocketCommunicator(application, "/ws/queue/", headers=headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            await sync_to_async(sign_out)()
            await comm.send_json_to({"action": "ping"})
            return await refused_with(comm, 4401)
        finally:
            await comm.disconnect()

    assert async_to_sync(flow)() == ["not_signed_in"]


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("{not json", "Not valid JSON."),
        ("[1, 2]", "Send a JSON object with an action."),
        ('{"action": "dance"}', "Unknown action."),
        ('{"no": "action"}', "Unknown action."),
        ('{"action": "claim", "question_id": "7"}', "question_id must be a positive integer."),
        ('{"action": "claim", "question_id": true}', "question_id must be a positive integer."),
        ('{"action": "release"}', "question_id must be a positive integer."),
        ('{"action": "resync", "since": -1}', "since must be a non-negative integer."),
        (
            '{"action": "ping", "pad": "' + "x" * 4100 + '"}',
            "Message too large (at most 4096 bytes).",
        ),
    ],
)
def test_bad_messages_get_an_error_and_the_socket_stays_open(
    desk: Brand, frame: str, error: str
) -> None:
    volunteer = member(desk)

    h1 = headers_for(volunteer.user)

    async def flow() -> tuple[dict[str, Any], dict[str, Any], int]:
        comm = communicator(h1)
        await comm.connect()
        try:
            hello, _ = await until(comm, "hello")
            await comm.send_to(text_data=frame)
            reply = await comm.receive_json_from(timeout=TIMEOUT)
            await comm.send_json_to({"action": "ping"})
            after = await comm.receive_json_from(timeout=TIMEOUT)
            return reply, after, hello["seq"]
        finally:
            await comm.disconnect()

    reply, after, seq = async_to_sync(flow)()
    assert reply == {"type": "error", "error": error}
    assert after == {"type": "pong", "seq": seq}


def test_a_binary_frame_gets_an_error(desk: Brand) -> None:
    volunteer = member(desk)

    h1 = headers_for(volunteer.user)

    async def flow() -> dict[str, Any]:
        comm = communicator(h1)
        await comm.connect()
        try:
            await until(comm, "hello")
            await comm.send_to(bytes_data=b"\x00\x01")
            reply: dict[str, Any] = await comm.receive_json_from(timeout=TIMEOUT)
            return reply
        finally:
            await comm.disconnect()

    assert async_to_sync(flow)() == {"type": "error", "error": "Send JSON text, not binary frames."}


# the page


def test_the_queue_page_loads_the_client_and_marks_rows_for_it(desk: Brand) -> None:
    volunteer = member(desk)
    queued = question(desk)
    client = Client()
    client.force_login(volunteer.user)

    page = client.get("/queue/").content.decode()

    assert "helpdesk/queue.js" in page
    assert f'<div class="row" data-question-id="{queued.pk}" tabindex="0">' in page
    assert "data-claim hidden" in page  # the claim button only appears with the script


# closed without waiting for the person's next message (issue 11, finding 11)


def test_a_suspension_closes_the_persons_open_socket_at_once(desk: Brand) -> None:
    volunteer = member(desk)
    supervisor = make_volunteer(desk, role=Role.SUPERVISOR, store=volunteer.store)
    headers = headers_for(volunteer.user)
    boss = Client()
    boss.force_login(supervisor.user)

    async def flow() -> tuple[list[str], bool]:
        comm = communicator(headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            response = await sync_to_async(boss.post)(
                f"/supervision/people/{volunteer.pk}/suspend/", {"reason": "Shared an order"}
            )
            assert response.status_code == 302
            codes = await refused_with(comm, 4403)  # nothing sent by the client
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 9})
            return codes, await comm.receive_nothing(timeout=0.3)
        finally:
            await comm.disconnect()

    codes, quiet = async_to_sync(flow)()
    assert codes == ["suspended"]
    assert quiet is True


def test_signing_out_closes_the_persons_open_sockets_at_once(desk: Brand) -> None:
    volunteer = member(desk)
    browser = Client()
    browser.force_login(volunteer.user)
    headers = [
        (b"origin", b"http://testserver"),
        (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()),
    ]
    other_person = member(desk)
    other_headers = headers_for(other_person.user)

    async def flow() -> tuple[list[str], bool]:
        mine, theirs = communicator(headers), communicator(other_headers)
        await mine.connect()
        await theirs.connect()
        try:
            await until(mine, "hello")
            await until(theirs, "hello")
            response = await sync_to_async(browser.post)("/accounts/logout/")
            assert response.status_code == 302
            codes = await refused_with(mine, 4401)
            return codes, await theirs.receive_nothing(timeout=0.3)  # not everyone's
        finally:
            await mine.disconnect()
            await theirs.disconnect()

    codes, others_untouched = async_to_sync(flow)()
    assert codes == ["not_signed_in"]
    assert others_untouched is True


@pytest.mark.postgres
def test_on_postgresql_two_sockets_checks_run_side_by_side() -> None:
    # One thread per process for every socket's checks and claims made a claim wait behind
    # the checks of 2,500 sockets (bench/load.py). Two calls that each wait for the other
    # finish only if they run at the same time; one after the other, the barrier breaks.
    meeting = threading.Barrier(2, timeout=10)

    def check() -> str:
        meeting.wait()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return threading.current_thread().name

    async def both() -> list[str]:
        return list(await asyncio.gather(in_db_thread(check)(), in_db_thread(check)()))

    names = asyncio.run(both())
    assert len(set(names)) == 2


def answered_with_the_worker_thread_held(
    acting: User,
    watching: User,
    message: dict[str, Any],
    answer: str,
    *,
    sending: Callable[[], None] = lambda: None,
    answered: Callable[[], None] = lambda: None,
) -> tuple[dict[str, Any], list[Any]]:
    """Both people connected, the event loop's one worker thread held, ``message`` sent on
    ``acting``'s socket (``sending`` called just before, ``answered`` just after the answer):
    the answer (of type ``answer``) and the events ``watching``'s socket heard next. The
    thread was held all along; the last socket out closed the loop's connections."""
    released = threading.Event()
    my_headers, their_headers = headers_for(acting), headers_for(watching)

    async def flow() -> tuple[dict[str, Any], list[Any]]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        mine, theirs = communicator(my_headers), communicator(their_headers)
        try:
            for comm in (mine, theirs):
                await comm.connect()
                await until(comm, "hello")
            held = loop.run_in_executor(None, released.wait, 10)
            sending()
            await mine.send_json_to(message)
            result, _ = await until(mine, answer)
            answered()
            heard = await theirs.receive_json_from(timeout=TIMEOUT)  # one event, or a frame of them
            assert not held.done()  # the worker thread was held all along
            released.set()
            await held
            return result, heard.get("events") or [heard]
        finally:
            released.set()
            await mine.disconnect()
            await theirs.disconnect()
            assert on_loop._resources.get(id(loop)) is None

    return async_to_sync(flow)()


@pytest.mark.postgres
def test_on_postgresql_a_claim_is_answered_while_every_worker_thread_is_busy(desk: Brand) -> None:
    # Under load a worker thread took up to 0.7 s to start and as long to answer back
    # (bench/load.py); on PostgreSQL the socket's claim runs on the event loop instead. With
    # the loop's one worker thread held, the claim is still answered, won, announced to
    # another socket and in the database; the last socket out closes the loop's connections.
    volunteer, other = member(desk), member(desk)
    warm, wanted = question(desk), question(desk)
    assert claim_question(warm.pk, volunteer.user).won  # the claim's statement built

    result, events = answered_with_the_worker_thread_held(
        volunteer.user, other.user, {"action": "claim", "question_id": wanted.pk}, "claim_result"
    )
    assert result["won"] is True and result["reason"] == "claimed"
    assert [(e["kind"], e["payload"]["question_id"]) for e in events] == [
        ("question.claimed", wanted.pk)
    ]
    wanted.refresh_from_db()
    assert wanted.state == QuestionState.CLAIMED and wanted.claimed_by_id == volunteer.user_id


def released_by(question: Question) -> tuple[Any, ...]:
    """The audit row of ``question``'s release, as the reports and the log read it."""
    event = AuditEvent.objects.get(kind="question.released", question=question)
    return (
        event.actor_id,
        event.actor_label,
        event.brand_id,
        event.from_state,
        event.to_state,
        event.data,
    )


@pytest.mark.postgres
@pytest.mark.parametrize("held_state", [QuestionState.CLAIMED, QuestionState.DRAFTING])
def test_on_postgresql_a_release_is_answered_on_the_loop_as_the_thread_would(
    desk: Brand, held_state: QuestionState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A release ran in a worker thread with the full check: under load (bench/load.py) a
    # tenth of the web processes' time. On PostgreSQL it is the one-statement check and one
    # more statement on the event loop. With the loop's one worker thread held, a release
    # is answered, the question is queued again and another socket hears it, and its audit
    # row is the one release_question writes, from the state it was in.
    volunteer, other = member(desk), member(desk)
    by_socket, by_hand = question(desk), question(desk)
    for asked in (by_socket, by_hand):
        assert claim_question(asked.pk, volunteer.user).won
        if held_state == QuestionState.DRAFTING:
            asked.refresh_from_db()
            assert move_question(asked, QuestionState.DRAFTING, actor=volunteer.user)
    started = timezone.now()
    threaded: list[str] = []  # what the socket hands to a worker thread
    in_a_thread = helpdesk.consumers.in_db_thread

    def watched(func: Any) -> Any:
        threaded.append(func.__name__)
        return in_a_thread(func)

    monkeypatch.setattr(helpdesk.consumers, "in_db_thread", watched)

    def no_thread() -> None:
        assert threaded == []  # neither the check nor the release went to a thread

    result, events = answered_with_the_worker_thread_held(
        volunteer.user,
        other.user,
        {"action": "release", "question_id": by_socket.pk},
        "release_result",
        sending=threaded.clear,
        answered=no_thread,
    )
    release_question(by_hand.pk, volunteer.user)

    assert result == {"type": "release_result", "question_id": by_socket.pk, "ok": True}
    assert [(e["kind"], e["payload"]["question_id"], e["payload"]["user_id"]) for e in events] == [
        ("question.released", by_socket.pk, volunteer.user_id)
    ]
    row = Question.objects.get(pk=by_socket.pk)
    assert row.state == QuestionState.QUEUED
    assert (row.claimed_by_id, row.claimed_at, row.lease_expires_at) == (None, None, None)
    assert row.state_changed_at is not None and row.state_changed_at >= started
    assert released_by(by_socket) == released_by(by_hand)
    assert released_by(by_socket) == (
        volunteer.user_id,
        "",
        desk.pk,
        held_state.value,
        "queued",
        {"holder_id": volunteer.user_id},
    )


@pytest.mark.postgres
def test_on_postgresql_a_release_crossing_another_move_leaves_from_the_state_it_really_left(
    desk: Brand,
) -> None:
    # Given a held question that the holder's own draft is moving on in another transaction
    # (claimed -> drafting, not yet committed) when the release's statement starts: its
    # snapshot reads "claimed"
    volunteer = member(desk)
    asked = question(desk)
    assert claim_question(asked.pk, volunteer.user).won
    headers = headers_for(volunteer.user)
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )

    async def flow() -> dict[str, Any]:
        mine = communicator(headers)
        try:
            await mine.connect()
            await until(mine, "hello")
            other.execute(
                "UPDATE helpdesk_question SET state = %s WHERE id = %s",
                [QuestionState.DRAFTING.value, asked.pk],
            )
            await mine.send_json_to({"action": "release", "question_id": asked.pk})
            assert await mine.receive_nothing(timeout=0.3)  # waiting for the row
            other.commit()
            result, _ = await until(mine, "release_result")
            return result
        finally:
            other.close()
            await mine.disconnect()

    result = async_to_sync(flow)()

    # Then it is released once, and its audit row says it left "drafting", not "claimed"
    assert result["ok"] is True
    assert Question.objects.get(pk=asked.pk).state == QuestionState.QUEUED
    assert released_by(asked)[3:5] == ("drafting", "queued")


@pytest.mark.postgres
def test_on_postgresql_a_claim_that_lost_to_one_in_flight_is_explained_without_a_thread(
    desk: Brand,
) -> None:
    # When many claim one question at once, each loser's statement waited for the winner's
    # and its snapshot still showed the question open; the loser read the question again in
    # a worker thread, which under load took up to 0.9 s (bench/load.py's bursts). It reads
    # it on the loop: with the loop's one worker thread held, the loser is told who won.
    loser, winner = member(desk), member(desk, display_name="Wanda at Store 12")
    warm, wanted = question(desk), question(desk)
    assert claim_question(warm.pk, loser.user).won  # the claim's statement built
    routing.claims._reread_statement(warm.pk)  # and the re-read's
    released = threading.Event()
    headers = headers_for(loser.user)
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )

    async def flow() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=1))
        mine = communicator(headers)
        try:
            await mine.connect()
            await until(mine, "hello")
            await mine.send_json_to({"action": "ping"})
            await until(mine, "pong")  # the loop's connections open
            # Given the winner's claim in flight: the row taken, not yet committed
            other.execute(
                "UPDATE helpdesk_question SET state = %s, claimed_by_id = %s, "
                "claimed_at = now(), lease_expires_at = now() + interval '10 minutes' "
                "WHERE id = %s",
                [QuestionState.CLAIMED.value, winner.user_id, wanted.pk],
            )
            held = loop.run_in_executor(None, released.wait, 10)
            # When the loser claims, and the winner's claim commits meanwhile
            await mine.send_json_to({"action": "claim", "question_id": wanted.pk})
            assert await mine.receive_nothing(timeout=0.3)  # waiting for the row
            other.commit()
            result, _ = await until(mine, "claim_result")
            assert not held.done()  # the worker thread was held all along
            released.set()
            await held
            return result
        finally:
            released.set()
            other.close()
            await mine.disconnect()

    result = async_to_sync(flow)()

    # Then it is told the question is taken, and by whom
    assert result["won"] is False
    assert result["reason"] == "already_claimed"
    assert result["holder"] == "Wanda at Store 12"


@pytest.mark.postgres
def test_on_postgresql_a_claim_of_a_question_another_claim_is_taking_shares_its_outcome(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crowd claiming the top question at once cost a statement and a re-read each, all
    # waiting for the same row (bench/load.py's bursts). A claim of a question another claim
    # of the process is taking waits for that one, and loses to its winner, with no
    # statement of its own.
    first, second = member(desk, display_name="Fast Fiona"), member(desk)
    warm, wanted = question(desk), question(desk)
    assert claim_question(warm.pk, first.user).won  # the claim's statement built
    statements: list[str] = []
    real_fetchone, real_fetchall = on_loop.fetchone, on_loop.fetchall

    async def counted(sql: str, params: Any) -> Any:
        statements.append("claim" if "WITH moved AS" in sql else "other")
        return await real_fetchone(sql, params)

    async def counted_checks(sql: str, params: Any) -> Any:
        statements.append("check")
        return await real_fetchall(sql, params)

    monkeypatch.setattr(on_loop, "fetchone", counted)
    monkeypatch.setattr(on_loop, "fetchall", counted_checks)
    headers = [headers_for(first.user), headers_for(second.user)]
    db = connection.settings_dict
    other = psycopg.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )

    async def flow() -> tuple[dict[str, Any], dict[str, Any]]:
        fast, slow = communicator(headers[0]), communicator(headers[1])
        try:
            for comm in (fast, slow):
                await comm.connect()
                await until(comm, "hello")
            # Given the question's row held elsewhere, so that the first claim stays in flight
            other.execute("SELECT id FROM helpdesk_question WHERE id = %s FOR UPDATE", [wanted.pk])
            await fast.send_json_to({"action": "claim", "question_id": wanted.pk})
            key = (id(asyncio.get_running_loop()), desk.pk, wanted.pk)
            for _ in range(100):
                if key in routing.claims._in_flight:
                    break
                await asyncio.sleep(0.02)
            # When a second person claims it meanwhile, and the row is let go
            statements.clear()
            await slow.send_json_to({"action": "claim", "question_id": wanted.pk})
            assert await slow.receive_nothing(timeout=0.3)  # waiting for the first claim
            other.rollback()
            won, _ = await until(fast, "claim_result")
            lost, _ = await until(slow, "claim_result")
            return won, lost
        finally:
            other.close()
            await fast.disconnect()
            await slow.disconnect()

    won, lost = async_to_sync(flow)()

    # Then the first won, the second lost to them, and the second's claim ran no statement
    # beyond its own check
    assert won["won"] is True
    assert (lost["won"], lost["reason"], lost["holder"]) == (
        False,
        "already_claimed",
        "Fast Fiona",
    )
    assert statements == ["check"]  # the second's own; the first's claim was sent before


@pytest.mark.postgres
def test_on_postgresql_claims_that_come_together_are_checked_in_one_statement(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sixty sockets of a process claiming in one instant each waited for a pooled connection
    # for their check (bench/load.py's bursts). The checks of the claims waiting on the loop
    # run as one statement, and each socket still gets its own answer.
    people = [member(desk) for _ in range(4)]
    wanted = [question(desk) for _ in people]
    assert claim_question(question(desk).pk, people[0].user).won  # the claim built
    checks: list[int] = []
    real_fetchall = on_loop.fetchall

    async def counted(sql: str, params: Any) -> Any:
        checks.append(len(params[0]))  # the claims it checks (their people)
        return await real_fetchall(sql, params)

    monkeypatch.setattr(on_loop, "fetchall", counted)
    headers = [headers_for(p.user) for p in people]

    async def flow() -> tuple[list[dict[str, Any]], list[str]]:
        comms = [communicator(h) for h in headers]
        try:
            for comm in comms:
                await comm.connect()
                await until(comm, "hello")
            # Given the last person signed out elsewhere (their session's row gone)
            await sync_to_async(
                lambda: Session.objects.filter(session_key=session_key_of(headers[-1])).delete()
            )()
            checks.clear()
            # When all four claim in the same instant
            for comm, q in zip(comms, wanted, strict=True):
                await comm.send_json_to({"action": "claim", "question_id": q.pk})
            answers = [(await until(comm, "claim_result"))[0] for comm in comms[:-1]]
            return answers, await refused_with(comms[-1], 4401)
        finally:
            for comm in comms:
                await comm.disconnect()

    answers, refused = async_to_sync(flow)()

    # Then the four were checked in at most two statements (the first at once, the rest
    # together), the three signed in won their questions and the fourth was refused
    assert sum(checks) == 4 and len(checks) <= 2
    assert [a["won"] for a in answers] == [True, True, True]
    assert refused == ["not_signed_in"]


@pytest.mark.postgres
def test_on_postgresql_the_claims_checks_read_their_own_people_not_every_one(
    desk: Brand,
) -> None:
    # The checks of the claims waiting on a loop run as one prepared statement on its
    # generic plan, which expects ten claims. With 2,500 volunteers that plan read every
    # unexpired session, every active account (twice) and every standing into hash tables
    # on each run: 3 ms a check, growing with the crowd. Each claim's check now looks up its
    # own rows, whatever the size of the crowd.
    people = [member(desk) for _ in range(3)]
    keys = [session_key_of(headers_for(p.user)) for p in people]
    crowd = User.objects.bulk_create(User(username=f"crowd-{n}") for n in range(600))
    now = timezone.now()
    Session.objects.bulk_create(
        Session(session_key=f"crowd{n:035d}", session_data="", expire_date=now + timedelta(days=1))
        for n in range(len(crowd))
    )
    Volunteer.objects.bulk_create(Volunteer(user=u, brand=desk) for u in crowd)
    Standing.objects.bulk_create(
        Standing(user=u, brand=desk, level=Level.CERTIFIED, trained_at=now) for u in crowd
    )
    tables = ["auth_user", "django_session", "helpdesk_volunteer", "charter_standing"]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")  # the planner knows the crowd
    sql, params = helpdesk.consumers._many_checks_statement(
        [(p.user.pk, desk.pk, key) for p, key in zip(people, keys, strict=True)]
    )
    read = (
        "SELECT COALESCE(SUM(seq_tup_read + COALESCE(idx_tup_fetch, 0)), 0) "
        "FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)"
    )

    # When the three are checked as the loop's connections check them (prepared, on the
    # generic plan), in a transaction whose reads PostgreSQL counts
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        raw.execute(f"SET LOCAL plan_cache_mode = {on_loop.PLAN_CACHE_MODE}")
        before = raw.execute(read, [tables]).fetchone()[0]
        rows = raw.execute(sql, params, prepare=True).fetchall()
        rows_read = raw.execute(read, [tables]).fetchone()[0] - before

    # Then each passed, and the statement read a few rows a person (about one in each table
    # it asks), not the crowd's (3,017 rows on the plan before)
    assert sorted(row[0] for row in rows) == [1, 2, 3]
    assert all(all(row[2:]) for row in rows)
    assert rows_read <= 8 * len(people), rows_read


@pytest.mark.postgres
def test_on_postgresql_sockets_joining_together_share_one_pool_closed_by_the_last() -> None:
    # Sockets that connect while the loop's pool is still opening must find that pool, not
    # open another one that nothing would close
    async def flow() -> tuple[int, int, bool, bool]:
        key = id(asyncio.get_running_loop())
        await asyncio.gather(on_loop.join(), on_loop.join(), on_loop.join())
        shared = on_loop._resources[key]
        pool = shared.pool
        row = await on_loop.fetchone("SELECT %s::int + 1", [41])
        await on_loop.leave()
        await on_loop.leave()
        still_open = key in on_loop._resources
        await on_loop.leave()
        return shared.users, row[0] if row else 0, still_open, pool.closed

    users, answer, open_with_one_left, closed_after_the_last = asyncio.run(flow())
    assert (users, answer) == (0, 42)
    assert open_with_one_left is True
    assert closed_after_the_last is True


@pytest.mark.postgres
def test_on_postgresql_a_new_loop_connection_has_the_claim_planned_before_its_first_claim(
    desk: Brand, settings: Any
) -> None:
    # PostgreSQL plans a prepared statement afresh for each of its first five runs (the
    # claim's took 3-12 ms each), and the checks' for every run: after a restart every
    # connection of every process did that inside its first claims (bench/route.py's slow
    # first seconds). A new connection of the loop's pool prepares the claim's, the
    # re-read's and the checks' statements and builds each one's plan before it answers
    # anything, changing nothing, and a claim then runs on that plan, whatever the size of
    # its ids.
    settings.DATABASE_POOL_SIZE = 1  # one connection: the claim runs on the one inspected
    volunteer = member(desk)
    wanted = question(desk, id=2**20)  # an id psycopg would otherwise send as an integer
    audit_rows = AuditEvent.objects.count()
    prepared = (
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
        "ORDER BY prepare_time"
    )

    async def flow() -> tuple[list[Any], Any, list[Any]]:
        await on_loop.join()
        try:
            before = await on_loop.fetchall(prepared, [])
            result = await routing.claims.claim_question_on_loop(
                wanted.pk, volunteer.user, brand_id=desk.pk
            )
            return before, result, await on_loop.fetchall(prepared, [])
        finally:
            await on_loop.leave()

    before, result, after = async_to_sync(flow)()

    def plans(rows: list[Any], marker: str) -> list[tuple[int, int]]:
        return [(generic, custom) for sql, generic, custom in rows if marker in sql]

    # Then before the claim each statement had its plan (the release's too), and the
    # warming changed nothing
    assert plans(before, "LEFT JOIN moved") == [(1, 0)]
    assert plans(before, "moved.from_state FROM moved") == [(1, 0)]
    assert plans(before, "chk_r") == [(1, 0)]
    # the claim's, the re-read's and the release's
    assert len(plans(before, "helpdesk_question")) == 3
    assert audit_rows == AuditEvent.objects.count() - 1  # the claim's own row only
    # And the claim won, on the same statement and its plan, planned no more
    assert result.won is True
    assert plans(after, "LEFT JOIN moved") == [(2, 0)]


@pytest.mark.postgres
def test_on_postgresql_a_claim_on_the_loop_sends_its_statements_converted_once(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg converts a statement's %s to PostgreSQL's $1... on every run, keeping the
    # conversion only of statements under 4 kB; the claim's is longer, and parsing its text
    # on every claim was a seventh of the web processes' samples in the sockets' messages
    # (py-spy over bench/route.py). The loop's connections are given each statement
    # converted once, and send it as it is.
    volunteer = member(desk)
    wanted = question(desk)
    claim_sql = routing.claims._claim_statement(wanted.pk, volunteer.user.pk, timezone.now()).sql
    conversions: list[int] = []
    real_convert = psycopg._queries.PostgresQuery.convert

    def counted(self: Any, query: Any, params: Any) -> None:
        conversions.append(len(query))
        real_convert(self, query, params)

    monkeypatch.setattr(psycopg._queries.PostgresQuery, "convert", counted)

    async def flow() -> Any:
        await on_loop.join()  # the connections open, and prepare every statement
        try:
            return await routing.claims.claim_question_on_loop(
                wanted.pk, volunteer.user, brand_id=desk.pk
            )
        finally:
            await on_loop.leave()

    result = async_to_sync(flow)()

    # Then the claim won, and neither the connections' preparing nor the claim had psycopg
    # convert a statement (the claim's is one psycopg would convert on every run)
    assert result.won is True
    assert len(claim_sql) > psycopg._queries.MAX_CACHED_STATEMENT_LENGTH
    assert conversions == []


# what each message checks, once the first full check passed


def changed_after_hello(
    desk: Brand, change: str, *, ping_first: bool = True, then: str = "ping"
) -> list[str]:
    """A volunteer connects (the full check passes and is remembered) and, with
    ``ping_first``, pings; then ``change`` happens to them without any push to their
    socket; the next message (``then``: a ping, or a claim, which PostgreSQL checks on the
    event loop, with other claims' checks) is refused: returns the reason codes (4401 for
    ``password``, 4403 otherwise)."""
    volunteer = member(desk)
    headers = headers_for(volunteer.user)
    wanted = question(desk)

    def happen() -> None:
        if change == "password":
            volunteer.user.set_password("a new password, typed elsewhere")
            volunteer.user.save()
        elif change == "charter":
            publish_charter(desk)  # a new material version: not accepted yet
        elif change == "role":
            volunteer.role = Role.AGENCY
            volunteer.save()
        elif change == "deactivated":
            User.objects.filter(pk=volunteer.user_id).update(is_active=False)

    async def flow() -> list[str]:
        comm = communicator(headers)
        try:
            if ping_first:
                await checked_once(comm)
            else:
                await comm.connect()
                await until(comm, "hello")
            await sync_to_async(happen)()
            if then == "claim":
                await comm.send_json_to({"action": "claim", "question_id": wanted.pk})
            else:
                await comm.send_json_to({"action": "ping"})
            return await refused_with(comm, 4401 if change in ("password", "deactivated") else 4403)
        finally:
            await comm.disconnect()

    return async_to_sync(flow)()


@pytest.mark.parametrize("then", ["ping", "claim"])
@pytest.mark.parametrize("ping_first", [True, False], ids=["after-a-message", "after-the-hello"])
@pytest.mark.parametrize(
    ("change", "codes"),
    [
        ("password", ["not_signed_in"]),
        ("deactivated", ["not_signed_in"]),
        ("charter", ["charter_not_accepted"]),
        ("role", ["not_desk_role"]),
    ],
)
def test_what_changed_since_the_last_message_is_seen_on_the_next(
    desk: Brand, change: str, codes: list[str], ping_first: bool, then: str
) -> None:
    # The connection's check is remembered too (the first message is checked in one
    # statement), so a change between the hello and the first message is seen there
    assert changed_after_hello(desk, change, ping_first=ping_first, then=then) == codes


@pytest.mark.backend_neutral
def test_every_message_checks_everything_in_one_statement(desk: Brand) -> None:
    # Given a volunteer whose socket passed its full check when it connected (SQLite runs
    # the socket's database work on this thread, so its statements are counted here)
    if connection.vendor != "sqlite":
        pytest.skip("counts the statements on this thread's connection (SQLite's)")
    volunteer = member(desk)
    headers = headers_for(volunteer.user)
    statements: dict[str, list[str]] = {"first": [], "second": []}
    phase = {"now": ""}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if phase["now"]:
            statements[phase["now"]].append(sql)
        return execute(sql, params, many, context)

    async def flow() -> None:
        comm = communicator(headers)
        await comm.connect()
        try:
            await until(comm, "hello")
            for name in ("first", "second"):
                phase["now"] = name
                await comm.send_json_to({"action": "ping"})
                await until(comm, "pong")
                phase["now"] = ""
        finally:
            await comm.disconnect()

    with connection.execute_wrapper(count):
        async_to_sync(flow)()
    first, second = statements["first"], statements["second"]
    # Then each ping's check is the one statement (and the ping reads nothing else): the
    # first no longer reads the session, the person, their desk record and the gate apart,
    # which the connection had just read
    for checked in (first, second):
        assert len(checked) == 1, checked
        assert "django_session" in checked[0] and "charter_standing" in checked[0]


@pytest.mark.backend_neutral
def test_a_claim_after_the_first_message_costs_its_check_and_the_claim_alone(
    desk: Brand,
) -> None:
    # Given a volunteer whose socket passed its full check (SQLite: counted on this thread)
    if connection.vendor != "sqlite":
        pytest.skip("counts the statements on this thread's connection (SQLite's)")
    volunteer = member(desk)
    by_socket, by_hand = question(desk), question(desk)
    headers = headers_for(volunteer.user)
    statements: list[str] = []
    counting = {"on": False}

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if counting["on"]:
            statements.append(sql)
        return execute(sql, params, many, context)

    async def flow() -> dict[str, Any]:
        comm = communicator(headers)
        try:
            await checked_once(comm)
            counting["on"] = True
            await comm.send_json_to({"action": "claim", "question_id": by_socket.pk})
            result, _ = await until(comm, "claim_result")
            counting["on"] = False
            return result
        finally:
            await comm.disconnect()

    with connection.execute_wrapper(count):
        result = async_to_sync(flow)()
        over_socket = list(statements)
        statements.clear()
        counting["on"] = True
        assert claim_question(by_hand.pk, volunteer.user).won
        counting["on"] = False
    # Then the socket's claim is its one-statement check plus what the claim itself runs:
    # no separate read of whether the question is the brand's
    assert result["won"] is True
    assert len(over_socket) == 1 + len(statements), over_socket


# events close together, in one frame


def coalesced_flow(
    desk: Brand, events: int, then: str | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """Connect, announce an event and receive it, announce ``events`` - 1 more at once,
    then (``then`` = "ping") ping; returns the frames received after ``hello`` up to the last
    event (and the pong), and the events' numbers."""
    volunteer = member(desk)
    headers = headers_for(volunteer.user)

    async def flow() -> tuple[list[dict[str, Any]], list[int]]:
        comm = communicator(headers)
        await comm.connect()
        try:
            await until(comm, "hello")

            async def announce(n: int) -> int:
                return await sync_to_async(send_numbered)(
                    desk.pk, "question.queued", {"question_id": n}
                )

            # The first after a quiet spell goes at once, whatever the window.
            seqs = [await announce(0)]
            frames: list[dict[str, Any]] = [await comm.receive_json_from(timeout=TIMEOUT)]
            seqs += [await announce(n) for n in range(1, events)]
            if then == "ping":
                assert await comm.receive_nothing(timeout=0.3), "held events went out alone"
                await comm.send_json_to({"action": "ping"})
                pong, before = await until(comm, "pong")
                frames += [*before, pong]
            else:
                while sum(len(f.get("events", [f])) for f in frames) < events:
                    frames.append(await comm.receive_json_from(timeout=TIMEOUT))
            return frames, seqs
        finally:
            await comm.disconnect()

    return async_to_sync(flow)()


def test_events_close_together_go_out_as_one_frame_after_the_first(
    desk: Brand, settings: Any
) -> None:
    # Given a window of 0.3 s
    settings.QUEUE_COALESCE_SECONDS = 0.3

    # When an event is announced, then three more at once
    frames, seqs = coalesced_flow(desk, 4)

    # Then the first goes at once, alone, and the other three together, in their order
    assert [f["type"] for f in frames] == ["event", "events"]
    assert frames[0]["seq"] == seqs[0]
    assert [e["seq"] for e in frames[1]["events"]] == seqs[1:]
    assert frames[1]["events"][2] == {
        "type": "event",
        "kind": "question.queued",
        "seq": seqs[3],
        "payload": {"question_id": 3},
    }


def test_held_events_go_out_before_a_reply_so_a_pong_never_overtakes_them(
    desk: Brand, settings: Any
) -> None:
    # Given a window far longer than the test
    settings.QUEUE_COALESCE_SECONDS = 60

    # When an event is announced, then two more, then the client pings
    frames, seqs = coalesced_flow(desk, 3, then="ping")

    # Then the held two come before the pong, whose number is theirs: no gap to resync
    assert [f["type"] for f in frames] == ["event", "events", "pong"]
    assert [e["seq"] for e in frames[1]["events"]] == seqs[1:]
    assert frames[2]["seq"] == seqs[-1]


def test_without_a_window_each_event_is_its_own_frame(desk: Brand, settings: Any) -> None:
    settings.QUEUE_COALESCE_SECONDS = 0

    frames, seqs = coalesced_flow(desk, 3)

    assert [(f["type"], f["seq"]) for f in frames] == [("event", s) for s in seqs]


def test_a_process_hears_a_group_once_however_many_sockets_follow_it(desk: Brand) -> None:
    # Given three volunteers of the brand with the queue open in one process
    people = [member(desk) for _ in range(3)]
    group = brand_queue_group(desk.pk)
    headers = [headers_for(p.user) for p in people]

    async def flow() -> tuple[list[int], list[dict[str, Any]], int]:
        comms = [communicator(h) for h in headers]
        try:
            for comm in comms:
                await comm.connect()
                await until(comm, "hello")
            layer = get_channel_layer(EVENTS_LAYER)
            subscribed = [hub.listeners_of(group)]
            if isinstance(layer, InMemoryChannelLayer):
                subscribed.append(len(layer.groups.get(group, {})))
            # When an event is announced
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 9})
            heard = [(await until(comm, "event"))[0] for comm in comms]
        finally:
            for comm in comms:
                await comm.disconnect()
        return subscribed, heard, hub.listeners_of(group)

    subscribed, heard, after = async_to_sync(flow)()

    # Then the process holds one subscription with three sockets on it, each socket hears
    # the event, and the last socket out closes the subscription
    assert subscribed[0] == 3
    assert subscribed[1:] in ([], [1])
    assert [e["payload"] for e in heard] == [{"question_id": 9}] * 3
    assert after == 0


def test_an_event_heard_while_the_hello_is_prepared_comes_after_the_hello(
    desk: Brand, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an event announced after the socket joined its group and before its hello went
    # (while the hello's number is read)
    volunteer = member(desk)
    headers = headers_for(volunteer.user)
    real = helpdesk.sequence.current_sequence
    announced: list[int] = []

    def number_with_an_event_meanwhile(group: str) -> int:
        if not announced:
            announced.append(send_numbered(desk.pk, "question.queued", {"question_id": 5}))
            time.sleep(0.2)  # the event reaches the process before the number is read
        return real(group)

    monkeypatch.setattr(helpdesk.consumers, "current_sequence", number_with_an_event_meanwhile)

    async def flow() -> list[dict[str, Any]]:
        comm = communicator(headers)
        await comm.connect()
        try:
            return [await comm.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
        finally:
            await comm.disconnect()

    first, second = async_to_sync(flow)()

    # Then the hello comes first (its number already covers the event), then the event
    assert first["type"] == "hello" and first["seq"] >= announced[0]
    assert second["type"] == "event" and second["seq"] == announced[0]


@pytest.mark.redis
def test_a_message_the_layer_cannot_read_does_not_deafen_the_process(desk: Brand) -> None:
    # Given a volunteer following the queue, on Redis
    volunteer = member(desk)
    headers = headers_for(volunteer.user)
    channels = pubsub_channels([brand_queue_group(desk.pk)])
    assert channels is not None, "the events layer is not Redis pub/sub here"

    async def flow() -> dict[str, Any]:
        comm = communicator(headers)
        try:
            await comm.connect()
            await until(comm, "hello")
            # When something publishes bytes that are no message on the group's channel,
            # then a real event follows
            await sync_to_async(helpdesk.sequence._client().publish)(
                *channels.values(), b"\xc1 not msgpack"
            )
            await sync_to_async(send_numbered)(desk.pk, "question.queued", {"question_id": 7})
            event, _ = await until(comm, "event")
            return event
        finally:
            await comm.disconnect()

    # Then the socket still hears the event
    assert async_to_sync(flow)()["payload"] == {"question_id": 7}


def test_a_socket_that_caught_up_before_its_reply_is_not_sent_the_same_events_again(
    desk: Brand, settings: Any
) -> None:
    # Given a window of half a second and two volunteers of the brand on the queue
    settings.QUEUE_COALESCE_SECONDS = 0.5
    headers = [headers_for(member(desk).user) for _ in range(2)]

    async def flow() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[int]]:
        pinger, quiet = communicator(headers[0]), communicator(headers[1])
        try:
            for comm in (pinger, quiet):
                await comm.connect()
                await until(comm, "hello")

            async def announce_one(n: int) -> int:
                return await sync_to_async(send_numbered)(
                    desk.pk, "question.queued", {"question_id": n}
                )

            # When an event goes out after a quiet spell, two more come within the window
            # and one socket pings before the window ends
            seqs = [await announce_one(0)]
            for comm in (pinger, quiet):
                await comm.receive_json_from(timeout=TIMEOUT)
            seqs += [await announce_one(1), await announce_one(2)]
            await asyncio.sleep(0.1)  # heard by the process, kept for the window
            await pinger.send_json_to({"action": "ping"})
            pong, pinger_heard = await until(pinger, "pong")
            quiet_heard = [await quiet.receive_json_from(timeout=TIMEOUT)]
            # (the window has ended: the hub wrote to every socket that had not had them)
            await asyncio.sleep(0.6)
            assert await pinger.receive_nothing(timeout=0.2)
            assert await quiet.receive_nothing(timeout=0.2)
            return [*pinger_heard, pong], quiet_heard, seqs
        finally:
            await pinger.disconnect()
            await quiet.disconnect()

    pinger_frames, quiet_frames, seqs = async_to_sync(flow)()

    # Then the pinging socket had the two events before its pong and not again at the end of
    # the window; the other had them once, when the window ended
    assert [f["type"] for f in pinger_frames] == ["events", "pong"]
    assert [e["seq"] for e in pinger_frames[0]["events"]] == seqs[1:]
    assert pinger_frames[1]["seq"] == seqs[-1]
    assert [f["type"] for f in quiet_frames] == ["events"]
    assert [e["seq"] for e in quiet_frames[0]["events"]] == seqs[1:]
