"""Spike alerts, to read: the detector writes them, nobody edits them here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from helpdesk.monitoring.models import SpikeAlert


@admin.register(SpikeAlert)
class SpikeAlertAdmin(admin.ModelAdmin[SpikeAlert]):
    list_display = (
        "brand",
        "detected_at",
        "reasons",
        "volume",
        "expected_volume",
        "negative",
        "topic",
        "ended_at",
        "emailed_at",
    )
    list_filter = ("brand",)
    date_hierarchy = "detected_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
