"""What each process counts for ``/metrics`` as it happens (``helpdesk.monitoring.metrics``
serves them): open websockets and failed tasks. Imports nothing of ours, so the consumers
and the Celery app may count without importing the rest of monitoring."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

WEBSOCKETS = Gauge(
    "helpforce_websocket_connections",
    "Open websockets (live queue and monitoring pages) of this process.",
    multiprocess_mode="livesum",
)
TASK_FAILURES = Counter(
    "helpforce_task_failures", "Celery tasks that ended in an error, by task.", ["task"]
)
