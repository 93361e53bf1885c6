"""The live queue's websocket: events for the person's brand, and claim actions.

The socket only announces; the page's state comes from ``/queue/`` and is reloaded whenever
the client reconnects or sees a gap in the event numbers (DESIGN invariant 7). The session,
the role and the gate are checked on connect and again on every client message
(invariant 8): a person signed out meanwhile is closed with 4401, one the role or the gate
refuses gets a final ``refused`` message and is closed with 4403. Once a full check has
passed, each message's check is one statement (:func:`_still_allowed`: the session row, the
account and its session hash, the desk role in the brand and the gate); only when it says no
does the full check run again, to refuse with its reasons. The origin is checked by
``AllowedHostsOriginValidator`` in ``helpdesk.asgi``.

Client → server (JSON objects, at most ``MAX_MESSAGE_BYTES``):
  ``{"action": "claim" | "release" | "renew", "question_id": int}``,
  ``{"action": "resync", "since": int}``, ``{"action": "ping"}``.
Server → client: ``hello``, ``event``, ``events``, ``claim_result``, ``release_result``,
``renew_result``, ``resync``, ``pong``, ``error``, ``refused``. ``events`` is
``{"type": "events", "events": [event, ...]}``: events that arrived within
``QUEUE_COALESCE_SECONDS`` of the last event frame of the socket's process, in their order, sent
as one frame (one socket write instead of one per event); a client handles each as it would
an ``event``. Held events go out before any other message, so a ``pong`` or a
``claim_result`` never overtakes them. Bad input gets an ``error`` and the socket stays open
(invariant 9). ``pong`` carries the group's current number, so a client that pings learns of
a lost last event.

The brand's events arrive through the process's one subscription to the group
(``helpdesk.hub``, on the ``EVENTS_LAYER`` channel layer) with their frame already encoded;
the hub keeps them for its window and hands each socket the joined frame
(:meth:`QueueConsumer.take`), which the socket writes at once. Events sent to the socket's own
channel are held by the socket itself (:meth:`QueueConsumer.hold`), on the same window.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import import_module
from typing import Any, TypeVar, cast

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, get_user
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from charter.gate import may_claim, may_claim_sql
from helpdesk import hub, on_loop
from helpdesk.events import EVENTS_LAYER, brand_queue_group, frame_of, person_group
from helpdesk.models import Question, Volunteer
from helpdesk.monitoring.counters import WEBSOCKETS
from helpdesk.moves import execute_prepared
from helpdesk.permissions import DESK_ROLES, volunteer_for
from helpdesk.sequence import current_sequence
from routing.claims import (
    ClaimError,
    ClaimResult,
    claim_question,
    claim_question_on_loop,
    release_question,
    release_question_on_loop,
    renew_lease,
)

T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4096
STATE_URL = "/queue/"
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class _Refused(Exception):
    def __init__(self, code: int, reasons: list[dict[str, str]]) -> None:
        super().__init__(code)
        self.code = code
        self.reasons = reasons


def in_db_thread(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``func`` run by ``database_sync_to_async``: on PostgreSQL in the event loop's pool of
    threads, each with its own connection, so one person's claim does not wait behind every
    other socket's checks in the process (one thread per process was the load bench's claim
    latency: 2,500 sockets' checks in one queue); on SQLite in the one thread-sensitive
    thread, since SQLite takes one writer at a time anyway and its in-memory test database
    locks out other threads instead of waiting."""
    return cast(
        "Callable[..., Awaitable[T]]",
        database_sync_to_async(func, thread_sensitive=not _parallel_database()),
    )


@cache
def _parallel_database() -> bool:
    return "postgresql" in str(settings.DATABASES["default"]["ENGINE"])


class QueueConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """One volunteer's live queue. Joins ``queue.brand.<id>`` of their brand only.

    Asynchronous so that forwarding an event costs no thread hop: with hundreds of sockets
    per process every event is one message per socket. The checks and actions, which read
    the database, run in a worker thread (``in_db_thread``) and return the reply.
    """

    channel_layer_alias = EVENTS_LAYER

    user_id: int | None = None
    brand_id: int | None = None
    language: str = settings.LANGUAGE_CODE
    group: str = ""
    ended: bool = False
    counted: bool = False
    # Where the page reloads its state from.
    state_url: str = STATE_URL
    # The person and their session's hash as the last full check found them (None: check
    # in full next time).
    checked_user: User | None = None
    session_hash: str = ""
    # Whether :meth:`_still_allowed` (the desk role and the claim gate) is this socket's
    # check; a subclass that lets other roles in checks in full every time.
    checks_in_one_statement: bool = True
    # Event frames held for the socket's next write (None: none held, nothing scheduled),
    # and when the last event frame went (the event loop's clock).
    held: list[str] | None = None
    last_event_at: float = float("-inf")
    flush_task: asyncio.Task[None] | None = None
    # Whether the hello went: events heard before it wait for it.
    greeted: bool = False
    # The hub the brand's events come through, and how many of its frames this socket has
    # had or holds (``helpdesk.hub``).
    group_hub: hub.GroupHub | None = None
    hub_seen: int = 0
    # Whether the socket's claims run on the event loop (``helpdesk.on_loop`` joined).
    on_loop: bool = False

    def group_for(self, brand_id: int) -> str:
        return brand_queue_group(brand_id)

    # connect and checks

    async def connect(self) -> None:
        # Accept first: a close before accepting reaches the browser as a bare HTTP 403,
        # without the close code or the reasons.
        await self.accept()
        self.counted = True
        WEBSOCKETS.inc()
        # The person's language, as the pages pick it: their saved choice, else the browser's.
        self.language = _language_of(self.scope)
        with translation.override(self.language):
            await self._connect()

    async def _connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._end(CLOSE_UNAUTHENTICATED, [_reason("not_signed_in", _("Sign in first."))])
            return
        try:
            brand_id = await in_db_thread(self._first_check)(user)
        except _Refused as refused:
            await self._end(refused.code, refused.reasons)
            return
        self.user_id = user.pk
        self.brand_id = brand_id
        if self.checks_in_one_statement and on_loop.available():
            try:
                await on_loop.join()
                self.on_loop = True
            except Exception:  # the claims run in a worker thread instead
                log.warning("could not open the loop's database connections", exc_info=True)
        self.group = self.group_for(brand_id)
        await self.channel_layer.group_add(person_group(user.pk), self.channel_name)
        # The brand's events come through the process's one subscription to the group.
        self.group_hub = await hub.join(self.group, self)
        # Joined before reading the number: nothing announced after it is missed.
        seq = await in_db_thread(current_sequence)(self.group)
        # The window tells the page how long an event may be held: a hole in the numbers
        # waits that long more for its event before the page reloads.
        window_ms = round(settings.QUEUE_COALESCE_SECONDS * 1000)
        await self.send_json(
            {"type": "hello", "seq": seq, "state_url": self.state_url, "window_ms": window_ms}
        )
        self.greeted = True
        if self.held is not None:  # events heard while the number was read: now
            self.flush_task = asyncio.get_running_loop().create_task(self._flush_after(0))

    async def disconnect(self, code: int) -> None:
        if self.flush_task is not None:
            self.flush_task.cancel()
            self.flush_task = None
        self.held = None
        if self.on_loop:
            self.on_loop = False
            await on_loop.leave()
        if self.counted:  # called again by channels after a refusal closed the socket
            self.counted = False
            WEBSOCKETS.dec()
        if self.group:
            group, self.group = self.group, ""
            self.group_hub = None
            await hub.leave(group, self)
            if self.user_id is not None:
                await self.channel_layer.group_discard(
                    person_group(self.user_id), self.channel_name
                )

    def _first_check(self, user: Any) -> int:
        """The brand whose queue ``user`` (the scope's) may follow now, or _Refused; and the
        check remembered, so that even the socket's first message is checked in one
        statement (:meth:`_still_allowed`). The scope's user is the session's, checked
        against the password the session was signed in with (channels' ``get_user``), so
        this is the full check: each socket's first claim no longer pays for it again (after
        a rolling restart every volunteer's socket reconnects and claims soon after)."""
        brand_id = self._allowed(user)
        person = getattr(user, "_wrapped", user)  # channels' UserLazyObject, resolved
        session = self.scope.get("session")
        if isinstance(person, User) and session is not None and self.checks_in_one_statement:
            self.session_hash = str(session.get(HASH_SESSION_KEY, ""))
            self.checked_user = person
        return brand_id

    def _allowed(self, user: User) -> int:
        """The brand whose queue ``user`` may follow now, or _Refused."""
        with translation.override(self.language):
            return self._allowed_brand(user)

    def _allowed_brand(self, user: User) -> int:
        volunteer = volunteer_for(user)
        if volunteer is None or volunteer.role not in DESK_ROLES:
            raise _Refused(
                CLOSE_FORBIDDEN,
                [_reason("not_desk_role", _("The live queue is not part of your role."))],
            )
        decision = may_claim(user, volunteer.brand_id)
        if not decision.allowed:
            raise _Refused(CLOSE_FORBIDDEN, [reason.as_json() for reason in decision.reasons])
        return volunteer.brand_id

    def _session_user(self) -> User | None:
        """The session's user as the database has it now (None: signed out, password
        changed, deactivated, or no longer the user this socket was opened for)."""
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if not key:
            return None
        engine = import_module(settings.SESSION_ENGINE)
        request = HttpRequest()
        request.session = engine.SessionStore(session_key=key)
        user = get_user(request)
        if not isinstance(user, User) or not user.is_active or user.pk != self.user_id:
            return None
        self.session_hash = str(request.session.get(HASH_SESSION_KEY, ""))
        return user

    def _recheck(self) -> User:
        known = self.checked_user
        if known is not None and self.checks_in_one_statement and self._still_allowed(known):
            return known
        self.checked_user = None
        user = self._full_check()
        self.checked_user = user
        return user

    def _still_allowed(self, user: User) -> bool:
        """Whether everything the full check passed still holds, in one statement: the
        session's row unexpired, the account active with the password the session was signed
        in with, a desk role in this brand, and the gate (``may_claim_sql``, the claim's own).
        False sends the message to the full check, which says why."""
        statement = self._check_statement(user)
        if statement is None:
            return False
        sql, params = statement
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                execute_prepared(cursor, sql, params)
            else:
                cursor.execute(sql, params)
            row = cursor.fetchone()
        return self._check_passes(user, row)

    async def _still_allowed_on_loop(self, user: User) -> bool:
        """:meth:`_still_allowed` awaited on the event loop (``helpdesk.on_loop``), in one
        statement with the checks of every other claim waiting on the loop."""
        request = self._check_request(user)
        if request is None:
            return False
        return self._check_passes(user, await on_loop.batched("check", request, _checks))

    def _check_request(self, user: User) -> tuple[int, int, str] | None:
        """What the one-statement check checks: the person, the brand and the session's key
        (None: no session or brand to check)."""
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if not session_key or self.brand_id is None:
            return None
        return user.pk, self.brand_id, session_key

    def _check_statement(self, user: User) -> tuple[str, list[Any]] | None:
        """:meth:`_still_allowed`'s statement (None: no session or brand to check)."""
        request = self._check_request(user)
        if request is None:
            return None
        source = (
            "(SELECT 1 AS n, CAST(%s AS bigint) AS user_id, CAST(%s AS bigint) AS brand_id, "
            "CAST(%s AS varchar) AS session_key) chk_r"
        )
        return _checks_statement(source, list(request))

    def _check_passes(self, user: User, row: tuple[Any, ...] | None) -> bool:
        """Whether the check statement's row (its number, the password, then each condition)
        lets the person on."""
        if row is None or not all(row[2:]):
            return False
        signed_with = User(pk=user.pk, password=row[1]).get_session_auth_hash()
        return constant_time_compare(self.session_hash, signed_with)

    def _full_check(self) -> User:
        user = self._session_user()
        if user is None:
            raise _Refused(CLOSE_UNAUTHENTICATED, [_reason("not_signed_in", _("Sign in again."))])
        if self._allowed(user) != self.brand_id:
            raise _Refused(
                CLOSE_FORBIDDEN, [_reason("brand_changed", _("Your programme changed; reload."))]
            )
        return user

    async def _end(self, code: int, reasons: list[dict[str, str]]) -> None:
        self.ended = True
        await self.send_json({"type": "refused", "reasons": reasons})
        await self.disconnect(code)
        await self.close(code=code)

    # channel-layer events

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Before every handler, channels closes stale database connections through the
        # thread-sensitive executor: one thread hop per socket per message, all of them queued
        # on one thread. Forwarding an event touches no database, and a client message's
        # database work runs in ``in_db_thread`` (``database_sync_to_async``, which closes
        # stale connections around each call, in the thread whose connection it uses) or on
        # the loop's own connections (a claim, ``helpdesk.on_loop``): neither needs that hop.
        # For events it was most of the fan-out's cost; for client messages, a burst's
        # claims queued behind one another's hops (about sixty a process at once: p95 18-35 ms
        # before the handler began; docs/benchmarks.md, Load). The socket's connect,
        # disconnect and pushed re-checks go through channels as before.
        kind = message.get("type")
        if kind == "desk.event":
            await self.desk_event(message)
        elif kind == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def desk_event(self, message: dict[str, Any]) -> None:
        """An event sent to this socket's own channel (the brand's come through the hub)."""
        self.hold(frame_of(message))

    def take(self, frames: list[str], first: int, texts: list[str]) -> None:
        """The hub's write of ``frames`` (numbered from ``first``; ``texts`` joined once for
        every socket): written now, less what this socket had already (it caught up before
        a reply); held while the hello has not gone."""
        skip = self.hub_seen - first
        if skip >= len(frames) or self.ended:
            return
        self.hub_seen = first + len(frames)
        if skip > 0:
            frames = frames[skip:]
            texts = hub.joined(frames)
        if not self.greeted or self.held is not None:
            # Before the hello, or behind frames of the socket's own: in their order.
            for frame in frames:
                self.hold(frame)
            if self.greeted:
                hub.start_now(self.flush_events())
            return
        self.last_event_at = asyncio.get_running_loop().time()
        for text in texts:
            # To the ASGI send, past channels' websocket and JSON layers: the frame is JSON
            # already, and the hub hands it to a thousand sockets at a time.
            hub.start_now(self.base_send({"type": "websocket.send", "text": text}))

    def _catch_up(self) -> None:
        """Hold what the hub keeps for its next write and this socket has not had, to go
        before a message of its own (the hub's write then skips it)."""
        if self.group_hub is None:
            return
        frames = self.group_hub.unwritten(self.hub_seen)
        self.hub_seen = self.group_hub.upto()
        if frames:
            self.held = [*(self.held or []), *frames]

    def hold(self, frame: str) -> None:
        """Keep an event's frame for this socket's next write: at once after a quiet spell,
        else at the end of ``QUEUE_COALESCE_SECONDS`` after the last."""
        if self.ended:
            return
        if self.held is not None:
            self.held.append(frame)  # a write is already scheduled: it takes this one too
            return
        self.held = [frame]
        if not self.greeted:
            return  # kept for after the hello, which goes first
        loop = asyncio.get_running_loop()
        wait = max(0.0, self.last_event_at + settings.QUEUE_COALESCE_SECONDS - loop.time())
        self.flush_task = loop.create_task(self._flush_after(wait))

    async def _flush_after(self, wait: float) -> None:
        await asyncio.sleep(wait)  # 0: the next turn of the loop, with what came meanwhile
        self.flush_task = None
        try:
            await self.flush_events()
        except Exception:  # the socket closed meanwhile: its reconnect reloads
            log.debug("could not send held events", exc_info=True)

    async def flush_events(self) -> None:
        """Send the held event frames now, as one frame (as an ``event`` when only one is
        held)."""
        frames, self.held = self.held, None
        task, self.flush_task = self.flush_task, None
        if task is not None:
            task.cancel()  # sent now, by someone else than the timer
        if not frames or self.ended:
            return
        self.last_event_at = asyncio.get_running_loop().time()
        for text in hub.joined(frames):  # no window: each its own frame, as it came
            await self.send(text_data=text)

    async def send_json(self, content: Any, close: bool = False) -> None:
        if self.greeted:
            self._catch_up()
            if self.held is not None:
                await self.flush_events()  # what was announced before this goes first
        await super().send_json(content, close=close)

    async def desk_recheck(self, message: dict[str, Any]) -> None:
        """The person was suspended, signed out or changed: check again, now."""
        if self.ended:
            return
        try:
            await in_db_thread(self._checked_quietly)()
        except _Refused as refused:
            with translation.override(self.language):
                await self._end(refused.code, refused.reasons)

    def _checked_quietly(self) -> None:
        self.checked_user = None  # pushed: check in full, now
        with translation.override(self.language):
            self._recheck()

    # client messages

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language):
            await self._receive(text_data)

    async def _receive(self, text_data: str | None) -> None:
        if self.ended:
            return
        if text_data is None:
            await self.send_json(_error(_("Send JSON text, not binary frames.")))
            return
        if len(text_data.encode()) > MAX_MESSAGE_BYTES:
            await self.send_json(
                _error(_("Message too large (at most %(n)s bytes).") % {"n": MAX_MESSAGE_BYTES})
            )
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            await self.send_json(_error(_("Not valid JSON.")))
            return
        if not isinstance(content, dict):
            await self.send_json(_error(_("Send a JSON object with an action.")))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        named = content.get("action")
        action = named if isinstance(named, str) else ""
        handler = self._handlers().get(action)
        if handler is None:
            await self.send_json(_error(_("Unknown action.")))
            return
        try:
            on_loop_handler = self._on_loop_handlers().get(action) if self.on_loop else None
            if on_loop_handler is not None:
                reply = await on_loop_handler(content)
            else:
                reply = await in_db_thread(self._checked)(handler, content)
        except _Refused as refused:
            await self._end(refused.code, refused.reasons)
            return
        await self.send_json(reply)

    def _checked(
        self, handler: Callable[[User, dict[str, Any]], dict[str, Any]], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Check the session, role and gate again, then act; the reply to send (in the
        person's language: this runs in a worker thread)."""
        with translation.override(self.language):
            return handler(self._recheck(), content)

    def _handlers(self) -> dict[str, Callable[[User, dict[str, Any]], dict[str, Any]]]:
        return {
            "claim": self._claim,
            "release": self._release,
            "renew": self._renew,
            "resync": self._resync,
            "ping": self._ping,
        }

    def _on_loop_handlers(
        self,
    ) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        """The actions awaited on the event loop on PostgreSQL (``helpdesk.on_loop``): a
        claim, and a release (a tenth of the web processes' time under load while it ran
        in a worker thread with its full check; docs/benchmarks.md, Load)."""
        return {"claim": self._claim_on_loop, "release": self._release_on_loop}

    async def _allowed_on_loop(self) -> tuple[User, int] | None:
        """The person and the brand, when the one-statement check on the loop passes
        (batched with the other sockets' checks waiting on it); None: the caller goes to the
        full check in a worker thread, as any other message's does, to refuse with its
        reasons."""
        known, brand_id = self.checked_user, self.brand_id
        if known is None or brand_id is None or not await self._still_allowed_on_loop(known):
            return None
        return known, brand_id

    def _question_id(self, content: dict[str, Any], *, exists: bool = True) -> int | dict[str, Any]:
        """The message's question of this brand (a question of another brand looks like
        none at all), or the error to send. ``exists=False``: the action checks the brand
        itself, so only the id's form is checked here."""
        value = content.get("question_id")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return _error(_("question_id must be a positive integer."))
        if self.brand_id is None or (
            exists and not Question.objects.filter(pk=value, brand_id=self.brand_id).exists()
        ):
            return _error(_("No such question."), question_id=value)
        return value

    async def _claim_on_loop(self, content: dict[str, Any]) -> dict[str, Any]:
        """:meth:`_claim` after :meth:`_checked`'s check, awaited on the event loop: the
        one-statement check, then the claim's statement, each one round trip on the loop's
        connections. A check that does not pass goes to the full check in a worker thread,
        as any other message's does, to refuse with its reasons."""
        allowed = await self._allowed_on_loop()
        if allowed is None:
            return await in_db_thread(self._checked)(self._claim, content)
        question_id = self._question_id(content, exists=False)
        if isinstance(question_id, dict):
            return question_id
        result = await claim_question_on_loop(question_id, allowed[0], brand_id=allowed[1])
        return self._claim_reply(question_id, result)

    def _claim(self, user: User, content: dict[str, Any]) -> dict[str, Any]:
        question_id = self._question_id(content, exists=False)
        if isinstance(question_id, dict):
            return question_id
        # The claim itself says whether the question is the brand's (one round trip).
        return self._claim_reply(
            question_id, claim_question(question_id, user, brand_id=self.brand_id)
        )

    def _claim_reply(self, question_id: int, result: ClaimResult) -> dict[str, Any]:
        if result.reason == "not_found":
            return _error(_("No such question."), question_id=question_id)
        return {
            "type": "claim_result",
            "question_id": question_id,
            "won": result.won,
            "reason": result.reason,
            "message": result.message,
            "holder": result.holder_display,
            "refusals": list(result.refusals),
        }

    async def _release_on_loop(self, content: dict[str, Any]) -> dict[str, Any]:
        """:meth:`_release` after the one-statement check, awaited on the event loop: one
        more statement, which releases and writes the audit row. One that releases nothing
        goes to :meth:`_release` in a worker thread, which says why (no such question, not
        the holder, moved meanwhile)."""
        allowed = await self._allowed_on_loop()
        if allowed is not None:
            question_id = self._question_id(content, exists=False)
            if isinstance(question_id, dict):
                return question_id
            if await release_question_on_loop(question_id, allowed[0], brand_id=allowed[1]):
                return _released(question_id)
        return await in_db_thread(self._checked)(self._release, content)

    def _release(self, user: User, content: dict[str, Any]) -> dict[str, Any]:
        question_id = self._question_id(content)
        if isinstance(question_id, dict):
            return question_id
        try:
            release_question(question_id, user)
        except ClaimError as error:
            return _error(str(error), code=error.code, question_id=question_id)
        return _released(question_id)

    def _renew(self, user: User, content: dict[str, Any]) -> dict[str, Any]:
        question_id = self._question_id(content)
        if isinstance(question_id, dict):
            return question_id
        try:
            until = renew_lease(question_id, user)
        except ClaimError as error:
            return _error(str(error), code=error.code, question_id=question_id)
        return {"type": "renew_result", "question_id": question_id, "until": until.isoformat()}

    def _resync(self, user: User, content: dict[str, Any]) -> dict[str, Any]:
        since = content.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            return _error(_("since must be a non-negative integer."))
        # The database is the truth: the client reloads its list and continues from here.
        return {
            "type": "resync",
            "seq": current_sequence(self.group),
            "reload": True,
            "state_url": self.state_url,
        }

    def _ping(self, user: User, content: dict[str, Any]) -> dict[str, Any]:
        return {"type": "pong", "seq": current_sequence(self.group)}


def _released(question_id: int) -> dict[str, Any]:
    return {"type": "release_result", "question_id": question_id, "ok": True}


def _checks_statement(source: str, params: list[Any]) -> tuple[str, list[Any]]:
    """The one-statement check (:meth:`QueueConsumer._still_allowed`) of each row of
    ``source`` (named ``chk_r``, with ``n``, ``user_id``, ``brand_id``, ``session_key``;
    ``params`` its parameters): per row, its ``n``, the account's password, the session
    unexpired, a desk role in the brand, and the gate. An inactive account has no row."""
    now = timezone.now()
    gate_sql, gate_params = may_claim_sql(None, "chk_r.brand_id", now, user_column="chk_r.user_id")
    roles = sorted(str(role) for role in DESK_ROLES)
    volunteers = Volunteer._meta.db_table
    sql = f"""
        SELECT chk_r.n, chk_u.password,
            EXISTS (SELECT 1 FROM {Session._meta.db_table} chk_s
                    WHERE chk_s.session_key = chk_r.session_key AND chk_s.expire_date > %s),
            EXISTS (SELECT 1 FROM {volunteers} chk_v
                    WHERE chk_v.user_id = chk_u.id AND chk_v.brand_id = chk_r.brand_id
                      AND chk_v.role IN ({", ".join(["%s"] * len(roles))})),
            ({gate_sql})
        FROM {source}
        JOIN {User._meta.db_table} chk_u ON chk_u.id = chk_r.user_id AND chk_u.is_active"""  # noqa: S608 - ours
    when = connection.ops.adapt_datetimefield_value(now)
    return sql, [when, *roles, *gate_params, *params]


async def _checks(requests: list[tuple[int, int, str]]) -> list[tuple[Any, ...] | None]:
    """The checks of the claims waiting on the loop (person, brand, session key each), in
    one statement (PostgreSQL): each one's row, or None."""
    rows = {row[0]: row for row in await on_loop.fetchall(*_many_checks_statement(requests))}
    return [rows.get(n) for n in range(1, len(requests) + 1)]


def _many_checks_statement(requests: list[tuple[int, int, str]]) -> tuple[str, list[Any]]:
    """:func:`_checks_statement` of each request, each checked on its own (a lateral
    subquery of one row). Checked all at once, the statement's generic plan (which the
    loop's connections keep) expects ten requests, and found it cheaper to read every
    session, every active account and every standing once into hash tables than to look
    ten of each up: 3.1 ms a check with 2,500 volunteers, growing with them, where the
    lookups of one request take 0.09 ms (docs/benchmarks.md, Routing and claims)."""
    sql, params = _checks_statement(
        "(SELECT chk_b.n, chk_b.user_id, chk_b.brand_id, chk_b.session_key) chk_r", []
    )
    # OFFSET 0: the subquery is planned on its own (one row), not merged into this one.
    many = f"""
        SELECT chk_c.*
        FROM UNNEST(CAST(%s AS bigint[]), CAST(%s AS bigint[]), CAST(%s AS varchar[]))
            WITH ORDINALITY AS chk_b(user_id, brand_id, session_key, n)
        CROSS JOIN LATERAL ({sql} OFFSET 0) chk_c"""  # noqa: S608 - ours
    people = [[r[0] for r in requests], [r[1] for r in requests], [r[2] for r in requests]]
    return many, [*people, *params]


# Every new connection of the loop prepares the checks' statement, checking no one (a
# session key no session has, for a person and a brand no row has).
on_loop.prepare_on_connect(
    "checks", lambda: _many_checks_statement([(on_loop.NO_ONE, on_loop.NO_ONE, "")])
)


def _language_of(scope: dict[str, Any]) -> str:
    request = HttpRequest()
    request.COOKIES = dict(scope.get("cookies") or {})
    for name, value in scope.get("headers") or []:
        if name == b"accept-language":
            request.META["HTTP_ACCEPT_LANGUAGE"] = value.decode("latin-1")
    return translation.get_language_from_request(request)


def _error(error: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "error": error, **extra}


def _reason(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}
