"""Websocket routes. The live queue's consumer arrives with the live-desk issue."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
