"""Once per spike under real concurrency: several beat runs (a second beat by mistake, a
retried task) look at the same storm at the same moment on PostgreSQL. One alert is stored,
audited and e-mailed; the others find it taken."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import close_old_connections, connection

from helpdesk.audit import events
from helpdesk.models import Role
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.monitoring.spikes import SpikeRun, detect_spikes
from tests.factories import make_brand, make_volunteer
from tests.monitoring.history import write_history, write_questions

RUNNERS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_detectors_at_once_raise_one_alert_and_one_email() -> None:
    # Given a quiet month and a storm in the last half hour
    brand = make_brand()
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR)
    supervisor.user.email = "supervisor@example.com"
    supervisor.user.save(update_fields=["email"])
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_history(brand, now - timedelta(days=30), now - timedelta(hours=1), lambda hour: 2)
    write_questions(brand, now, 40, negative=True, spread=timedelta(minutes=30))
    runs: list[SpikeRun] = []
    errors: list[BaseException] = []
    start = threading.Barrier(RUNNERS)

    def detect() -> None:
        try:
            start.wait(timeout=60)
            runs.append(detect_spikes(now))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    # When eight detectors run at the same moment
    threads = [threading.Thread(target=detect) for _ in range(RUNNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # Then one of them raised the alert, and it was audited and e-mailed once
    assert errors == []
    assert len(runs) == RUNNERS
    alert = SpikeAlert.objects.get()
    assert sorted(len(run.detected) for run in runs) == [0] * (RUNNERS - 1) + [1]
    assert events().filter(kind="spike.detected").count() == 1
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.emailed_at is not None
