"""Reads that views, commands and reports share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.utils import timezone

from helpdesk.models import Question, Reply, Tag, Volunteer
from helpdesk.notes.queries import with_tags
from helpdesk.permissions import SUPERVISING_ROLES
from helpdesk.states import QuestionState

QUEUE_PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^([0-9]{1,5})\.(-?[0-9]{1,20})\.([0-9]{1,19})$")
# What a list of questions never shows: the tweet as X sent it, and the care account's
# credentials (encrypted; loading them would decrypt five values per row).
NOT_LISTED = (
    "raw",
    "account__bearer_token",
    "account__consumer_key",
    "account__consumer_secret",
    "account__access_token",
    "account__access_token_secret",
)


def with_our_replies(questions: QuerySet[Question]) -> QuerySet[Question]:
    """``questions`` with our replies to each (and their authors), oldest first: what the
    shared message template ``desk/_tweet.html`` shows under a message."""
    return questions.prefetch_related(
        Prefetch(
            "replies",
            queryset=Reply.objects.select_related("author__volunteer").order_by("created_at", "pk"),
        )
    )


def conversation_threads(brand_id: int, conversation_ids: set[int]) -> dict[int, list[Question]]:
    """The messages of each of the brand's conversations ``conversation_ids``, oldest first,
    with their customers and our replies: the question page's thread, the review cards'.
    Two queries however many conversations."""
    threads: dict[int, list[Question]] = {}
    if not conversation_ids:
        return threads
    for item in with_our_replies(
        Question.objects.filter(brand_id=brand_id, conversation_id__in=conversation_ids)
        .select_related("customer")
        .defer("raw")
        .order_by("received_at", "pk")
    ):
        threads.setdefault(item.conversation_id, []).append(item)
    return threads


def queued_questions_for(volunteer: Volunteer) -> QuerySet[Question]:
    """The brand's queued questions, most urgent first, then oldest first."""
    return (
        Question.objects.filter(brand_id=volunteer.brand_id, state=QuestionState.QUEUED)
        .select_related("customer", "account", "topic")
        .defer(*NOT_LISTED)
        .order_by("priority", "received_at", "pk")
    )


@dataclass(frozen=True)
class QueueCursor:
    """Where a page of the queue ends, in its order (priority, received_at, pk)."""

    priority: int
    received_at: datetime
    pk: int

    @classmethod
    def after(cls, question: Question) -> QueueCursor:
        return cls(question.priority, question.received_at, question.pk)

    def encode(self) -> str:
        micros = (self.received_at - _EPOCH) // timedelta(microseconds=1)
        return f"{self.priority}.{micros}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> QueueCursor | None:
        """The cursor ``text`` names, or None when it names none."""
        match = _CURSOR.match(text)
        if match is None:
            return None
        try:
            received_at = _EPOCH + timedelta(microseconds=int(match.group(2)))
        except OverflowError:
            return None
        return cls(int(match.group(1)), received_at, int(match.group(3)))

    def condition(self) -> Q:
        p, t, pk = self.priority, self.received_at, self.pk
        return (
            Q(priority__gt=p)
            | Q(priority=p, received_at__gt=t)
            | Q(priority=p, received_at=t, pk__gt=pk)
        )


@dataclass(frozen=True)
class QueueFilters:
    """The filters a person chose; None or empty means any."""

    topic: str = ""
    lang: str = ""
    store: int | None = None
    priority: int | None = None
    tag: int | None = None

    def apply(self, questions: QuerySet[Question]) -> QuerySet[Question]:
        if self.topic:
            questions = questions.filter(topic__slug=self.topic)
        if self.lang:
            questions = questions.filter(lang__iexact=self.lang)
        if self.store is not None:
            questions = questions.filter(store_id=self.store)
        if self.priority is not None:
            questions = questions.filter(priority=self.priority)
        if self.tag is not None:
            # A subquery rather than a join: the queue's own query stays as it was.
            questions = questions.filter(
                pk__in=Tag.questions.through.objects.filter(tag_id=self.tag).values("question_id")
            )
        return questions


@dataclass(frozen=True)
class TopicCount:
    topic_id: int | None
    n: int


@dataclass
class QueuePage:
    """One page of the queue a person sees, and what the page says about it."""

    questions: list[Question]
    next_cursor: QueueCursor | None
    topic_counts: list[TopicCount]
    total: int
    on_shift: bool
    whole_brand: bool
    may_claim: bool


def queue_page_for(
    volunteer: Volunteer,
    user: User,
    filters: QueueFilters,
    *,
    after: QueueCursor | None = None,
    size: int = QUEUE_PAGE_SIZE,
    now: datetime | None = None,
) -> QueuePage:
    """The page of the queue ``volunteer`` sees: supervisors and admins the whole brand
    queue; a volunteer on shift the questions they are eligible for plus those offered to
    them (``routing.placement.queue_for``); a volunteer off shift the brand queue, to read
    only. Most urgent first, then oldest; ``size`` questions after ``after``; counts per
    topic over the whole filtered queue. A constant number of queries."""
    from routing.placement import queue_for
    from routing.presence import is_on_shift

    now = now or timezone.now()
    on_shift = is_on_shift(volunteer.user_id, volunteer.brand_id)
    whole_brand = volunteer.role in SUPERVISING_ROLES or not on_shift
    if whole_brand:
        base = queued_questions_for(volunteer)
    else:
        base = queue_for(user, volunteer.brand_id, now=now)
    filtered = filters.apply(base)
    counts = [
        TopicCount(topic_id, n)
        for topic_id, n in filtered.order_by()
        .values("topic_id")
        .annotate(n=Count("pk"))
        .values_list("topic_id", "n")
    ]
    listed = (
        filtered.select_related("customer", "account", "topic")
        .defer(*NOT_LISTED)
        .order_by("priority", "received_at", "pk")
    )
    if after is not None:
        listed = listed.filter(after.condition())
    rows = list(listed[: size + 1])
    prefetch_related_objects(rows[:size], with_tags())
    next_cursor = QueueCursor.after(rows[size - 1]) if len(rows) > size else None
    return QueuePage(
        questions=rows[:size],
        next_cursor=next_cursor,
        topic_counts=counts,
        total=sum(count.n for count in counts),
        on_shift=on_shift,
        whole_brand=whole_brand,
        may_claim=on_shift,
    )
