"""Grouping questions one volunteer can answer together (each reply is still its own post).

Two questions are "the same thing" when their normalised word sets are equal: lower case,
accents folded, mentions, links and punctuation dropped, English and French stop words
removed. Groups form when

* the same customer asks the same thing again within 24 hours, or
* at least ``MIN_CUSTOMERS`` different customers ask the same thing within an hour, or the
  same outage words ("down", "outage", "panne" ...) come with the same topic from that many
  customers within an hour.

A question joins an open group of its key (one with a question still open) or a new one.

Finding earlier questions with the same key without a key column: each process keeps an index
of the brand's questions of the last 24 hours (id, customer, time, keys), brought up to date
at every batch with the rows whose id is above the last one it saw. Ingestion of a brand is
serialised by its brand lock, so ids grow in commit order; when a batch's ids are not above
the index's (another database, a rolled-back test) the index is rebuilt from the database.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from helpdesk.models import Question
from helpdesk.states import QuestionState
from routing.classify.words import fold, vocabulary
from routing.models import QuestionGroup

MIN_CUSTOMERS = 3
MIN_WORDS = 2
SAME_CUSTOMER_WINDOW = timedelta(hours=24)
CROWD_WINDOW = timedelta(hours=1)
OPEN_STATES = frozenset(
    {
        QuestionState.NEW,
        QuestionState.QUEUED,
        QuestionState.CLAIMED,
        QuestionState.DRAFTING,
        QuestionState.IN_REVIEW,
    }
)
OUTAGE_WORDS = vocabulary(
    """down outage outages offline crash crashed crashing unavailable unreachable
    panne pannes coupure coupe indisponible plante"""
)
STOPWORDS = vocabulary(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    am do does did have has had i me my mine we our you your yours he she it its they them
    their this that these those there here so not no yes just very too also again still can
    could would should will shall may might must please pls plz hi hello hey thanks thank
    any some all what which who whom how why when where than then now up out about into over
    le la les l un une des du de d et ou mais si a au aux en dans sur par pour avec sans ce
    cet cette ces c ca ça je j me m moi tu te t toi il elle on nous vous ils elles se s son sa
    ses mon ma mes ton ta tes notre nos votre vos leur leurs qui que qu quoi est sont suis
    etre ai as avons avez ont ne n pas plus y bonjour bonsoir merci svp stp salut"""
)
_MENTION = re.compile(r"(?<!\w)@\w{1,15}")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


def key_words(text: str) -> frozenset[str]:
    """The normalised word set of ``text``: what "the same thing" compares."""
    clean = _URL.sub(" ", _MENTION.sub(" ", text))
    return frozenset(w for w in _WORD.findall(fold(clean)) if w not in STOPWORDS)


def _digest(words: Iterable[str]) -> str:
    joined = " ".join(sorted(words))
    return hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()[:20]


def group_key(text: str, customer_id: int | None = None) -> str:
    """The key of ``text``'s group: per customer when ``customer_id`` is given, across
    customers otherwise; ``""`` when the text has too few words to compare."""
    key = _text_key(key_words(text))
    return f"c{customer_id}:{key[2:]}" if key and customer_id is not None else key


def outage_key(text: str, topic_id: int | None) -> str:
    """The outage key: the outage words of ``text`` with its topic; ``""`` without any."""
    return _outage_key(key_words(text), topic_id)


def _text_key(words: frozenset[str]) -> str:
    return f"t:{_digest(words)}" if len(words) >= MIN_WORDS else ""


def _outage_key(words: frozenset[str], topic_id: int | None) -> str:
    outage = words & OUTAGE_WORDS
    return f"o{topic_id or 0}:{'+'.join(sorted(outage))}"[:120] if outage else ""


@dataclass(frozen=True)
class _Entry:
    pk: int
    customer_id: int | None
    received_at: datetime
    text_key: str
    outage_key: str


@dataclass
class _BrandIndex:
    last_pk: int = 0
    entries: deque[_Entry] = field(default_factory=deque)
    by_key: dict[str, list[_Entry]] = field(default_factory=dict)

    def add(self, entry: _Entry) -> None:
        self.entries.append(entry)
        self.last_pk = max(self.last_pk, entry.pk)
        for key in (entry.text_key, entry.outage_key):
            if key:
                self.by_key.setdefault(key, []).append(entry)

    def prune(self, before: datetime) -> None:
        while self.entries and self.entries[0].received_at < before:
            old = self.entries.popleft()
            for key in (old.text_key, old.outage_key):
                kept = [e for e in self.by_key.get(key, ()) if e.pk != old.pk]
                if kept:
                    self.by_key[key] = kept
                else:
                    self.by_key.pop(key, None)


_indexes: dict[int, _BrandIndex] = {}
_indexes_lock = threading.Lock()


def _entry(
    pk: int, customer_id: int | None, received_at: datetime, text: str, topic_id: int | None
) -> _Entry:
    words = key_words(text)
    return _Entry(pk, customer_id, received_at, _text_key(words), _outage_key(words, topic_id))


