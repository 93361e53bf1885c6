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
"""

from __future__ import annotations

import math
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from charter.models import CharterAcceptance, CharterVersion, Level, Standing
from helpdesk.models import (
    Brand,
    Conversation,
    Customer,
    Question,
    Reply,
    Role,
    Source,
    Store,
    Volunteer,
    XAccount,
)
from helpdesk.states import QuestionState, ReplyState
from routing.models import Shift, Topic, default_sla_minutes

TWITTER_EPOCH_MS = 1288834974657
# Sequence bits of the history's ids: the sandbox counts up from 0 within a millisecond.
QUESTION_SEQUENCE = 0x200000
REPLY_SEQUENCE = 0x300000
HISTORY_USER_PREFIX = "history-"

TOPICS = (
    ("orders", "Orders"),
    ("delivery", "Delivery"),
    ("returns", "Returns"),
    ("computers", "Computers"),
    ("mobile", "Mobile"),
    ("tv-audio", "TV & audio"),
    ("appliances", "Appliances"),
)
TOPIC_WEIGHTS = (26, 20, 12, 12, 12, 8, 6)
DISMISSALS = (
    ("spam or ad: many hashtags", 3),
    ("chatter: reactions only", 3),
    ("chatter: no question or problem", 4),
    ("a reply to another customer", 2),
    ("spam or ad: links only", 1),
)
REVIEW_FINDINGS = ("promise", "price", "legal_safety", "other_customer")
# Arrivals per local hour of the day (relative).
HOURLY = (2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 12, 13, 12, 11, 11, 11, 12, 13, 13, 11, 8, 5, 3)
WEEKLY = (1.15, 1.1, 1.05, 1.0, 1.0, 0.75, 0.7)  # Monday first
HISTORY_PEOPLE = (
    ("Maya Chen", "NW-SEA"),
    ("Owen Brooks", "NW-SEA"),
    ("Priya Nair", "NW-PDX"),
    ("Lucas Meyer", "NW-PDX"),
    ("Grace Kim", "NW-PDX"),
    ("Ethan Ward", "NW-CHI"),
    ("Zoe Martin", "NW-CHI"),
    ("Noah Rivera", "NW-CHI"),
    ("Aisha Bello", "NW-ATX"),
    ("Diego Ruiz", "NW-ATX"),
    ("Hannah Scott", "NW-ATX"),
    ("Liam O'Connor", "NW-NYC"),
    ("Sofia Rossi", "NW-NYC"),
    ("Ben Adler", "NW-NYC"),
    ("Chloé Gagnon", "NW-MTL"),
    ("Félix Roy", "NW-MTL"),
    ("Léa Bouchard", "NW-QUE"),
    ("Émile Côté", "NW-QUE"),
    ("Nadia Pelletier", "NW-QUE"),
    ("Jonas Berg", "NW-SEA"),
)
FRENCH_STORES = frozenset({"NW-MTL", "NW-QUE"})
LEVEL_CYCLE = (Level.CERTIFIED, Level.CERTIFIED, Level.TRAINEE, Level.CERTIFIED, Level.MENTOR)


@dataclass
class HistorySummary:
    questions: int = 0
    replies: int = 0
    shifts: int = 0
    people: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


def snowflake(moment: datetime, sequence: int) -> str:
    millis = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | (sequence & 0x3FFFFF))


def has_history(brand: Brand) -> bool:
    """Whether the history was made already (its questions carry the history's ids)."""
    return Volunteer.objects.filter(
        brand=brand, user__username__startswith=HISTORY_USER_PREFIX
    ).exists()


def _ensure_topics(brand: Brand) -> list[Topic]:
    topics = []
    for slug, name in TOPICS:
        topic, _ = Topic.objects.get_or_create(brand=brand, slug=slug, defaults={"name": name})
        topics.append(topic)
    return topics


def _history_people(brand: Brand, stores: dict[str, Store], now: datetime) -> list[Volunteer]:
    users = get_user_model().objects
    version = CharterVersion.objects.filter(brand=brand).order_by("-number").first()
    made = []
    for n, (name, code) in enumerate(HISTORY_PEOPLE):
        plain = unicodedata.normalize("NFKD", name.split()[0]).encode("ascii", "ignore")
        username = HISTORY_USER_PREFIX + plain.decode().lower()
        first, _, last = name.partition(" ")
        user = users.create_user(username=username, first_name=first, last_name=last)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        french = code in FRENCH_STORES
        volunteer = Volunteer.objects.create(
            user=user,
            brand=brand,
            store=stores[code],
            role=Role.VOLUNTEER,
            display_name=name,
            signature="^" + "".join(part[0] for part in name.split())[:3].upper(),
            languages=["fr", "en"] if french else ["en"],
            skills=[slug for slug, _name in TOPICS],
        )
        level = LEVEL_CYCLE[n % len(LEVEL_CYCLE)]
        Standing.objects.create(
            user=user,
            brand=brand,
            level=level,
            trained_at=now - timedelta(days=200),
            training_expires_at=now + timedelta(days=165 if n != 7 else -5),
            certified_at=None if level == Level.TRAINEE else now - timedelta(days=150),
        )
        if version is not None:
            CharterAcceptance.objects.create(user=user, version=version, accepted_at=now)
        made.append(volunteer)
    return made


def _local(day: date, seconds: float, zone: ZoneInfo) -> datetime:
    return (datetime.combine(day, time.min, tzinfo=zone) + timedelta(seconds=seconds)).astimezone(
        UTC
    )


def _response_delay(rng: random.Random, local: datetime, priority: int) -> float:
    """Seconds to a first response: a few minutes to hours, slower outside the day and at
    weekends, a long tail."""
    median = {0: 8.0, 1: 18.0, 2: 35.0, 3: 90.0}[priority] * 60
    if local.weekday() >= 5:
        median *= 1.6
    delay = rng.lognormvariate(math.log(median), 0.9)
    if local.hour < 7 or local.hour >= 22:  # the night: waits for the morning shift
        morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
        if local.hour >= 22:
            morning += timedelta(days=1)
        delay += (morning - local).total_seconds() * rng.uniform(0.6, 1.0)
    return min(delay, 5 * 86400)


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
    from helpdesk.x.sandbox.traffic import (
        load_conversations,
        load_french_questions,
        retarget,
    )

    summary = HistorySummary()
    if has_history(brand):
        summary.skipped = True
        return summary
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    zone = ZoneInfo(brand.time_zone or "UTC")
    stores = {store.code: store for store in Store.objects.filter(brand=brand)}
    topics = _ensure_topics(brand)
    history_people = _history_people(brand, stores, now)
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
    minutes = default_sla_minutes()
    # Addressed to the brand's care accounts, as the sandbox retargets them.
    english = [
        retarget(c.messages[0], c.company, account_en.username)
        for c in load_conversations()
        if c.messages and len(c.messages[0]) > 20
    ]
    french = [
        q.text.replace("{handle}", f"@{account_fr.username}") for q in load_french_questions()
    ]
    reviewers = list(
        get_user_model().objects.filter(
            volunteer__brand=brand, volunteer__role__in=(Role.SUPERVISOR, Role.ADMIN)
        )
    )
    spikes = {now.date() - timedelta(days=d) for d in (17, 53)}

    customers: list[Customer] = []
    conversations: list[Conversation] = []
    questions: list[Question] = []
    plans: list[dict[str, object]] = []
    recent_by_customer: list[int] = []  # indexes of conversations open to follow-ups
    n = 0
    first_day = now.astimezone(zone).date() - timedelta(days=days)
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        volume = per_day * WEEKLY[day.weekday()] * rng.uniform(0.8, 1.2)
        if day in spikes:
            volume *= 2.5
        for _ in range(int(volume)):
            hour = rng.choices(range(24), weights=HOURLY)[0]
            received = _local(day, hour * 3600 + rng.uniform(0, 3600), zone)
            if received >= now:
                continue
            n += 1
            is_french = rng.random() < 0.18
            follow_up = bool(recent_by_customer) and rng.random() < 0.12
            if follow_up:
                index = rng.choice(recent_by_customer[-40:])
                conversation = conversations[index]
                customer = customers[index]
            else:
                customer = Customer(
                    x_user_id=str(9_100_000_000_000 + brand.pk * 10_000_000 + n),
                    username=f"nw_customer_{n}",
                    name=f"Customer {n}",
                    followers_count=int(rng.paretovariate(1.2) * 40),
                    first_seen_at=received,
                )
                conversation = Conversation(
                    brand=brand, x_conversation_id="", customer=customer, started_at=received
                )
                customers.append(customer)
                conversations.append(conversation)
                recent_by_customer.append(len(conversations) - 1)
            tweet_id = snowflake(received, QUESTION_SEQUENCE + n)
            if not conversation.x_conversation_id:
                conversation.x_conversation_id = tweet_id
            priority = rng.choices((0, 1, 2, 3), weights=(3, 12, 75, 10))[0]
            text = rng.choice(french if is_french else english)
            question = Question(
                brand=brand,
                account=account_fr if is_french else account_en,
                conversation=conversation,
                customer=customer,
                tweet_id=tweet_id,
                text=text,
                lang="fr" if is_french else "en",
                tweeted_at=received - timedelta(seconds=rng.uniform(2, 90)),
                received_at=received,
                source=Source.MENTIONS,
                topic=None if rng.random() < 0.15 else rng.choices(topics, TOPIC_WEIGHTS)[0],
                priority=priority,
                sla_priority=priority,
                sla_due_at=received + timedelta(minutes=minutes[str(priority)]),
                state=QuestionState.ANSWERED,
                state_changed_at=received,
            )
            questions.append(question)
            plans.append({"french": is_french, "local": received.astimezone(zone)})
    # The questions exist before their replies can point at them.
    Customer.objects.bulk_create(customers, batch_size=1000)
    for conversation in conversations:
        conversation.customer_id = conversation.customer.pk if conversation.customer else None
    Conversation.objects.bulk_create(conversations, batch_size=1000)
    for question in questions:
        question.conversation_id = question.conversation.pk
        question.customer_id = question.customer.pk if question.customer else None

    replies: list[Reply] = []
    firsts: list[tuple[int, int]] = []  # (question index, reply index)
    for i, (question, plan) in enumerate(zip(questions, plans, strict=True)):
        received = question.received_at
        age = (now - received).total_seconds()
        roll = rng.random()
        if roll < 0.09:
            question.state = QuestionState.DISMISSED
            question.dismissed_reason = rng.choices(
                [r for r, _w in DISMISSALS], [w for _r, w in DISMISSALS]
            )[0]
            question.state_changed_at = received + timedelta(seconds=1)
            question.sla_due_at = question.sla_priority = None
            continue
        if roll < 0.11:
            question.state = QuestionState.ESCALATED
            question.state_changed_at = received + timedelta(minutes=rng.uniform(5, 90))
            continue
        delay = _response_delay(rng, plan["local"], question.priority)  # type: ignore[arg-type]
        if delay >= age or roll < 0.115:
            question.state = QuestionState.QUEUED
            if question.sla_due_at is not None and question.sla_due_at < now:
                question.priority = max(question.priority - 1, 0)  # raised by the SLA sweep
            continue
        pool = french_people if plan["french"] and french_people else english_people
        author = rng.choice(pool)
        sent = received + timedelta(seconds=delay)
        is_trainee = levels.get(author.user_id) == Level.TRAINEE
        needs_review = is_trainee or rng.random() < 0.12
        findings = []
        if needs_review and not is_trainee:
            findings = [
                {
                    "rule": rng.choice(REVIEW_FINDINGS),
                    "severity": "review",
                    "start": 0,
                    "end": 5,
                    "message": "",
                }
            ]
        if rng.random() < 0.2:
            findings.append(
                {
                    "rule": "missing_signature",
                    "severity": "advice",
                    "start": 0,
                    "end": 0,
                    "message": "",
                }
            )
        base = {
            "question": question,
            "author": author.user,
            "account": question.account,
            "store": author.store,
            "language": question.lang,
            "needs_review": needs_review,
            "lint": {"verdict": "review" if findings else "ok", "findings": findings},
            "priority": question.priority,
        }
        if needs_review and reviewers and rng.random() < 0.12:
            # Rejected first, then answered again after the feedback.
            submitted = received + timedelta(seconds=delay * 0.3)
            reviewed = submitted + timedelta(minutes=rng.uniform(3, 40))
            replies.append(
                Reply(
                    **base,
                    text="(rejected draft)",
                    state=ReplyState.REJECTED,
                    created_at=submitted,
                    state_changed_at=reviewed,
                    submitted_at=submitted,
                    reviewed_by=rng.choice(reviewers),
                    reviewed_at=reviewed,
                    review_feedback="Please add a qualifier and your signature.",
                )
            )
        review_time = timedelta(minutes=rng.lognormvariate(math.log(12), 0.8))
        submitted = sent - (review_time if needs_review else timedelta(seconds=rng.uniform(5, 60)))
        submitted = max(submitted, received + timedelta(seconds=30))
        reviewed_at = sent - timedelta(seconds=10) if needs_review and reviewers else None
        edited = bool(reviewed_at) and rng.random() < 0.2
        replies.append(
            Reply(
                **base,
                text=("Merci de nous avoir écrit ! " if plan["french"] else "Thanks for asking! ")
                + (author.signature or ""),
                state=ReplyState.SENT,
                created_at=submitted,
                state_changed_at=sent,
                submitted_at=submitted,
                reviewed_by=rng.choice(reviewers) if reviewed_at else None,
                reviewed_at=reviewed_at,
                edited_by_reviewer=edited,
                original_text="(the author's draft)" if edited else "",
                queued_at=reviewed_at or submitted,
                scheduled_for=reviewed_at or submitted,
                tweet_id=snowflake(sent, REPLY_SEQUENCE + len(replies)),
                sent_at=sent,
                send_attempts=1,
                last_attempt_at=sent,
            )
        )
        question.state_changed_at = sent
        question.first_response_at = sent
        firsts.append((i, len(replies) - 1))

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
    summary.shifts = _shifts(brand, people, first_day, days, zone, rng, now)
    if connection.vendor == "postgresql":
        # Thousands of rows at once: give the planner their statistics now rather than
        # when autovacuum comes by, or the first reports plan for empty tables.
        with connection.cursor() as cursor:
            for model in (Customer, Conversation, Question, Reply, Shift):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return summary


def _shifts(
    brand: Brand,
    people: list[Volunteer],
    first_day: date,
    days: int,
    zone: ZoneInfo,
    rng: random.Random,
    now: datetime,
) -> int:
    shifts = []
    for person in people:
        for offset in range(days):
            if rng.random() > 0.45:
                continue
            day = first_day + timedelta(days=offset)
            start = _local(day, rng.uniform(8, 18) * 3600, zone)
            end = start + timedelta(hours=rng.uniform(1.5, 5))
            if end >= now:
                continue
            shifts.append(
                Shift(
                    user=person.user,
                    brand=brand,
                    started_at=start,
                    last_seen_at=end,
                    ended_at=end,
                    end_reason="ended",
                )
            )
    Shift.objects.bulk_create(shifts, batch_size=1000)
    return len(shifts)
