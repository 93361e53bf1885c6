"""Placement of queued questions, per brand and topic: pool, offer or sticky.

- pool: every eligible volunteer on shift sees it; the first claim wins. Nothing to write.
- offer: offered to one eligible volunteer at a time (``offered_to`` with a timeout), the
  least loaded first (open claims plus pending offers), ties to whoever was offered something
  least recently (round-robin); an expired offer moves to the next person who has not had it
  (``advance_offers``), and when everyone has had it, to the pool.
- sticky: a follow-up goes back to the volunteer who handled the thread (for now, the latest
  ``claimed_by`` of an earlier question of the conversation: replies are not built yet) when
  they are on shift, allowed by the gate and under their cap, as an offer with the timeout;
  otherwise to the pool, where the claimer sees the thread's history with the question.

Who already had an offer is read from the ``question.offered`` audit events (there is no
column for it).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from helpdesk.audit import Event, events, record_many
from helpdesk.events import announce, brand_queue_group
from helpdesk.models import Question, Store
from helpdesk.states import QuestionState
from routing.eligibility import ANY_LANGUAGE, EligibilityIndex, brand_topics
from routing.models import Placement, RoutingSettings, Topic
from routing.presence import is_on_shift, routing_settings_for
from routing.queries import NO_TOPIC, language_key, topic_key

OFFERED = "question.offered"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Rotation:
    """Load and recency of the people in an index, kept right as a batch offers things."""

    def __init__(self, index: EligibilityIndex, now: datetime) -> None:
        self.index = index
        ids = list(index.people)
        pending = dict(
            Question.objects.filter(
                brand_id=index.brand_id,
                state=QuestionState.QUEUED,
                offered_to_id__in=ids,
                offer_expires_at__gt=now,
            )
            .values("offered_to_id")
            .annotate(n=Count("pk"))
            .values_list("offered_to_id", "n")
        )
        self.load = {
            uid: person.open_claims + pending.get(uid, 0) for uid, person in index.people.items()
        }
        recent = (
            events()
            .filter(kind=OFFERED, brand_id=index.brand_id, created_at__gte=now - timedelta(days=1))
            .values("data__user_id")
            .annotate(last=Max("created_at"))
            .values_list("data__user_id", "last")
        )
        self.last: dict[int, tuple[datetime, int]] = {}
        for user_id, last in recent:
            if isinstance(user_id, int) and user_id in self.load:
                self.last[user_id] = (last, 0)
        self._tick = itertools.count(1)
        self.now = now

    def pick(self, candidates: Iterable[int]) -> int | None:
        best: tuple[Any, ...] | None = None
        for uid in candidates:
            key = (self.load.get(uid, 0), self.last.get(uid, (_EPOCH, 0)), uid)
            if best is None or key < best:
                best = key
        if best is None:
            return None
        chosen = int(best[2])
        self.load[chosen] = self.load.get(chosen, 0) + 1
        self.last[chosen] = (self.now, next(self._tick))
        return chosen


def placement_for(question: Question, index: EligibilityIndex) -> str:
    topic = index.topic_of(question)
    if topic is not None and topic.placement:
        return topic.placement
    return index.settings.default_placement


def sticky_holder(question: Question) -> int | None:
    """Who handled this conversation before ``question``: the latest claimer of an earlier
    question of the same conversation."""
    return (
        Question.objects.filter(
            conversation_id=question.conversation_id,
            claimed_by__isnull=False,
        )
        .filter(
            Q(received_at__lt=question.received_at)
            | Q(received_at=question.received_at, pk__lt=question.pk)
        )
        .order_by("-received_at", "-pk")
        .values_list("claimed_by_id", flat=True)
        .first()
    )


def decide(
    question: Question,
    index: EligibilityIndex,
    rotation: _Rotation,
    *,
    exclude: Collection[int] = (),
) -> tuple[str, int | None]:
    """The placement decision for one queued question: ``(mode, user id to offer it to or
    None for the pool)``. Updates ``rotation`` as if the offer were made."""
    mode = placement_for(question, index)
    if mode == Placement.STICKY:
        holder = sticky_holder(question)
        if (
            holder is not None
            and holder in index.available
            and holder not in exclude
            and index.may_take_under_crisis(holder, question)
        ):
            rotation.pick([holder])
            return mode, holder
        return mode, None
    if mode == Placement.OFFER:
        candidates = [uid for uid in index.eligible_for(question) if uid not in exclude]
        return mode, rotation.pick(candidates)
    return Placement.POOL, None


def place_queued(questions: Sequence[Question], *, now: datetime | None = None) -> None:
    """Offer or hand back freshly queued questions where their topic says so; pool
    questions need nothing. Runs inside the caller's transaction."""
    now = now or timezone.now()
    by_brand: dict[int, list[Question]] = {}
    for question in questions:
        if question.state == QuestionState.QUEUED:
            by_brand.setdefault(question.brand_id, []).append(question)
    for brand_id, brand_questions in by_brand.items():
        # Whether any of them needs a decision is the brand's settings' and topics' to say:
        # asked before reading everyone on shift, which a pool brand never needs (with 2,500
        # on shift, that read was three quarters of every ingested batch's time:
        # docs/benchmarks.md, Load).
        settings, topics = routing_settings_for(brand_id), brand_topics(brand_id)
        if not _needs_decisions(brand_questions, settings, topics):
            continue
        index = EligibilityIndex.build(brand_id, now=now, settings=settings, topics=topics)
        rotation = _Rotation(index, now)
        offers: dict[int, list[Question]] = {}
        for question in sorted(brand_questions, key=_queue_order):
            _mode, user_id = decide(question, index, rotation)
            if user_id is not None:
                offers.setdefault(user_id, []).append(question)
        _offer(brand_id, offers, index, now, round_by_question={})


