"""Months of made-up history for the demo brand, so every report and chart shows something
the first time ``make demo`` runs.

Deterministic (one seed) and quick (bulk inserts): questions from the real customer-care
corpus and the sandbox's French questions, over every store, topic, language and priority,
arriving more in the day and evening than at night and on weekdays than at weekends, with a
spike or two; answered after minutes to hours (slower at night and at weekends, a long
tail), some dismissed as noise, escalated or still open; trainees' replies reviewed (some
rejected and answered again, some edited), linter findings that sent replies to review,
and shifts. Customers get made-up handles: the corpus's are real people.

The rows are what the desk itself would leave, for every column the reports read (the
first reply and when X accepted it, the deadline and the priority it was set for, each
reply's store). The audit log is left alone: this is an import of the past, not events.
Tweet ids are X snowflakes of the made-up moments, with sequence bits the sandbox never
uses, so they cannot collide with a tweet the sandbox makes.

The parts: ``moments`` (local times, tweet ids), ``cast`` (topics, people, shifts),
``arrivals`` (the questions) and ``outcomes`` (what became of them); this module puts them
together and writes the rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from charter.models import Standing
from helpdesk.models import (
    Brand,
    Conversation,
    Customer,
    Question,
    Reply,
    Role,
    Store,
    Volunteer,
    XAccount,
)
from helpdesk.reports.demo_history.arrivals import make_arrivals
from helpdesk.reports.demo_history.cast import (
    HISTORY_USER_PREFIX,
    ensure_topics,
    make_people,
    make_shifts,
)
from helpdesk.reports.demo_history.outcomes import make_replies
from routing.models import Shift


@dataclass
class HistorySummary:
    questions: int = 0
    replies: int = 0
    shifts: int = 0
    people: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


def has_history(brand: Brand) -> bool:
    """Whether the history was made already (its questions carry the history's ids)."""
    return Volunteer.objects.filter(
        brand=brand, user__username__startswith=HISTORY_USER_PREFIX
    ).exists()


@transaction.atomic
def make_history(
    brand: Brand,
    *,
    days: int = 120,
    per_day: int = 55,
    seed: int = 2009,
    now: datetime | None = None,
) -> HistorySummary:
    """``days`` days of history before ``now`` for ``brand`` (about ``per_day`` questions a
    day); nothing if the brand has it already."""
    summary = HistorySummary()
    if has_history(brand):
        summary.skipped = True
        return summary
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    zone = ZoneInfo(brand.time_zone or "UTC")
    stores = {store.code: store for store in Store.objects.filter(brand=brand)}
    topics = ensure_topics(brand)
    history_people = make_people(brand, stores, now)
    demo_people = list(
        Volunteer.objects.filter(brand=brand, role=Role.VOLUNTEER)
        .exclude(user__username__startswith=HISTORY_USER_PREFIX)
        .select_related("user")
    )
    people = history_people + demo_people
    summary.people = len(history_people)
    levels = dict(Standing.objects.filter(brand=brand).values_list("user_id", "level"))
    english_people = [p for p in people if p.store is not None]
    french_people = [p for p in english_people if "fr" in p.languages]
    accounts = {a.language: a for a in XAccount.objects.filter(brand=brand)}
    account_en = accounts.get("en") or next(iter(accounts.values()))
    account_fr = accounts.get("fr") or account_en
    reviewers = list(
        get_user_model().objects.filter(
            volunteer__brand=brand, volunteer__role__in=(Role.SUPERVISOR, Role.ADMIN)
        )
    )
    first_day = now.astimezone(zone).date() - timedelta(days=days)
    arrivals = make_arrivals(
        brand,
        topics=topics,
        account_en=account_en,
        account_fr=account_fr,
        first_day=first_day,
        days=days,
        per_day=per_day,
        zone=zone,
        rng=rng,
        now=now,
    )
    questions = arrivals.questions
    # The questions exist before their replies can point at them.
    Customer.objects.bulk_create(arrivals.customers, batch_size=1000)
    for conversation in arrivals.conversations:
        conversation.customer_id = conversation.customer.pk if conversation.customer else None
    Conversation.objects.bulk_create(arrivals.conversations, batch_size=1000)
    for question in questions:
        question.conversation_id = question.conversation.pk
        question.customer_id = question.customer.pk if question.customer else None

    replies, firsts = make_replies(
        questions,
        arrivals.plans,
        english_people=english_people,
        french_people=french_people,
        levels=levels,
        reviewers=reviewers,
        rng=rng,
        now=now,
    )
    Question.objects.bulk_create(questions, batch_size=1000)
    for reply in replies:
        reply.question_id = reply.question.pk
    Reply.objects.bulk_create(replies, batch_size=1000)
    updates = []
    for question_index, reply_index in firsts:
        question = questions[question_index]
        question.first_reply_id = replies[reply_index].pk
        updates.append(question)
    Question.objects.bulk_update(updates, ["first_reply"], batch_size=1000)
    summary.questions, summary.replies = len(questions), len(replies)
    summary.shifts = make_shifts(brand, people, first_day, days, zone, rng, now)
    if connection.vendor == "postgresql":
        # Thousands of rows at once: give the planner their statistics now rather than
        # when autovacuum comes by, or the first reports plan for empty tables.
        with connection.cursor() as cursor:
            for model in (Customer, Conversation, Question, Reply, Shift):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return summary
