"""Celery tasks of monitoring: thin, they call the module that does the work."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="helpdesk.monitoring.tasks.warn_x_budgets", ignore_result=True)
def warn_x_budgets() -> int:
    """E-mail the 80 % warning of the X budget to brands that have not had it this month."""
    from helpdesk.monitoring.budget import warn_budgets

    return warn_budgets()


@shared_task(name="helpdesk.monitoring.tasks.detect_spikes", ignore_result=True)
def detect_spikes() -> int:
    """Look for spikes in every brand's last hour; returns how many alerts were raised."""
    from helpdesk.monitoring.spikes import detect_spikes as detect

    return len(detect().detected)
