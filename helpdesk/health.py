"""What /healthz reports: the database, the channel layers, the broker and each X account;
and who may read more than whether the desk is up."""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from helpdesk.crypto import TokenDecryptionError
from helpdesk.events import EVENTS_LAYER
from helpdesk.models import XAccount

CREDENTIALS = (
    "bearer_token",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
)


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "vendor": connection.vendor}


def _check_channel_layer(alias: str = "default") -> dict[str, Any]:
    try:
        layer = get_channel_layer(alias)
    except Exception as error:  # an alias missing from CHANNEL_LAYERS, a bad backend
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    backend = type(layer).__name__
    if alias == EVENTS_LAYER and not isinstance(layer, InMemoryChannelLayer):
        # Redis pub/sub: a publish proves Redis takes the announcements. A round trip would
        # subscribe this process to a channel, which pub/sub keeps until the process ends.
        try:
            async_to_sync(layer.send)("healthz.events", {"type": "healthz.ping"})
        except Exception as error:
            return {"ok": False, "backend": backend, "error": f"{type(error).__name__}: {error}"}
        return {"ok": True, "backend": backend}
    try:
        channel = async_to_sync(layer.new_channel)("healthz.")
        token = uuid.uuid4().hex
        async_to_sync(layer.send)(channel, {"type": "healthz.ping", "token": token})
        message = async_to_sync(layer.receive)(channel)
    except Exception as error:
        return {"ok": False, "backend": backend, "error": f"{type(error).__name__}: {error}"}
    return {"ok": message.get("token") == token, "backend": backend}


def _check_broker() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    from helpdesk.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        return {"ok": False, "mode": "redis", "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "mode": "redis"}


def _accounts() -> list[dict[str, Any]]:
    return [
        {
            "username": a.username,
            "active": a.is_active,
            "last_polled_at": a.last_polled_at.isoformat() if a.last_polled_at else None,
            "next_poll_at": a.next_poll_at.isoformat(),
            "consecutive_failures": a.consecutive_failures,
            "last_error": a.last_error,
            "last_error_at": a.last_error_at.isoformat() if a.last_error_at else None,
        }
        for a in XAccount.objects.defer(*CREDENTIALS).order_by("username")
    ]


def _check_credentials() -> dict[str, Any]:
    """Whether this process can read the care accounts' credentials: they are encrypted with
    a key from SECRET_KEY (or HELPFORCE_TOKEN_KEY), which every process must share."""
    try:
        list(XAccount.objects.only("pk", *CREDENTIALS))  # loading decrypts them
    except TokenDecryptionError:
        return {
            "ok": False,
            "error": "the care accounts' credentials cannot be decrypted: SECRET_KEY or "
            "HELPFORCE_TOKEN_KEY differs from the one they were stored with",
        }
    return {"ok": True}


def health_report() -> tuple[bool, dict[str, Any]]:
    """(healthy, report). Healthy means the database, both channel layers and the broker
    answer;
    an X account's errors are reported but do not make the desk unhealthy."""
    report: dict[str, Any] = {
        "database": _check_database(),
        "channel_layer": _check_channel_layer(),
        "events_layer": _check_channel_layer(EVENTS_LAYER),
        "broker": _check_broker(),
    }
    if report["database"]["ok"]:
        report["credentials"] = _check_credentials()
        report["x_accounts"] = _accounts()
    else:
        report["credentials"] = {"ok": False, "error": "the database does not answer"}
        report["x_accounts"] = []
    parts = ("database", "channel_layer", "events_layer", "broker", "credentials")
    healthy = all(report[k]["ok"] for k in parts)
    report["ok"] = healthy
    return healthy, report


def may_read_health_details(request: HttpRequest) -> bool:
    """Whether ``request`` may see every part's details: a superuser (who runs the whole
    desk: the report names every brand's care accounts), or a monitor sending
    ``Authorization: Bearer <HELPFORCE_METRICS_TOKEN>``."""
    user = request.user
    if user.is_authenticated and user.is_active and user.is_superuser:
        return True
    return bearer_token_matches(request)


def bearer_token_matches(request: HttpRequest) -> bool:
    """Whether ``request`` sends ``Authorization: Bearer <HELPFORCE_METRICS_TOKEN>`` (never,
    when no token is set)."""
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())
