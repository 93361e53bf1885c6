"""The live queue's websocket: events for the person's brand, and claim actions.

The socket only announces; the page's state comes from ``/queue/`` and is reloaded whenever
the client reconnects or sees a gap in the event numbers (DESIGN invariant 7). The session,
the role and the gate are checked on connect and again on every client message
(invariant 8): a person signed out meanwhile is closed with 4401, one the role or the gate
refuses gets a final ``refused`` message and is closed with 4403. The origin is checked by
``AllowedHostsOriginValidator`` in ``helpdesk.asgi``.

Client → server (JSON objects, at most ``MAX_MESSAGE_BYTES``):
  ``{"action": "claim" | "release" | "renew", "question_id": int}``,
  ``{"action": "resync", "since": int}``, ``{"action": "ping"}``.
Server → client: ``hello``, ``event``, ``claim_result``, ``release_result``,
``renew_result``, ``resync``, ``pong``, ``error``, ``refused``. Bad input gets an
``error`` and the socket stays open (invariant 9).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from channels.generic.websocket import JsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import User
from django.http import HttpRequest

from charter.gate import may_claim
from helpdesk.events import brand_queue_group
from helpdesk.models import Question
from helpdesk.permissions import DESK_ROLES, volunteer_for
from helpdesk.sequence import current_sequence
from routing.claims import ClaimError, claim_question, release_question, renew_lease

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


class QueueConsumer(JsonWebsocketConsumer):  # type: ignore[misc]  # channels is untyped
    """One volunteer's live queue. Joins ``queue.brand.<id>`` of their brand only."""

    user_id: int | None = None
    brand_id: int | None = None
    group: str = ""
    ended: bool = False

    # connect and checks

    def connect(self) -> None:
        # Accept first: a close before accepting reaches the browser as a bare HTTP 403,
        # without the close code or the reasons.
        self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            self._end(CLOSE_UNAUTHENTICATED, [_reason("not_signed_in", "Sign in first.")])
            return
        try:
            brand_id = self._allowed(user)
        except _Refused as refused:
            self._end(refused.code, refused.reasons)
            return
        self.user_id = user.pk
        self.brand_id = brand_id
        self.group = brand_queue_group(brand_id)
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        # Joined before reading the number: nothing announced after it is missed.
        self.send_json(
            {"type": "hello", "seq": current_sequence(self.group), "state_url": STATE_URL}
        )

    def disconnect(self, code: int) -> None:
        if self.group:
            async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)
            self.group = ""

    def _allowed(self, user: User) -> int:
        """The brand whose queue ``user`` may follow now, or _Refused."""
        volunteer = volunteer_for(user)
        if volunteer is None or volunteer.role not in DESK_ROLES:
            raise _Refused(
                CLOSE_FORBIDDEN,
                [_reason("not_desk_role", "The live queue is not part of your role.")],
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
        return user

    def _recheck(self) -> User:
        user = self._session_user()
        if user is None:
            raise _Refused(CLOSE_UNAUTHENTICATED, [_reason("not_signed_in", "Sign in again.")])
        if self._allowed(user) != self.brand_id:
            raise _Refused(
                CLOSE_FORBIDDEN, [_reason("brand_changed", "Your programme changed; reload.")]
            )
        return user

    def _end(self, code: int, reasons: list[dict[str, str]]) -> None:
        self.ended = True
        self.send_json({"type": "refused", "reasons": reasons})
        self.disconnect(code)
        self.close(code=code)

    # channel-layer events

    def desk_event(self, message: dict[str, Any]) -> None:
        if self.ended:
            return
        seq = message.get("seq")
        payload = message.get("payload")
        if seq is None and isinstance(payload, dict):
            seq = payload.get("seq")
        self.send_json(
            {
                "type": "event",
                "kind": str(message.get("kind", "")),
                "seq": seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
                "payload": payload if isinstance(payload, dict) else {},
            }
        )

    # client messages

    def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        if text_data is None:
            self._error("Send JSON text, not binary frames.")
            return
        if len(text_data.encode()) > MAX_MESSAGE_BYTES:
            self._error(f"Message too large (at most {MAX_MESSAGE_BYTES} bytes).")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            self._error("Not valid JSON.")
            return
        if not isinstance(content, dict):
            self._error("Send a JSON object with an action.")
            return
        self.receive_json(content)

    def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        action = content.get("action")
        handler = self._handlers().get(action) if isinstance(action, str) else None
        if handler is None:
            self._error("Unknown action.")
            return
        try:
            user = self._recheck()
        except _Refused as refused:
            self._end(refused.code, refused.reasons)
            return
        handler(user, content)

    def _handlers(self) -> dict[str, Callable[[User, dict[str, Any]], None]]:
        return {
            "claim": self._claim,
            "release": self._release,
            "renew": self._renew,
            "resync": self._resync,
            "ping": self._ping,
        }

    def _question_id(self, content: dict[str, Any]) -> int | None:
        """The message's question of this brand (a question of another brand looks like
        none at all); None after sending the error."""
        value = content.get("question_id")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self._error("question_id must be a positive integer.")
            return None
        if (
            self.brand_id is None
            or not Question.objects.filter(pk=value, brand_id=self.brand_id).exists()
        ):
            self._error("No such question.", question_id=value)
            return None
        return value

    def _claim(self, user: User, content: dict[str, Any]) -> None:
        question_id = self._question_id(content)
        if question_id is None:
            return
        result = claim_question(question_id, user)
        self.send_json(
            {
                "type": "claim_result",
                "question_id": question_id,
                "won": result.won,
                "reason": result.reason,
                "message": result.message,
                "holder": result.holder_display,
                "refusals": list(result.refusals),
            }
        )

    def _release(self, user: User, content: dict[str, Any]) -> None:
        question_id = self._question_id(content)
        if question_id is None:
            return
        try:
            release_question(question_id, user)
        except ClaimError as error:
            self._error(str(error), code=error.code, question_id=question_id)
            return
        self.send_json({"type": "release_result", "question_id": question_id, "ok": True})

    def _renew(self, user: User, content: dict[str, Any]) -> None:
        question_id = self._question_id(content)
        if question_id is None:
            return
        try:
            until = renew_lease(question_id, user)
        except ClaimError as error:
            self._error(str(error), code=error.code, question_id=question_id)
            return
        self.send_json(
            {"type": "renew_result", "question_id": question_id, "until": until.isoformat()}
        )

    def _resync(self, user: User, content: dict[str, Any]) -> None:
        since = content.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            self._error("since must be a non-negative integer.")
            return
        # The database is the truth: the client reloads its list and continues from here.
        self.send_json(
            {
                "type": "resync",
                "seq": current_sequence(self.group),
                "reload": True,
                "state_url": STATE_URL,
            }
        )

    def _ping(self, user: User, content: dict[str, Any]) -> None:
        self.send_json({"type": "pong"})

    def _error(self, error: str, **extra: Any) -> None:
        self.send_json({"type": "error", "error": error, **extra})


def _reason(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}