def advance_offers(now: datetime | None = None) -> int:
    """Move every expired offer to the next eligible person who has not had it, or to the
    pool when nobody is left. Returns how many questions moved."""
    now = now or timezone.now()
    moved = 0
    brand_ids = set(
        Question.objects.filter(
            state=QuestionState.QUEUED, offered_to__isnull=False, offer_expires_at__lt=now
        )
        .values_list("brand_id", flat=True)
        .distinct()
    )
    for brand_id in sorted(brand_ids):
        with transaction.atomic(durable=True):
            expired = list(
                Question.objects.select_for_update(skip_locked=True).filter(
                    brand_id=brand_id,
                    state=QuestionState.QUEUED,
                    offered_to__isnull=False,
                    offer_expires_at__lt=now,
                )
            )
            if not expired:
                continue
            had: dict[int, set[int]] = {}
            for question_id, data in (
                events()
                .filter(question_id__in=[q.pk for q in expired], kind=OFFERED)
                .values_list("question_id", "data")
            ):
                if isinstance(data, dict) and isinstance(data.get("user_id"), int):
                    had.setdefault(question_id, set()).add(data["user_id"])
            index = EligibilityIndex.build(brand_id, now=now)
            rotation = _Rotation(index, now)
            offers: dict[int, list[Question]] = {}
            to_pool: list[int] = []
            for question in sorted(expired, key=_queue_order):
                previous = had.get(question.pk, set())
                assert question.offered_to_id is not None
                previous.add(question.offered_to_id)
                rotation.load[question.offered_to_id] = max(
                    0, rotation.load.get(question.offered_to_id, 1) - 1
                )
                mode = placement_for(question, index)
                user_id = None
                if mode == Placement.OFFER:
                    candidates = [u for u in index.eligible_for(question) if u not in previous]
                    user_id = rotation.pick(candidates)
                if user_id is None:
                    to_pool.append(question.pk)
                else:
                    offers.setdefault(user_id, []).append(question)
            if to_pool:
                Question.objects.filter(pk__in=to_pool, offer_expires_at__lt=now).update(
                    offered_to=None, offer_expires_at=None
                )
                record_many(
                    Event(
                        kind="question.offer_exhausted",
                        at=now,
                        actor_label="system:routing",
                        brand_id=brand_id,
                        question_id=pk,
                        data={"to": "pool"},
                    )
                    for pk in to_pool
                )
                announce(
                    [brand_queue_group(brand_id)],
                    "questions.pooled",
                    {"brand_id": brand_id, "question_ids": to_pool},
                )
            rounds = {q.pk: len(had.get(q.pk, ())) + 1 for q in expired}
            _offer(brand_id, offers, index, now, round_by_question=rounds)
            moved += len(expired)
    return moved


