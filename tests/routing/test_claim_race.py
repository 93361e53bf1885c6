"""Invariant 2 under real concurrency: 50 volunteers claim the same 200 questions at once on
PostgreSQL. Every question has exactly one winner, every loser is told who won, and the audit
log agrees."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from helpdesk.models import AuditEvent, Question
from helpdesk.x.ingest import serialise_ingestion
from routing.claims import ClaimResult, claim_question
from routing.models import RoutingSettings
from tests.factories import make_brand, publish_charter
from tests.routing.onshift import member, question

CLAIMERS = 50
QUESTIONS = 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_claimers_on_two_hundred_questions_leave_exactly_one_winner_each() -> None:
    now = timezone.now()
    brand = make_brand()
    publish_charter(brand, effective_at=now - timedelta(days=1))
    RoutingSettings.objects.create(brand=brand, max_open_claims=1_000)
    volunteers = [member(brand, now=now, display_name=f"Volunteer {n}") for n in range(CLAIMERS)]
    question_ids = [question(brand).pk for _ in range(QUESTIONS)]
    results: dict[int, list[ClaimResult]] = {v.user.pk: [] for v in volunteers}
    errors: list[BaseException] = []
    start = threading.Barrier(CLAIMERS)

    def claim_all(user_index: int) -> None:
        volunteer = volunteers[user_index]
        order = list(question_ids)
        random.Random(user_index).shuffle(order)
        try:
            start.wait(timeout=60)
            for question_id in order:
                results[volunteer.user.pk].append(claim_question(question_id, volunteer.user))
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert errors == []
    assert all(len(done) == QUESTIONS for done in results.values())
    winners: dict[int, list[int]] = {}
    for user_id, done in results.items():
        for result in done:
            if result.won:
                winners.setdefault(result.question_id, []).append(user_id)
    assert sorted(winners) == sorted(question_ids)
    assert all(len(users) == 1 for users in winners.values())
    assert sum(r.won for done in results.values() for r in done) == QUESTIONS
    holders = dict(Question.objects.filter(pk__in=question_ids).values_list("pk", "claimed_by_id"))
    assert holders == {pk: users[0] for pk, users in winners.items()}
    names = {v.user.pk: v.display_name for v in volunteers}
    for done in results.values():
        for result in done:
            if not result.won:
                assert result.reason == "already_claimed"
                assert result.holder_id == holders[result.question_id]
                assert result.holder_display == names[holders[result.question_id]]
                assert result.message.startswith(f"Already claimed by {result.holder_display}")
    claimed_events = AuditEvent.objects.filter(
        kind="question.claimed", question_id__in=question_ids
    )
    assert claimed_events.count() == QUESTIONS
    assert Counter(claimed_events.values_list("question_id", flat=True)) == Counter(
        {pk: 1 for pk in question_ids}
    )
    assert dict(claimed_events.values_list("question_id", "actor_id")) == holders


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_does_not_wait_for_an_ingestion_of_its_brand() -> None:
    # Ingestion holds the brand's row for its whole transaction (to serialise a brand's
    # ingestions); the claim's audit row refers to the brand, and its foreign key's check at
    # commit must not wait for that: with FOR UPDATE every claim of the brand waited.
    now = timezone.now()
    brand = make_brand()
    publish_charter(brand, effective_at=now - timedelta(days=1))
    volunteer = member(brand, now=now)
    wanted = question(brand)
    holding, done = threading.Event(), threading.Event()
    results: list[ClaimResult] = []

    def ingest_held_open() -> None:
        try:
            with transaction.atomic():
                serialise_ingestion(brand.pk)
                holding.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    def claim() -> None:
        try:
            results.append(claim_question(wanted.pk, volunteer.user))
        finally:
            connection.close()

    ingesting = threading.Thread(target=ingest_held_open)
    ingesting.start()
    try:
        assert holding.wait(timeout=10)
        claiming = threading.Thread(target=claim)
        claiming.start()
        claiming.join(timeout=10)
        answered_meanwhile = not claiming.is_alive()
    finally:
        done.set()
        ingesting.join(timeout=30)
    claiming.join(timeout=30)
    assert answered_meanwhile, "the claim waited for the ingestion's transaction"
    assert [result.won for result in results] == [True]
    assert AuditEvent.objects.filter(question=wanted, kind="question.claimed").count() == 1
