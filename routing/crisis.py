"""Crisis mode: switched on for a brand's topic (or its whole desk) by its supervisors and
admins, often on a spike alert's offer, and off again.

While a crisis is on, only certified volunteers and mentors claim the affected questions
(``routing.eligibility``'s index reads :func:`crisis_scope`; the claim's conditional update
reads the same rows in SQL, ``claim_eligibility_sql``), every reply
to them goes to review unless the brand trusts its certified people
(``Brand.crisis_skips_review``), and the composer suggests the crisis's holding statement
first. Each switch writes an audit event and is announced to the brand's queue and
monitoring groups after commit (``crisis.started``, ``crisis.ended``).

Who may switch: the brand's supervisors and administrators (``supervisor_of``). The desk
has no "agency admin" role; agency staff are read-only (DESIGN), so the closest notion is
the brand's administrator, and the agency's read-only staff may not switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.audit import record
from helpdesk.events import announce, brand_queue_group, monitoring_group
from helpdesk.models import Brand, SavedReply
from helpdesk.permissions import supervisor_of
from routing.models import CrisisMode, Topic

REASON_MAX_LENGTH = 500


class CrisisError(ValueError):
    """A switch that does not apply; ``code`` names why (``forbidden`` for someone who may
    not switch, whatever else is wrong)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CrisisScope:
    """What a brand's crises cover now: the whole desk, or these topics."""

    whole_brand: bool = False
    topic_ids: frozenset[int] = frozenset()

    def covers(self, topic_id: int | None) -> bool:
        return self.whole_brand or (topic_id is not None and topic_id in self.topic_ids)

    def __bool__(self) -> bool:
        return self.whole_brand or bool(self.topic_ids)


def may_switch_crisis(user: User | AnonymousUser, brand_id: int) -> bool:
    """Whether ``user`` may switch crisis mode on or off for ``brand_id``: a supervisor or
    an administrator of that brand."""
    return isinstance(user, User) and supervisor_of(user, brand_id) is not None


def crises_of(brand_id: int) -> list[CrisisMode]:
    """The brand's crises that are on, the whole-brand one first, then by topic name."""
    return list(
        CrisisMode.objects.filter(brand_id=brand_id, ended_at__isnull=True)
        .select_related("topic", "holding_statement", "started_by__volunteer")
        .order_by(F("topic_id").asc(nulls_first=True), "topic__name", "pk")
    )


def crisis_for(brand_id: int, topic_id: int | None) -> CrisisMode | None:
    """The crisis that covers a question of ``brand_id`` about ``topic_id`` (None: no
    topic), or None. The topic's own crisis wins over the whole brand's."""
    covering = Q(topic__isnull=True)
    if topic_id is not None:
        covering |= Q(topic_id=topic_id)
    return (
        CrisisMode.objects.filter(covering, brand_id=brand_id, ended_at__isnull=True)
        .select_related("topic", "holding_statement")
        .order_by(F("topic_id").asc(nulls_last=True), "pk")
        .first()
    )


def crisis_forces_review(brand_id: int, topic_id: int | None) -> bool:
    """Whether a reply to a question of ``brand_id`` about ``topic_id`` goes to review
    because a crisis covers it (and the brand did not say otherwise when it began)."""
    crisis = crisis_for(brand_id, topic_id)
    return crisis is not None and crisis.force_review


def crisis_scope(brand_id: int) -> CrisisScope:
    """What the brand's crises cover now (one read)."""
    topics = list(
        CrisisMode.objects.filter(brand_id=brand_id, ended_at__isnull=True).values_list(
            "topic_id", flat=True
        )
    )
    return CrisisScope(
        whole_brand=None in topics,
        topic_ids=frozenset(topic for topic in topics if topic is not None),
    )


def no_crisis_covers_question() -> Q:
    """A condition on a question row: no crisis of its brand covers it (the claim's
    conditional update checks the same in SQL, ``routing.eligibility.claim_eligibility_sql``,
    so a crisis switched on just before a claim still refuses it)."""
    return Q(
        ~Exists(
            CrisisMode.objects.filter(brand_id=OuterRef("brand_id"), ended_at__isnull=True).filter(
                Q(topic__isnull=True) | Q(topic_id=OuterRef("topic_id"))
            )
        )
    )