def queue_for(
    user: User, brand_id: int, filters: dict[str, Any] | None = None, *, now: datetime | None = None
) -> QuerySet[Question]:
    """The queue this person sees: the brand's queued questions they are eligible for that
    sit in the pool, plus those offered to them; most urgent first, then oldest first.
    Empty when they are not on shift or the gate refuses them. Under crisis mode, what
    it covers only for certified volunteers and mentors.

    Eligibility is written on the keys of the open-queue index (``routing.queries``): the
    topic and language conditions are ``IN`` lists of keys, so counting the queue reads
    only the index entries this person may take, whatever the size of the whole queue."""
    now = now or timezone.now()
    filters = filters or {}
    none = Question.objects.none()
    if not is_on_shift(user.pk, brand_id):
        return none
    index = EligibilityIndex.build(brand_id, user_ids=[user.pk], now=now)
    person = index.people.get(user.pk)
    if person is None or not person.gate_allowed:
        return none
    skilled = {pk for pk, topic in index.topics.items() if topic.slug in person.skills}
    local = {pk for pk in skilled if index.topics[pk].is_local}
    topics = {NO_TOPIC} | skilled
    languages = set(ANY_LANGUAGE) | set(person.languages)
    offered = Q(offered_to=user.pk, offer_expires_at__gte=now)
    queued = (
        Question.objects.filter(brand_id=brand_id, state=QuestionState.QUEUED)
        .alias(topic_key=topic_key(), language_key=language_key())
        .order_by()
    )
    # Questions offered to this person show whatever their topic and language (a sticky
    # follow-up, skills changed since): widen the keys to theirs. A handful of rows.
    offers = set(queued.filter(offered).values_list(topic_key(), language_key()))
    offered_topics = {int(topic) for topic, _language in offers} - topics
    offered_languages = {str(language) for _topic, language in offers} - languages
    eligible = Q()
    if offered_topics or offered_languages:
        eligible = Q(topic_key__in=sorted(topics), language_key__in=sorted(languages))
    if local:
        nearby = Q(topic_key__in=sorted(topics - local)) | Q(store__isnull=True)
        if person.store_id is not None:
            nearby |= Q(store_id=person.store_id)
        if person.region:
            nearby |= Q(store_id__in=Store.objects.filter(region=person.region).values("pk"))
        eligible &= nearby
    visible = Q(offered_to__isnull=True) | Q(offer_expires_at__lt=now) | Q(offered_to=user.pk)
    queue = queued.filter(
        Q(
            topic_key__in=sorted(topics | offered_topics),
            language_key__in=sorted(languages | offered_languages),
        ),
        (eligible & visible) | offered,
    )
    if index.crisis and not person.crisis_cleared:
        # Crisis mode: what it covers is for certified volunteers and mentors only, even
        # a question offered to this person before the crisis began.
        if index.crisis.whole_brand:
            return none
        queue = queue.exclude(topic_id__in=sorted(index.crisis.topic_ids))
    if filters.get("topic"):
        queue = queue.filter(topic__slug=filters["topic"])
    if filters.get("priority") is not None:
        queue = queue.filter(priority=int(filters["priority"]))
    if filters.get("lang"):
        queue = queue.filter(lang__iexact=str(filters["lang"]))
    if filters.get("store"):
        queue = queue.filter(store_id=int(filters["store"]))
    return queue.select_related("customer", "conversation", "topic").order_by(
        "priority", "received_at", "pk"
    )


def _queue_order(question: Question) -> tuple[int, datetime, int]:
    return (question.priority, question.received_at, question.pk)


def _needs_decisions(
    questions: Sequence[Question], settings: RoutingSettings, topics: dict[int, Topic]
) -> bool:
    """Whether any of ``questions`` (one brand's, with its routing ``settings`` and
    ``topics`` by id) is placed other than in the pool."""
    if settings.default_placement != Placement.POOL:
        return True
    topic_ids = {q.topic_id for q in questions if q.topic_id}
    return any(
        isinstance(topics.get(tid), Topic) and topics[tid].placement not in ("", Placement.POOL)
        for tid in topic_ids
    )


def _offer(
    brand_id: int,
    offers: dict[int, list[Question]],
    index: EligibilityIndex,
    now: datetime,
    *,
    round_by_question: dict[int, int],
) -> None:
    if not offers:
        return
    until = now + timedelta(seconds=index.settings.offer_timeout_seconds)
    offered: list[Event] = []
    for user_id, questions in offers.items():
        ids = [q.pk for q in questions]
        Question.objects.filter(pk__in=ids, state=QuestionState.QUEUED).update(
            offered_to=user_id, offer_expires_at=until
        )
        for question in questions:
            question.offered_to_id = user_id
            question.offer_expires_at = until
            offered.append(
                Event(
                    kind=OFFERED,
                    at=now,
                    actor_label="system:routing",
                    brand_id=brand_id,
                    question_id=question.pk,
                    data={
                        "user_id": user_id,
                        "until": until.isoformat(),
                        "round": round_by_question.get(question.pk, 1),
                        "mode": placement_for(question, index),
                    },
                )
            )
        announce(
            [brand_queue_group(brand_id)],
            "questions.offered",
            {"brand_id": brand_id, "user_id": user_id, "question_ids": ids},
        )
    record_many(offered)
