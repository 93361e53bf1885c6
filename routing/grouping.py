"""Grouping questions one volunteer can answer together (each reply is still its own post).

Two questions are "the same thing" when their normalised word sets are equal: lower case,
accents folded, mentions, links and punctuation dropped, English and French stop words
removed. Groups form when

* the same customer asks the same thing again within 24 hours, or
* at least ``MIN_CUSTOMERS`` different customers ask the same thing within an hour, or the
  same outage words ("outage", "offline", "panne" ..., and "down" only in an outage's sense:
  "the site is down", not "holding down the shift key" or "shuts down") come with the same
  topic (without a topic, to the same care account) from that many customers within an hour.

A question joins an open group of its key (one with a question still open) or a new one.

Each question carries its two keys (``Question.group_text_key`` and ``group_outage_key``),
written by routing with the other routed columns; a batch finds the earlier questions with
the same keys in the last 24 hours by one indexed query, whichever process stored them and in
whatever order their transactions committed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
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
# Words that mean the service is out whatever surrounds them. Crashes are not here: an app
# crashing on one customer's computer is a bug report, not an outage, and "plante" or
# "coupe" have everyday senses.
OUTAGE_WORDS = vocabulary(
    """outage outages offline unavailable unreachable panne pannes coupure indisponible"""
)
# "down" only in an outage's sense ("the site is down", "servers down again"), never
# "holding down the shift key", "the price will down", "shuts down", "my phone is down to 3%".
_DOWN_AS_OUTAGE = re.compile(
    r"\b(?:(?:is|are|was|were|been|be|being|goes|go|going|went|still|completely|totally"
    r"|currently|seems?|looks?|est|sont|isn't|not)\s+down"
    r"|(?:servers?|site|website|service|services|app|network|game|online|platform|systems?|api"
    r"|psn|live|cell|signal|internet|wifi)\s+down"
    r"|down\s+(?:again|for\s+(?:everyone|anyone|anybody|me\s+too)|right\s+now|rn|atm|today))"
    r"\b(?!\s+(?:to|the|a|my|your|our|on|with|by|from|and\s+out)\b|\s*\d)"
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


def outage_key(text: str, topic_id: int | None, account_id: int | None = None) -> str:
    """The outage key: the outage words of ``text`` with its topic (without one, with the
    care account it came to); ``""`` without any outage word."""
    return _outage_key(text, key_words(text), topic_id, account_id)


def _text_key(words: frozenset[str]) -> str:
    return f"t:{_digest(words)}" if len(words) >= MIN_WORDS else ""


def _outage_key(
    text: str, words: frozenset[str], topic_id: int | None, account_id: int | None
) -> str:
    outage = set(words & OUTAGE_WORDS)
    if "down" in words and _DOWN_AS_OUTAGE.search(fold(text).lower()):
        outage.add("down")
    if not outage:
        return ""
    # Without a topic, "down" says nothing of what is down: the care account it was asked of
    # stands in for the product (a games studio's servers and a cable firm's wifi were one).
    scope = f"{topic_id}" if topic_id else f"a{account_id or 0}"
    return f"o{scope}:{'+'.join(sorted(outage))}"[:120]


def group_keys(text: str, topic_id: int | None, account_id: int | None = None) -> tuple[str, str]:
    """``(text key, outage key)`` of a question, as stored on it."""
    words = key_words(text)
    return _text_key(words), _outage_key(text, words, topic_id, account_id)


@dataclass(frozen=True)
class _Entry:
    pk: int
    customer_id: int | None
    received_at: datetime
    text_key: str
    outage_key: str


def _keyed(questions: Sequence[Question]) -> dict[int, _Entry]:
    """The batch's entries; questions stored without their keys (by older code, or by a
    caller other than routing) get them now."""
    missing = []
    for question in questions:
        keys = group_keys(question.text, question.topic_id, question.account_id)
        if keys != (question.group_text_key, question.group_outage_key):
            question.group_text_key, question.group_outage_key = keys
            missing.append(question)
    if missing:
        Question.objects.bulk_update(missing, ["group_text_key", "group_outage_key"])
    return {
        q.pk: _Entry(q.pk, q.customer_id, q.received_at, q.group_text_key, q.group_outage_key)
        for q in questions
    }


def _fellows(brand_id: int, added: dict[int, _Entry], now: datetime) -> dict[str, list[_Entry]]:
    """Every question of the brand (not dismissed) of the last 24 hours that shares a key
    with the batch, the batch's own included, by key."""
    text_keys = {e.text_key for e in added.values() if e.text_key}
    outage_keys = {e.outage_key for e in added.values() if e.outage_key}
    if not text_keys and not outage_keys:
        return {}
    rows = (
        Question.objects.filter(brand_id=brand_id, received_at__gte=now - SAME_CUSTOMER_WINDOW)
        .filter(Q(group_text_key__in=text_keys) | Q(group_outage_key__in=outage_keys))
        .exclude(state=QuestionState.DISMISSED)
        .exclude(pk__in=list(added))
        .order_by("pk")
        .values_list("pk", "customer_id", "received_at", "group_text_key", "group_outage_key")
    )
    by_key: dict[str, list[_Entry]] = {}
    for entry in sorted([*(_Entry(*row) for row in rows), *added.values()], key=lambda e: e.pk):
        for key in (entry.text_key, entry.outage_key):
            if key in text_keys or key in outage_keys:
                by_key.setdefault(key, []).append(entry)
    return by_key


def assign_groups(questions: Sequence[Question]) -> list[QuestionGroup]:
    """Put the batch's questions (one brand, already saved, not dismissed) in groups with
    earlier or fellow questions about the same thing; return the groups created or joined.

    A few queries per batch: the fellows by key, the candidates' states, the new groups, and
    one update per group."""
    if not questions:
        return []
    brand_id = questions[0].brand_id
    now = timezone.now()
    added = _keyed(questions)
    by_key = _fellows(brand_id, added, now)
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
            recent = [e for e in by_key.get(key, ()) if received - e.received_at <= CROWD_WINDOW]
            customers = {e.customer_id if e.customer_id is not None else -e.pk for e in recent}
            if len(customers) >= MIN_CUSTOMERS:
                crowd_key = key
                wanted.setdefault(key, set()).update(e.pk for e in recent)
                break
        if crowd_key or not text_key or question.customer_id is None:
            continue
        mine = [
            e
            for e in by_key.get(text_key, ())
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