def start_crisis(
    brand_id: int,
    topic_id: int | None,
    actor: User | AnonymousUser,
    *,
    reason: str = "",
    alert_id: int | None = None,
    holding_statement_id: int | None = None,
    force_review: bool | None = None,
    now: datetime | None = None,
) -> CrisisMode:
    """Switch crisis mode on for ``topic_id`` of ``brand_id`` (None: the whole brand).

    ``alert_id`` names the spike alert that offered it; ``holding_statement_id`` a saved
    reply of the brand (for every topic or this one) the composer suggests first;
    ``force_review`` defaults to the brand's setting (review unless
    ``crisis_skips_review``). Refused with :class:`CrisisError` (nothing written) for
    someone who is not a supervisor or admin of the brand, a topic or saved reply not the
    brand's, or a crisis already on for the same scope. Audited; announced after commit."""
    now = now or timezone.now()
    if not may_switch_crisis(actor, brand_id):
        raise CrisisError(
            "forbidden", _("Only the brand's supervisors and admins switch crisis mode.")
        )
    assert isinstance(actor, User)
    reason = reason.strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise CrisisError(
            "reason_too_long",
            _("The reason is at most %(max)s characters.") % {"max": REASON_MAX_LENGTH},
        )
    topic = None
    if topic_id is not None:
        topic = Topic.objects.filter(pk=topic_id, brand_id=brand_id).first()
        if topic is None:
            raise CrisisError("no_such_topic", _("Choose one of the brand's topics."))
    holding = None
    if holding_statement_id is not None:
        holding = (
            SavedReply.objects.filter(pk=holding_statement_id, brand_id=brand_id, is_active=True)
            .filter(Q(topic__isnull=True) | Q(topic_id=topic_id))
            .first()
        )
        if holding is None:
            raise CrisisError(
                "no_such_saved_reply",
                _("Choose an active saved reply of the brand, for every topic or this one."),
            )
    if force_review is None:
        force_review = not Brand.objects.filter(pk=brand_id, crisis_skips_review=True).exists()
    try:
        with transaction.atomic(durable=True):  # an entry point: its own transaction
            crisis = CrisisMode.objects.create(
                brand_id=brand_id,
                topic=topic,
                holding_statement=holding,
                force_review=force_review,
                reason=reason,
                alert_id=alert_id,
                started_at=now,
                started_by=actor,
            )
            record(
                "crisis.started",
                actor=actor,
                brand_id=brand_id,
                to_state="on",
                from_state="off",
                data=_described(crisis),
                at=now,
            )
            _announce(crisis, "crisis.started")
    except IntegrityError as error:
        raise CrisisError("already_on", _("Crisis mode is already on for this topic.")) from error
    return crisis


def end_crisis(
    brand_id: int,
    topic_id: int | None,
    actor: User | AnonymousUser,
    *,
    reason: str = "",
    now: datetime | None = None,
) -> CrisisMode:
    """Switch off the crisis on ``topic_id`` of ``brand_id`` (None: the whole brand's);
    the gate is as before at once. Refused with :class:`CrisisError` (nothing written) for
    someone who may not switch, or when no such crisis is on; of two people switching it
    off at once, one does (one conditional update). Audited; announced after commit."""
    now = now or timezone.now()
    if not may_switch_crisis(actor, brand_id):
        raise CrisisError(
            "forbidden", _("Only the brand's supervisors and admins switch crisis mode.")
        )
    assert isinstance(actor, User)
    reason = reason.strip()[:REASON_MAX_LENGTH]
    with transaction.atomic(durable=True):  # an entry point: its own transaction
        crisis = (
            CrisisMode.objects.filter(
                Q(topic_id=topic_id) if topic_id is not None else Q(topic__isnull=True),
                brand_id=brand_id,
                ended_at__isnull=True,
            )
            .select_related("topic")
            .first()
        )
        ended = (
            crisis is not None
            and CrisisMode.objects.filter(pk=crisis.pk, ended_at__isnull=True).update(
                ended_at=now, ended_by=actor, end_reason=reason
            )
            == 1
        )
        if crisis is None or not ended:
            raise CrisisError("not_on", _("Crisis mode is not on for this topic."))
        crisis.ended_at, crisis.ended_by, crisis.end_reason = now, actor, reason
        record(
            "crisis.ended",
            actor=actor,
            brand_id=brand_id,
            from_state="on",
            to_state="off",
            data={**_described(crisis), "end_reason": reason},
            at=now,
        )
        _announce(crisis, "crisis.ended")
    return crisis


def _described(crisis: CrisisMode) -> dict[str, Any]:
    """The crisis as plain JSON, for its audit rows and announcements."""
    return {
        "crisis_id": crisis.pk,
        "topic_id": crisis.topic_id,
        "topic": crisis.topic.slug if crisis.topic is not None else "",
        "reason": crisis.reason,
        "alert_id": crisis.alert_id,
        "holding_statement_id": crisis.holding_statement_id,
        "force_review": crisis.force_review,
    }


def _announce(crisis: CrisisMode, kind: str) -> None:
    announce(
        [brand_queue_group(crisis.brand_id), monitoring_group(crisis.brand_id)],
        kind,
        {"brand_id": crisis.brand_id, **_described(crisis)},
    )
