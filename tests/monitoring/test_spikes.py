"""Spike alerts: a storm through the X sandbox alerts once and e-mails once; the Monday
rise that every week has does not; the baseline, the default, the end of a spike, the live
announcement and the common words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core import mail

from helpdesk.audit import events
from helpdesk.events import EVENTS_LAYER, monitoring_group
from helpdesk.models import Brand, Question, Role, Volunteer, XAccount
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.monitoring.spikes import (
    baseline,
    common_words,
    detect_spikes,
    same_hour_weeks_ago,
)
from helpdesk.x import polling
from tests.factories import make_account, make_volunteer, sandbox_account_for
from tests.monitoring.history import write_history, write_questions

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def with_email(person: Volunteer, address: str) -> Volunteer:
    person.user.email = address
    person.user.save(update_fields=["email"])
    return person


@pytest.fixture
def staff(brand: Brand) -> dict[str, Volunteer]:
    return {
        "supervisor": with_email(
            make_volunteer(brand, role=Role.SUPERVISOR), "supervisor@example.com"
        ),
        "agency": with_email(make_volunteer(brand, role=Role.AGENCY), "agency@example.com"),
        "volunteer": with_email(make_volunteer(brand), "volunteer@example.com"),
    }


def control(sandbox: Any, path: str, body: Any) -> Any:
    response = requests.post(f"{sandbox.base_url}/_sandbox/{path}", json=body, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_storm_of_negative_questions_after_a_quiet_month_alerts_once_and_emails_once(
    sandbox: Any, staff: dict[str, Volunteer]
) -> None:
    # Given a brand in Paris with a month of quiet history: 2 questions an hour, 1 in 5
    # negative
    brand = staff["supervisor"].brand
    brand.time_zone = "Europe/Paris"
    brand.save(update_fields=["time_zone"])
    care: XAccount = make_account(brand)
    sandbox.world.add_account(sandbox_account_for(care))
    start = datetime(2026, 11, 17, 13, 0, tzinfo=UTC)  # a Tuesday, 14:00 in Paris
    write_history(brand, start - timedelta(days=30), start, lambda hour: 2)

    # When the sandbox brings a storm of 3 angry mentions a minute (English and French) for
    # an hour, polled through the desk's real path, and the detector runs every minute
    runs = []
    with time_machine.travel(start, tick=False) as traveller:
        for minute in range(60):
            burst = {"account": care.username, "count": 3, "start": 3 * minute}
            control(sandbox, "storm", burst)
            outcome = polling.poll_account(care.pk)
            assert (outcome.error, outcome.result.new) == ("", 3)
            runs.append(detect_spikes())
            traveller.shift(timedelta(minutes=1))

    # Then the storm was ingested and read as negative
    storm = Question.objects.filter(brand=brand, account=care)
    assert storm.count() == 180
    assert storm.filter(is_negative=True).count() == 180
    # and exactly one alert was raised, within the first simulated hour
    alert = SpikeAlert.objects.get(brand=brand)
    assert [len(run.detected) for run in runs].count(1) == 1
    assert sum(len(run.detected) for run in runs) == 1
    assert start <= alert.detected_at < start + timedelta(minutes=60)
    # as soon as the negative questions reached their minimum (10), before the volume did
    assert alert.reasons == ["negative"]
    assert alert.negative >= 10 and alert.volume < 20
    assert alert.baseline_weeks == 4
    assert alert.expected_volume == 2.0
    assert alert.ended_at is None
    # the negative questions of the hour (one of them the quiet history's), newest first
    causing = Question.objects.filter(pk__in=alert.question_ids, is_negative=True)
    assert causing.count() == len(alert.question_ids) == 10
    assert causing.filter(account=care).count() >= 9
    words = [word for word, _count in alert.common_words]
    assert {"charged", "twice", "order"} <= set(words)
    # audited once
    assert list(events().filter(kind="spike.detected").values_list("brand_id", flat=True)) == [
        brand.pk
    ]
    # and e-mailed once, to the supervisor and the agency staff (not the volunteer), with
    # the questions and their common words
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sorted(sent.to) == ["agency@example.com", "supervisor@example.com"]
    assert brand.name in sent.subject
    assert "negative" in sent.subject
    body = str(sent.body)
    assert "charged (" in body and "twice (" in body
    named = Question.objects.filter(pk__in=alert.question_ids, account=care).first()
    assert named is not None and named.text in body
    assert (
        f"detected at {alert.detected_at.astimezone(PARIS):%Y-%m-%d %H:%M} (Europe/Paris)" in body
    )
    alert.refresh_from_db()
    assert alert.emailed_at is not None


def monday_rise(zone: ZoneInfo) -> Any:
    def per_hour(hour: datetime) -> int:
        local = hour.astimezone(zone)
        return 40 if local.weekday() == 0 and 8 <= local.hour < 11 else 2

    return per_hour


@pytest.mark.django_db(transaction=True)
def test_the_monday_morning_rise_every_week_has_does_not_alert(
    staff: dict[str, Volunteer],
) -> None:
    # Given six weeks in New York where Monday 08:00-11:00 brings 40 questions an hour and
    # every other hour 2, this Monday included
    brand = staff["agency"].brand
    brand.time_zone = "America/New_York"
    brand.save(update_fields=["time_zone"])
    nine = datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK)
    write_history(
        brand, nine - timedelta(days=42), nine + timedelta(hours=2), monday_rise(NEW_YORK)
    )

    # When the detector runs every minute from 09:00 to 10:00
    detected = [detect_spikes(nine + timedelta(minutes=m)).detected for m in range(1, 61)]

    # Then nothing alerts, though the hour is over five times a flat average of the last day
    assert detected == [[]] * 60
    assert SpikeAlert.objects.count() == 0
    assert mail.outbox == []
    ten = nine + timedelta(hours=1)
    last_hour = Question.objects.filter(received_at__gt=nine, received_at__lte=ten).count()
    last_day = Question.objects.filter(
        received_at__gt=ten - timedelta(days=1), received_at__lte=ten
    ).count()
    assert last_hour == 40
    assert last_hour >= 5 * last_day / 24
    assert baseline(brand, ten).expected_volume == 40.0


@pytest.mark.django_db(transaction=True)
def test_the_same_rise_on_a_tuesday_alerts(staff: dict[str, Volunteer]) -> None:
    # Given the same history, and a Tuesday morning that brings Monday's 40 an hour
    brand = staff["agency"].brand
    brand.time_zone = "America/New_York"
    brand.save(update_fields=["time_zone"])
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK)
    write_history(
        brand, tuesday - timedelta(days=43), tuesday - timedelta(hours=1), monday_rise(NEW_YORK)
    )
    write_questions(brand, tuesday, 40, negative=False, spread=timedelta(hours=1))

    # When the detector runs
    run = detect_spikes(tuesday)

    # Then the volume alerts (the share of negative questions is the usual one: 0 here)
    alert = SpikeAlert.objects.get()
    assert run.detected == [alert.pk]
    assert (alert.reasons, alert.volume, alert.expected_volume) == (["volume"], 40, 2.0)
    assert alert.topic_id is None
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_without_history_the_default_baseline_decides(staff: dict[str, Volunteer]) -> None:
    # Given a new brand: 15 calm questions in its first hour, no alert
    brand = staff["agency"].brand
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_questions(brand, now, 15, negative=False, spread=timedelta(minutes=50))
    assert detect_spikes(now).detected == []
    assert baseline(brand, now).weeks == 0
    assert baseline(brand, now).expected_volume == 10.0

    # When 25 angry ones follow within the next half hour
    later = now + timedelta(minutes=30)
    write_questions(brand, later, 25, negative=True, spread=timedelta(minutes=30))
    run = detect_spikes(later)

    # Then the default baseline (10 an hour, 25 % negative) makes it a spike
    alert = SpikeAlert.objects.get()
    assert run.detected == [alert.pk]
    assert alert.baseline_weeks == 0
    assert set(alert.reasons) == {"volume", "negative"}
    assert (alert.volume, alert.negative) == (34, 25)  # 9 calm ones in the same hour


@pytest.mark.django_db(transaction=True)
def test_a_spike_ends_an_hour_after_it_falls_back_and_the_next_one_alerts_again(
    staff: dict[str, Volunteer],
) -> None:
    # Given an open spike
    brand = staff["agency"].brand
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_history(brand, now - timedelta(days=30), now - timedelta(hours=1), lambda hour: 2)
    write_questions(brand, now, 40, negative=True, spread=timedelta(minutes=30))
    first = detect_spikes(now).detected

    # When the storm stops: every minute for three hours, the detector looks again
    runs = [detect_spikes(now + timedelta(minutes=m)) for m in range(1, 181)]

    # Then no second alert while it is still elevated, and it ends once an hour has passed
    # since the last elevated hour
    assert sum(len(run.detected) for run in runs) == 0
    ended_at = [now + timedelta(minutes=m) for m, run in enumerate(runs, start=1) if run.ended]
    alert = SpikeAlert.objects.get()
    assert first == [alert.pk] and len(ended_at) == 1
    assert alert.ended_at == ended_at[0]
    assert alert.ended_at - alert.last_elevated_at >= timedelta(minutes=60)
    assert events().filter(kind="spike.ended").count() == 1

    # And a new storm is a new spike, with its own e-mail
    again = now + timedelta(hours=5)
    write_questions(brand, again, 40, negative=True, spread=timedelta(minutes=30))
    assert len(detect_spikes(again).detected) == 1
    assert SpikeAlert.objects.count() == 2
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_the_alert_is_announced_live_on_the_brands_monitoring_group(
    staff: dict[str, Volunteer],
) -> None:
    brand = staff["agency"].brand
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_questions(brand, now, 30, negative=True, spread=timedelta(minutes=30))
    layer = get_channel_layer(EVENTS_LAYER)

    async def listen() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add(monitoring_group(brand.pk), channel)
        try:
            await sync_to_async(detect_spikes)(now)
            message: dict[str, Any] = await layer.receive(channel)
            return message
        finally:
            await layer.group_discard(monitoring_group(brand.pk), channel)

    message = async_to_sync(listen)()

    alert = SpikeAlert.objects.get()
    assert message["kind"] == "spike.detected"
    assert message["payload"]["alert_id"] == alert.pk
    assert message["payload"]["brand_id"] == brand.pk
    assert message["payload"]["topic_id"] is None
    assert message["payload"]["negative"] == 30


def test_the_same_hour_of_the_week_is_taken_on_the_local_clock() -> None:
    # Monday 30 March 2026, 10:00 in Paris (summer time since the 29th) is 08:00 UTC; the
    # Monday before, 10:00 in Paris was 09:00 UTC
    now = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)

    assert same_hour_weeks_ago(now, 1, PARIS) == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    assert same_hour_weeks_ago(now, 2, PARIS) == datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def test_common_words_leave_out_stopwords_in_english_and_french() -> None:
    texts = [
        "@Brand the app is down and my payment is stuck",
        "@Brand l'appli est en panne, mon paiement est bloqué",
        "@Brand app down again, payment failed https://t.co/x",
        "@Brand le paiement ne passe pas, l'appli plante",
    ]

    assert common_words(texts) == [
        ["app", 2],
        ["appli", 2],
        ["down", 2],
        ["paiement", 2],
        ["payment", 2],
    ]


@pytest.mark.django_db(transaction=True)
def test_celery_beat_runs_the_detector_every_minute(staff: dict[str, Volunteer]) -> None:
    from helpdesk.celery import beat_schedule
    from helpdesk.monitoring.tasks import detect_spikes as task

    brand = staff["agency"].brand
    write_questions(brand, datetime.now(tz=UTC), 30, negative=True, spread=timedelta(minutes=20))

    assert beat_schedule()["monitoring-detect-spikes"] == {
        "task": "helpdesk.monitoring.tasks.detect_spikes",
        "schedule": 60.0,
    }
    assert task.delay().get() == 1
    assert task.delay().get() == 0  # the same spike, still open
    assert SpikeAlert.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_alert_names_the_dominant_topic_for_crisis_mode(staff: dict[str, Volunteer]) -> None:
    from tests.factories import make_topic

    brand = staff["agency"].brand
    payments = make_topic(brand, slug="payments", name="Payments")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_questions(
        brand, now, 20, negative=True, spread=timedelta(minutes=30), topic_id=payments.pk
    )
    write_questions(brand, now, 12, negative=True, spread=timedelta(minutes=40))

    detect_spikes(now)

    alert = SpikeAlert.objects.get()
    assert (alert.brand_id, alert.topic_id) == (brand.pk, payments.pk)
    assert "Payments" in str(mail.outbox[0].body)


@pytest.mark.django_db(transaction=True)
def test_an_email_that_failed_is_sent_by_a_later_run_once(
    staff: dict[str, Volunteer], settings: Any
) -> None:
    # Given a spike detected while the mail server is down
    brand = staff["agency"].brand
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    write_questions(brand, now, 30, negative=True, spread=timedelta(minutes=30))
    settings.EMAIL_BACKEND = "tests.monitoring.failing_mail.ServerDownBackend"
    assert len(detect_spikes(now).detected) == 1
    alert = SpikeAlert.objects.get()
    assert alert.emailed_at is None

    # When the server is back and the detector runs on, minute by minute
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for minute in range(1, 11):
        detect_spikes(now + timedelta(minutes=minute))

    # Then a later run sent the e-mail, once
    alert.refresh_from_db()
    assert len(mail.outbox) == 1
    assert alert.emailed_at is not None
    assert SpikeAlert.objects.count() == 1
