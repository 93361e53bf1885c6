"""The Celery app. Without REDIS_URL, tasks run eagerly in the calling process."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpforce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_failure.connect
def _count_failure(sender: Any = None, **_: Any) -> None:
    """Counted for /metrics (``helpforce_task_failures_total``): instrumentation only."""
    from helpdesk.monitoring.counters import TASK_FAILURES

    TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The periodic tasks: Celery beat runs them in production; the embedded desk's ticker
    runs the same list in-process."""
    from django.conf import settings

    return {
        "poll-due-x-accounts": {
            "task": "helpdesk.tasks.poll_due_accounts",
            "schedule": settings.CELERY_BEAT_POLL_SECONDS,
        },
        "dispatch-outbox": {"task": "helpdesk.tasks.dispatch_outbox", "schedule": 2.0},
        "sweep-replies": {"task": "helpdesk.tasks.sweep_replies", "schedule": 30.0},
        "routing-expire-leases": {"task": "routing.tasks.expire_leases", "schedule": 30.0},
        "routing-advance-offers": {"task": "routing.tasks.advance_offers", "schedule": 15.0},
        "routing-sweep-sla": {"task": "routing.tasks.sweep_sla", "schedule": 60.0},
        "routing-end-idle-shifts": {"task": "routing.tasks.end_idle_shifts", "schedule": 60.0},
        # Every brand's last hour against the same hour of its usual week (docs/metrics.md).
        "monitoring-detect-spikes": {
            "task": "helpdesk.monitoring.tasks.detect_spikes",
            "schedule": 60.0,
        },
        # Sends last week's report once per person; hourly, so a brand's Monday morning
        # comes in every time zone and a missed run is made up.
        "reports-weekly-email": {
            "task": "helpdesk.reports.tasks.send_weekly_reports",
            "schedule": 3600.0,
        },
        # The X budget's 80 % warning, once a month per brand.
        "monitoring-x-budget-warning": {
            "task": "helpdesk.monitoring.tasks.warn_x_budgets",
            "schedule": 300.0,
        },
    }


@app.on_after_finalize.connect
def _schedule_periodic(sender: Celery, **_: object) -> None:
    sender.conf.beat_schedule = beat_schedule()
