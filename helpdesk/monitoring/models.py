"""Monitoring's own rows."""

from __future__ import annotations