def _synced_index(
    brand_id: int, batch: Sequence[Question], now: datetime
) -> tuple[_BrandIndex, dict[int, _Entry]]:
    """The brand's index with every question up to the batch's; the batch's own entries are
    built from the objects in hand, and the database is read only for rows written by
    others since the last batch this process saw (none, when one process ingests)."""
    batch_pks = sorted(q.pk for q in batch)
    index = _indexes.get(brand_id)
    if index is None or batch_pks[0] <= index.last_pk:
        index = _BrandIndex()
    cutoff = now - SAME_CUSTOMER_WINDOW
    rows = Question.objects.filter(brand_id=brand_id).exclude(state=QuestionState.DISMISSED)
    if not index.last_pk:
        rows = rows.filter(received_at__gte=cutoff, pk__lt=batch_pks[0])
    elif batch_pks[0] > index.last_pk + 1:
        rows = rows.filter(pk__gt=index.last_pk, pk__lt=batch_pks[0])
    else:
        rows = rows.none()
    others = [
        _entry(pk, customer_id, received_at, text, topic_id)
        for pk, customer_id, received_at, text, topic_id in rows.order_by("pk").values_list(
            "pk", "customer_id", "received_at", "text", "topic_id"
        )
        if received_at >= cutoff
    ]
    added = {
        q.pk: _entry(q.pk, q.customer_id, q.received_at, q.text, q.topic_id)
        for q in sorted(batch, key=lambda q: q.pk)
    }
    for entry in [*others, *added.values()]:
        index.add(entry)
    index.prune(cutoff)
    with _indexes_lock:
        _indexes[brand_id] = index
    return index, added


def assign_groups(questions: Sequence[Question]) -> list[QuestionGroup]:
    """Put the batch's questions (one brand, already saved, not dismissed) in groups with
    earlier or fellow questions about the same thing; return the groups created or joined.

    A few queries per batch: the index update, the candidates' states, the new groups, and
    one update per group."""
    if not questions:
        return []
    brand_id = questions[0].brand_id
    now = timezone.now()
    index, added = _synced_index(brand_id, questions, now)
    batch = {q.pk: q for q in questions}

    wanted: dict[str, set[int]] = {}
    for question in sorted(questions, key=lambda q: q.pk):
        if question.group_id is not None:
            continue
        received = question.received_at
        entry = added[question.pk]
        text_key = entry.text_key
        crowd_key = ""
        for key in (text_key, entry.outage_key):
            if not key:
                continue
            recent = [
                e for e in index.by_key.get(key, ()) if received - e.received_at <= CROWD_WINDOW
            ]
            customers = {e.customer_id if e.customer_id is not None else -e.pk for e in recent}
            if len(customers) >= MIN_CUSTOMERS:
                crowd_key = key
                wanted.setdefault(key, set()).update(e.pk for e in recent)
                break
        if crowd_key or not text_key or question.customer_id is None:
            continue
        mine = [
            e
            for e in index.by_key.get(text_key, ())
            if e.customer_id == question.customer_id
            and received - e.received_at <= SAME_CUSTOMER_WINDOW
        ]
        if len(mine) >= 2:
            key = f"c{question.customer_id}:{text_key[2:]}"
            wanted.setdefault(key, set()).update(e.pk for e in mine)
    if not wanted:
        return []

    candidates = set().union(*wanted.values())
    current = {
        pk: group_id
        for pk, group_id in Question.objects.filter(
            pk__in=candidates, state__in=OPEN_STATES
        ).values_list("pk", "group_id")
    }
    groups: list[QuestionGroup] = []
    joins: dict[int, tuple[QuestionGroup | None, str, list[int]]] = {}
    to_create: list[tuple[str, list[int]]] = []
    taken: set[int] = set()
    existing_ids = {g for g in current.values() if g is not None}
    existing = {g.pk: g for g in QuestionGroup.objects.filter(pk__in=existing_ids)}
    for key, members in wanted.items():
        open_members = sorted(pk for pk in members if pk in current and pk not in taken)
        if len(open_members) < 2:
            continue
        group_ids = sorted({current[pk] for pk in open_members if current[pk] is not None})
        ungrouped = [pk for pk in open_members if current[pk] is None]
        taken.update(open_members)
        if not ungrouped:
            continue
        if group_ids:
            joins[group_ids[0]] = (existing.get(group_ids[0]), key, ungrouped)
        else:
            to_create.append((key, ungrouped))
    created = QuestionGroup.objects.bulk_create(
        [
            QuestionGroup(
                brand_id=brand_id,
                key=key,
                label=_label(batch, members),
                created_at=now,
            )
            for key, members in to_create
        ]
    )
    plan = [(group, pks) for group, (_, pks) in zip(created, to_create, strict=True)]
    plan += [(g, pks) for g, _key, pks in joins.values() if g is not None]
    for group, pks in plan:
        Question.objects.filter(pk__in=pks).update(group=group)
        for pk in pks:
            if pk in batch:
                batch[pk].group = group
        groups.append(group)
    return groups


def _label(batch: dict[int, Question], members: list[int]) -> str:
    for pk in members:
        if pk in batch:
            return _MENTION.sub("", batch[pk].text).strip()[:200]
    return ""
