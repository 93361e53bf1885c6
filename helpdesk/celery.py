"""The Celery app. Without REDIS_URL, tasks run eagerly in the calling process."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpforce")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _schedule_periodic(sender: Celery, **_: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        "poll-due-x-accounts": {
            "task": "helpdesk.tasks.poll_due_accounts",
            "schedule": settings.CELERY_BEAT_POLL_SECONDS,
        },
    }
