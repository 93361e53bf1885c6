"""Celery tasks of monitoring: thin, they call ``helpdesk.monitoring.spikes``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="helpdesk.monitoring.tasks.detect_spikes", ignore_result=True)
def detect_spikes() -> int:
    """Look for spikes in every brand's last hour; returns how many alerts were raised."""
    from helpdesk.monitoring.spikes import detect_spikes as detect

    return len(detect().detected)
