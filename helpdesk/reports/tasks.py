"""Celery tasks of the reports: thin, they call ``helpdesk.reports.emails``."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="helpdesk.reports.tasks.send_weekly_reports", ignore_result=True)
def send_weekly_reports() -> int:
    """Send last week's report to those who have not had it; returns how many were sent."""
    from helpdesk.reports.emails import send_weekly_reports as send

    return send().sent
