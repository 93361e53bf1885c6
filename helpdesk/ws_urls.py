"""Websocket routes (wrapped in the origin check and the session in ``helpdesk.asgi``)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from helpdesk.consumers import QueueConsumer
from helpdesk.monitoring.consumers import MonitoringConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/queue/", QueueConsumer.as_asgi()),
    path("ws/monitoring/", MonitoringConsumer.as_asgi()),
]
