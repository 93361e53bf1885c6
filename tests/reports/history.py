"""A brand's year of desk history with known distributions, kept as plain Python records
(so a test can compute every report figure from them independently) and written to the
database the way the desk leaves its rows.

Deterministic (NumPy's default generator, one seed). The year is 2026 in New York, whose
clocks change on 8 March and 1 November; a stretch in July is left empty; questions sit
exactly on and a microsecond around the local midnights that bound the periods the tests
read. Ids are chosen here (from ``BASE``), far above what other tests' rows get.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction

ZONE = ZoneInfo("America/New_York")
START = datetime(2026, 1, 1, tzinfo=ZONE)
END = datetime(2027, 1, 1, tzinfo=ZONE)
NOW = datetime(2026, 12, 31, 20, 0, tzinfo=ZONE)
EMPTY = (date(2026, 7, 10), date(2026, 7, 20))  # no question arrives in these days
# Local midnights around which questions are placed on purpose.
BOUNDARIES = (date(2026, 10, 25), date(2026, 11, 8), date(2026, 3, 8), date(2026, 7, 1))
BASE = 50_000_000
SLA_MINUTES = {0: 15, 1: 60, 2: 240, 3: 1440}
REASONS = (
    "spam or ad: many hashtags",
    "chatter: reactions only",
    "chatter: no question or problem",
    "a reply to another customer",
    "Duplicate of an answered question",
)
REVIEW_RULES = ("promise", "price", "legal_safety", "other_customer", "review_term", "blocked_x")
ADVICE_RULES = ("missing_signature", "unqualified_claim", "link_cost")
LANGUAGES = ("en", "fr-CA", "FR", "", "en_US", "es")
LANGUAGE_WEIGHTS = (0.55, 0.15, 0.1, 0.1, 0.05, 0.05)
OPEN_STATES = ("queued", "claimed", "in_review", "failed")
HOURS = [  # (weekday, opens, closes): the brand's care hours
    (0, time(8), time(12)),
    (0, time(13), time(20)),
    (1, time(8), time(20)),
    (2, time(8), time(20)),
    (3, time(8), time(20)),
    (4, time(8), time(0)),
    (5, time(10), time(16)),
]
HOLIDAYS = [date(2026, 7, 4), date(2026, 11, 26), date(2026, 12, 25)]
STORE_ZONE = ZoneInfo("America/Los_Angeles")
STORE_HOURS = [(day, time(9), time(17)) for day in range(7)]  # store 0's own hours
STORE_HOLIDAYS = [date(2026, 11, 27)]


@dataclass
class Person:
    user_id: int
    store: int | None  # index into stores, as today
    level: str
    training: str  # the first thing the gate misses, "ok" when nothing
    name: str


@dataclass
class QuestionRecord:
    id: int
    conversation: int
    received: datetime
    tweeted: datetime | None
    state: str
    reason: str
    topic: int | None  # index into topics
    lang: str
    priority: int
    sla_priority: int | None
    sla_due: datetime | None
    routed_store: int | None
    state_changed: datetime
    first_reply: int | None = None  # index into replies
    responded: datetime | None = None


@dataclass
class ReplyRecord:
    id: int
    question: int  # index into questions
    author: int  # index into people
    store: int | None  # index into stores
    state: str
    submitted: datetime
    needs_review: bool
    reviewed: datetime | None
    edited: bool
    rules: list[tuple[str, str]]  # (rule, severity)
    sent: datetime | None


@dataclass
class ShiftRecord:
    person: int
    started: datetime
    ended: datetime | None


@dataclass
class History:
    brand_id: int = 0
    stores: list[tuple[int, str, str]] = field(default_factory=list)  # (id, code, region)
    topics: list[tuple[int, str]] = field(default_factory=list)  # (id, name)
    people: list[Person] = field(default_factory=list)
    questions: list[QuestionRecord] = field(default_factory=list)
    replies: list[ReplyRecord] = field(default_factory=list)
    shifts: list[ShiftRecord] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)


def _instant(rng: np.random.Generator, count: int) -> list[datetime]:
    """``count`` arrival instants over the year: more in the day than at night, none in
    the empty stretch."""
    hour_weights = np.array(
        [1, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 12, 13, 12, 11, 11, 11, 12, 13, 13, 11, 8, 5, 3],
        dtype=float,
    )
    hour_weights /= hour_weights.sum()
    days = (END.date() - START.date()).days
    out: list[datetime] = []
    while len(out) < count:
        day = START.date() + timedelta(days=int(rng.integers(0, days)))
        if EMPTY[0] <= day <= EMPTY[1]:
            continue
        hour = int(rng.choice(24, p=hour_weights))
        seconds = hour * 3600 + float(rng.uniform(0, 3600))
        wall = datetime.combine(day, time(0)) + timedelta(seconds=seconds)
        # A wall time in the spring gap does not exist: its instant is the one after it.
        moment = wall.replace(tzinfo=ZONE).astimezone(UTC)
        out.append(moment.replace(microsecond=int(rng.integers(0, 1_000_000))))
    return out


def generate(count: int = 100_000, seed: int = 2009) -> History:
    """The records, before anything is written (ids and indexes, no database)."""
    rng = np.random.default_rng(seed)
    history = History()
    # Ten stores: three regions, and one store with no region.
    regions = ["North", "South", "West", ""]
    history.stores = [(BASE + n, f"H{n:02d}", regions[n % 4]) for n in range(10)]
    history.topics = [(BASE + n, f"Topic {n}") for n in range(5)]
    levels = ["certified", "certified", "trainee", "mentor", "certified"]
    for n in range(40):
        store = None if n % 13 == 12 else n % 10
        level = levels[n % 5]
        training = "ok"
        if n % 17 == 5:
            training = "suspended"
        elif n % 19 == 7:
            level, training = "enrolled", "training_incomplete"
        elif n % 23 == 3:
            training = "training_expired"
        history.people.append(Person(BASE + n, store, level, training, f"Person {n:02d}"))
    arrivals = sorted(_instant(rng, count - 12))
    # On and a microsecond around local midnights that bound the tests' periods.
    for day in BOUNDARIES:
        midnight = datetime.combine(day, time(0), tzinfo=ZONE).astimezone(UTC)
        arrivals += [
            midnight - timedelta(microseconds=1),
            midnight,
            midnight + timedelta(microseconds=1),
        ]
    arrivals.sort()
    conversation_of: list[int] = []
    open_conversations: list[int] = []
    next_conversation = BASE
    for n, received in enumerate(arrivals):
        if open_conversations and rng.random() < 0.25:
            conversation = open_conversations[int(rng.integers(0, len(open_conversations)))]
        else:
            conversation = next_conversation
            next_conversation += 1
            open_conversations.append(conversation)
            if len(open_conversations) > 200:
                open_conversations.pop(0)
        conversation_of.append(conversation)
        outcome = rng.random()
        age = (NOW - received).total_seconds()
        priority = int(rng.choice(4, p=[0.05, 0.15, 0.65, 0.15]))
        has_deadline = rng.random() > 0.03
        sla_due = received + timedelta(minutes=SLA_MINUTES[priority]) if has_deadline else None
        tweeted = (
            None
            if rng.random() < 0.05
            else received - timedelta(seconds=float(rng.uniform(0, 300)))
        )
        lang = str(rng.choice(LANGUAGES, p=LANGUAGE_WEIGHTS))
        topic = None if rng.random() < 0.2 else int(rng.integers(0, 5))
        routed = int(rng.integers(0, 10)) if rng.random() < 0.3 else None
        record = QuestionRecord(
            id=BASE + n,
            conversation=conversation,
            received=received,
            tweeted=tweeted,
            state="answered",
            reason="",
            topic=topic,
            lang=lang,
            priority=priority,
            sla_priority=priority if has_deadline else None,
            sla_due=sla_due,
            routed_store=routed,
            state_changed=received,
        )
        history.questions.append(record)
        if outcome < 0.10:
            record.state = "dismissed"
            record.reason = REASONS[int(rng.integers(0, len(REASONS)))]
            record.state_changed = received + timedelta(seconds=float(rng.uniform(1, 3600)))
            continue
        if outcome < 0.13:
            record.state = "escalated"
            record.state_changed = received + timedelta(seconds=float(rng.uniform(60, 7200)))
            continue
        delay = float(np.exp(np.log(1800) + 1.2 * rng.standard_normal()))
        if rng.random() < 0.01:
            delay = -float(rng.uniform(1, 100))  # X's clock ahead of ours: counted as 0
        if outcome < 0.25 or delay >= age:
            record.state = str(rng.choice(OPEN_STATES))
            if record.sla_due is not None and record.sla_due < NOW and rng.random() < 0.3:
                record.priority = max(priority - 1, 0)  # the SLA sweep raised it
            if record.state == "in_review":
                _reply(history, rng, n, received, None, pending=True)
            continue
        responded = received + timedelta(seconds=delay)
        if rng.random() < 0.08:  # a first try rejected in review
            _reply(history, rng, n, received, None, rejected=True)
        index = _reply(history, rng, n, received, responded)
        record.first_reply = index
        record.responded = responded
        record.state_changed = responded
    for n in range(len(history.people)):
        moment = START + timedelta(hours=float(rng.uniform(0, 48)))
        while moment < NOW:
            length = timedelta(hours=float(rng.uniform(1, 6)))
            ended: datetime | None = moment + length
            if ended is not None and ended > NOW:
                ended = None if n % 3 == 0 else NOW - timedelta(minutes=5)
            history.shifts.append(ShiftRecord(n, moment, ended))
            moment += length + timedelta(hours=float(rng.uniform(20, 120)))
    return history


def _reply(
    history: History,
    rng: np.random.Generator,
    question: int,
    received: datetime,
    sent: datetime | None,
    *,
    rejected: bool = False,
    pending: bool = False,
) -> int:
    author = int(rng.integers(0, len(history.people)))
    person = history.people[author]
    store = person.store
    if store is not None and rng.random() < 0.1:
        store = (store + 3) % 10  # written from another store: the author moved since
    anchor = (
        sent if sent is not None else received + timedelta(seconds=float(rng.uniform(60, 5000)))
    )
    needs_review = rejected or pending or rng.random() < 0.3
    review_time = timedelta(seconds=float(np.exp(np.log(600) + rng.standard_normal())))
    submitted = max(anchor - review_time - timedelta(seconds=20), received)
    reviewed = None if pending or not needs_review else submitted + review_time
    rules: list[tuple[str, str]] = []
    if needs_review and rng.random() < 0.6:
        for rule in rng.choice(REVIEW_RULES, size=int(rng.integers(1, 3)), replace=True):
            rules.append((str(rule), "review"))
    if rng.random() < 0.3:
        rules.append((str(rng.choice(ADVICE_RULES)), "advice"))
    state = "sent" if sent is not None else ("rejected" if rejected else "pending_review")
    if sent is not None and rng.random() < 0.02:
        state = "deleted"  # moderated after X accepted it: still the first response
    history.replies.append(
        ReplyRecord(
            id=BASE + len(history.replies),
            question=question,
            author=author,
            store=store,
            state=state,
            submitted=submitted,
            needs_review=needs_review,
            reviewed=reviewed,
            edited=bool(reviewed) and not rejected and rng.random() < 0.2,
            rules=rules,
            sent=sent,
        )
    )
    return len(history.replies) - 1


@transaction.atomic
def write(history: History) -> History:
    """The records as the desk's rows."""
    from charter.models import CharterAcceptance, CharterVersion, Standing
    from helpdesk.models import (
        Brand,
        Conversation,
        Question,
        Reply,
        Role,
        Store,
        Volunteer,
        XAccount,
    )
    from helpdesk.reports.models import Holiday, OpeningHours
    from routing.models import Shift, Topic

    brand = Brand.objects.create(name="History", slug="history", time_zone=ZONE.key)
    history.brand_id = brand.pk
    account = XAccount.objects.create(brand=brand, username="HistoryCare", x_user_id="5000001")
    Store.objects.bulk_create(
        Store(
            pk=pk,
            brand=brand,
            code=code,
            name=f"Store {code}",
            region=region,
            time_zone=STORE_ZONE.key if n == 0 else "",
        )
        for n, (pk, code, region) in enumerate(history.stores)
    )
    Topic.objects.bulk_create(
        Topic(pk=pk, brand=brand, slug=f"t{pk}", name=name) for pk, name in history.topics
    )
    OpeningHours.objects.bulk_create(
        [OpeningHours(brand=brand, weekday=d, opens_at=o, closes_at=c) for d, o, c in HOURS]
        + [
            OpeningHours(
                brand=brand, store_id=history.stores[0][0], weekday=d, opens_at=o, closes_at=c
            )
            for d, o, c in STORE_HOURS
        ]
    )
    Holiday.objects.bulk_create(
        [Holiday(brand=brand, date=day, name="Closed") for day in HOLIDAYS]
        + [Holiday(brand=brand, store_id=history.stores[0][0], date=day) for day in STORE_HOLIDAYS]
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(pk=person.user_id, username=f"history{person.user_id}", password="!")
        for person in history.people
    )
    history.user_ids = [user.pk for user in users]
    Volunteer.objects.bulk_create(
        Volunteer(
            user_id=person.user_id,
            brand=brand,
            role=Role.VOLUNTEER,
            store_id=history.stores[person.store][0] if person.store is not None else None,
            display_name=person.name,
        )
        for person in history.people
    )
    version = CharterVersion.objects.create(
        brand=brand, number=1, title="C", body="Be kind.", effective_at=START - timedelta(days=30)
    )
    CharterAcceptance.objects.bulk_create(
        CharterAcceptance(user_id=person.user_id, version=version) for person in history.people
    )
    Standing.objects.bulk_create(
        Standing(
            user_id=person.user_id,
            brand=brand,
            level=person.level,
            is_suspended=person.training == "suspended",
            trained_at=None if person.level == "enrolled" else START,
            training_expires_at=(
                NOW - timedelta(days=3)
                if person.training == "training_expired"
                else None
                if person.level == "enrolled"
                else NOW + timedelta(days=300)
            ),
        )
        for person in history.people
    )
    conversations = sorted({q.conversation for q in history.questions})
    Conversation.objects.bulk_create(
        (Conversation(pk=pk, brand=brand, x_conversation_id=str(pk)) for pk in conversations),
        batch_size=5000,
    )
    # The two big tables by plain INSERTs: building 184,000 model instances was most of the
    # time this took.
    dt = connection.ops.adapt_datetimefield_value
    store_pk = {n: pk for n, (pk, _code, _region) in enumerate(history.stores)}
    _insert(
        Reply,
        [
            "id",
            "question_id",
            "author_id",
            "account_id",
            "store_id",
            "text",
            "language",
            "state",
            "created_at",
            "state_changed_at",
            "submitted_at",
            "needs_review",
            "review_reasons",
            "lint",
            "review_feedback",
            "edited_by_reviewer",
            "original_text",
            "from_linked_account",
            "from_x_user_id",
            "from_username",
            "priority",
            "send_attempts",
            "last_send_error",
            "tweet_id",
            "sent_at",
            "reviewed_at",
            "failure_reason",
            "deletion_reason",
        ],
        (
            (
                reply.id,
                history.questions[reply.question].id,
                history.people[reply.author].user_id,
                account.pk,
                store_pk.get(reply.store) if reply.store is not None else None,
                "Answer ^H",
                "en",
                reply.state,
                dt(reply.submitted),
                dt(reply.sent or reply.reviewed or reply.submitted),
                dt(reply.submitted),
                reply.needs_review,
                "[]",
                json.dumps({"findings": [{"rule": r, "severity": v} for r, v in reply.rules]}),
                "",
                reply.edited,
                "",
                False,
                "",
                "",
                2,
                0,
                "",
                f"r{reply.id}" if reply.sent is not None else "",
                dt(reply.sent),
                dt(reply.reviewed),
                "",
                "",
            )
            for reply in history.replies
        ),
        json_columns={"review_reasons", "lint"},
    )
    _insert(
        Question,
        [
            "id",
            "brand_id",
            "account_id",
            "conversation_id",
            "tweet_id",
            "text",
            "lang",
            "tweeted_at",
            "received_at",
            "in_reply_to_tweet_id",
            "in_reply_to_user_id",
            "source",
            "raw",
            "state",
            "state_changed_at",
            "topic_id",
            "store_id",
            "priority",
            "sla_priority",
            "sla_due_at",
            "dismissed_reason",
            "first_reply_id",
            "first_response_at",
        ],
        (
            (
                q.id,
                brand.pk,
                account.pk,
                q.conversation,
                str(q.id),
                "Question?",
                q.lang,
                dt(q.tweeted),
                dt(q.received),
                "",
                "",
                "mentions",
                "{}",
                q.state,
                dt(q.state_changed),
                history.topics[q.topic][0] if q.topic is not None else None,
                store_pk.get(q.routed_store) if q.routed_store is not None else None,
                q.priority,
                q.sla_priority,
                dt(q.sla_due),
                q.reason,
                history.replies[q.first_reply].id if q.first_reply is not None else None,
                dt(q.responded),
            )
            for q in history.questions
        ),
        json_columns={"raw"},
    )
    Shift.objects.bulk_create(
        (
            Shift(
                user_id=history.people[s.person].user_id,
                brand=brand,
                started_at=s.started,
                last_seen_at=s.ended or s.started,
                ended_at=s.ended,
            )
            for s in history.shifts
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        # Statistics, as autovacuum gives a table this size: without them the planner takes
        # the new rows for a handful and loops.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return history


def _insert(
    model: Any, columns: list[str], rows: Iterable[tuple[Any, ...]], json_columns: set[str]
) -> None:
    """``rows`` into ``model``'s table, 5,000 to a statement batch."""
    quote = connection.ops.quote_name
    marks = ", ".join(
        "CAST(%s AS jsonb)" if name in json_columns and connection.vendor == "postgresql" else "%s"
        for name in columns
    )
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608 - our own names
        f"({', '.join(quote(name) for name in columns)}) VALUES ({marks})"
    )
    batch: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def erase(history: History) -> None:
    """Every row ``write`` made (the audit log was left alone, so nothing protects them)."""
    from charter.models import CharterAcceptance, CharterVersion, Standing
    from helpdesk.models import Brand, Conversation, Question, Reply, Store, Volunteer, XAccount
    from helpdesk.reports.models import Holiday, OpeningHours
    from routing.models import Shift, Topic

    brand = history.brand_id
    with transaction.atomic():
        Question.objects.filter(brand_id=brand).update(first_reply=None)
        for queryset in (
            Reply.objects.filter(
                question_id__in=Question.objects.filter(brand_id=brand).values("pk")
            ),
            Question.objects.filter(brand_id=brand),
            Conversation.objects.filter(brand_id=brand),
            Shift.objects.filter(brand_id=brand),
            Standing.objects.filter(brand_id=brand),
            CharterAcceptance.objects.filter(
                version_id__in=CharterVersion.objects.filter(brand_id=brand).values("pk")
            ),
            CharterVersion.objects.filter(brand_id=brand),
            Volunteer.objects.filter(brand_id=brand),
            OpeningHours.objects.filter(brand_id=brand),
            Holiday.objects.filter(brand_id=brand),
            Topic.objects.filter(brand_id=brand),
            Store.objects.filter(brand_id=brand),
            XAccount.objects.filter(brand_id=brand),
            get_user_model().objects.filter(pk__in=history.user_ids),
            Brand.objects.filter(pk=brand),
        ):
            queryset._raw_delete(queryset.db)
    if connection.vendor == "postgresql":
        # Give the tables back their size and statistics: a table left with 100,000 dead rows
        # plans other tests' queries differently (the queue's index test reads its plan).
        with connection.cursor() as cursor:
            for table in (
                "helpdesk_question",
                "helpdesk_reply",
                "helpdesk_conversation",
                "routing_shift",
                "auth_user",
            ):
                cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")


def as_utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value
