"""Issue 10's spike test, end to end: a storm of unhappy customers through the X sandbox,
after a quiet month, alerts once and e-mails once within the first simulated hour; the
monitoring page offers crisis mode for the storm's topic; switched on, it refuses a
trainee's claim on that topic and lets a certified volunteer claim; switched off, the gate
is what it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import time_machine
from django.core import mail
from django.test import Client

from helpdesk.models import Brand, Question, Role, XAccount
from helpdesk.monitoring.models import SpikeAlert
from helpdesk.monitoring.spikes import detect_spikes
from helpdesk.states import QuestionState
from helpdesk.x import polling
from routing.claims import claim_question
from routing.models import RoutingRule, RuleEffect, RuleKind
from tests.factories import (
    make_account,
    make_topic,
    make_volunteer,
    publish_charter,
    sandbox_account_for,
)
from tests.monitoring.history import write_history
from tests.routing.onshift import member

pytestmark = pytest.mark.django_db(transaction=True)


def storm(sandbox: Any, account: XAccount, count: int, start: int) -> None:
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/storm",
        json={"account": account.username, "count": count, "start": start},
        timeout=30,
    )
    assert response.status_code < 300, response.text


def test_a_storm_alerts_once_and_crisis_mode_holds_its_topic_to_the_certified(
    sandbox: Any, brand: Brand
) -> None:
    # Given a brand with a payments topic, a quiet month, and its people
    start = datetime(2026, 11, 17, 13, 0, tzinfo=UTC)
    with time_machine.travel(start - timedelta(days=40), tick=False):
        publish_charter(brand)
    payments = make_topic(brand, slug="payments", name="Payments")
    RoutingRule.objects.create(
        brand=brand,
        name="payments",
        kind=RuleKind.REGEX,
        effect=RuleEffect.TOPIC,
        pattern=r"(?i)charg|pay|bill|débit|prélev",
        topic=payments,
    )
    care = make_account(brand)
    sandbox.world.add_account(sandbox_account_for(care))
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR)
    supervisor.user.email = "supervisor@example.com"
    supervisor.user.save(update_fields=["email"])
    write_history(brand, start - timedelta(days=30), start, lambda hour: 2)

    # When the sandbox brings 3 angry mentions a minute for an hour, polled for real, and
    # the detector runs every minute
    detected = []
    with time_machine.travel(start, tick=False) as traveller:
        for minute in range(60):
            storm(sandbox, care, 3, 3 * minute)
            assert polling.poll_account(care.pk).error == ""
            detected.append(len(detect_spikes().detected))
            traveller.shift(timedelta(minutes=1))
        now = start + timedelta(minutes=60)

        # Then one alert, in the first hour, about the payments topic, e-mailed once
        assert sum(detected) == 1
        alert = SpikeAlert.objects.get(brand=brand)
        assert start <= alert.detected_at < start + timedelta(minutes=60)
        assert alert.topic_id == payments.pk
        assert len(mail.outbox) == 1

        # The supervisor's live page shows it and offers crisis mode for the topic
        boss = Client()
        boss.force_login(supervisor.user)
        page = boss.get("/monitoring/live/").content.decode()
        offer = f"/crisis/?topic={payments.pk}&amp;alert={alert.pk}"
        assert offer in page
        assert "Switch on crisis mode for Payments" in page
        form = boss.get(offer.replace("&amp;", "&")).content.decode()
        assert f'value="{alert.pk}"' in form
        switched = boss.post(
            "/crisis/",
            {"topic": payments.pk, "alert": alert.pk, "reason": "Double charges"},
        )
        assert switched.status_code == 302

        # A trainee may not claim a storm question; a certified volunteer may
        trainee = member(brand, "trainee", now=now, languages=["en", "fr"], skills=["payments"])
        certified = member(brand, "certified", now=now, languages=["en", "fr"], skills=["payments"])
        storm_questions = list(
            Question.objects.filter(
                brand=brand, account=care, topic=payments, state=QuestionState.QUEUED
            ).order_by("pk")[:3]
        )
        assert len(storm_questions) == 3
        refused = claim_question(storm_questions[0].pk, trainee.user)
        assert not refused.won
        assert "Crisis mode" in refused.message
        assert claim_question(storm_questions[0].pk, certified.user).won

        # Switched off, the trainee claims again
        assert (
            boss.post("/crisis/end/", {"topic": payments.pk, "reason": "Fixed"}).status_code == 302
        )
        assert claim_question(storm_questions[1].pk, trainee.user).won
