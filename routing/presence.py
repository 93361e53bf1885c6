"""Presence: who is on shift for a brand, and for how long (the charter says employees answer
on company time, so the hours are recorded and the agency can export them).

Going on shift needs only a place in the programme (a volunteer record of the brand and a
standing); whether the person may *claim* is the gate's business, asked at claim time.

Ending a shift does not release the person's claims: each claim is a lease that lapses by
itself (``routing.claims.expire_leases``), so a volunteer who closes the page mid-reply keeps
the question for the rest of the lease and nobody answers it twice. Offers made to the person
expire at once, so ``routing.placement.advance_offers`` moves them on at its next run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.gate import may_claim
from charter.models import Standing
from helpdesk.audit import Event, record, record_many
from helpdesk.events import announce, monitoring_group
from helpdesk.models import Question, Volunteer
from helpdesk.permissions import DESK_ROLES
from helpdesk.states import QuestionState
from routing.models import RoutingSettings, Shift


class PresenceError(ValueError):
    """A shift change that does not apply to this person; the message says why, in the
    person's language."""


def routing_settings_for(brand_id: int) -> RoutingSettings:
    """The brand's routing numbers; the defaults (unsaved) until an admin sets them."""
    found = RoutingSettings.objects.filter(brand_id=brand_id).first()
    return found if found is not None else RoutingSettings(brand_id=brand_id)


def open_shift(user_id: int, brand_id: int) -> Shift | None:
    return Shift.objects.filter(user_id=user_id, brand_id=brand_id, ended_at__isnull=True).first()


def start_shift(user: User, brand_id: int, *, now: datetime | None = None) -> Shift:
    """Put the person on shift and return the open shift; an already open one is returned
    unchanged (idempotent, also under a double click racing itself)."""
    now = now or timezone.now()
    existing = open_shift(user.pk, brand_id)
    if existing is not None:
        return existing
    is_member = Volunteer.objects.filter(
        user_id=user.pk, brand_id=brand_id, role__in=DESK_ROLES
    ).exists()
    if not is_member or not Standing.objects.filter(user_id=user.pk, brand_id=brand_id).exists():
        raise PresenceError(_("Only members of the programme go on shift."))
    # On shift means offered questions and counted hours: only for who may claim now.
    gate = may_claim(user, brand_id, now=now)
    if not gate.allowed:
        raise PresenceError(
            _("You cannot go on shift now: %(why)s")
            % {"why": "; ".join(reason.message for reason in gate.reasons)}
        )
    try:
        with transaction.atomic(durable=True):
            shift = Shift.objects.create(
                user=user, brand_id=brand_id, started_at=now, last_seen_at=now
            )
            record(
                "shift.started",
                actor=user,
                brand_id=brand_id,
                data={"shift_id": shift.pk, "started_at": now.isoformat()},
            )
            announce(
                [monitoring_group(brand_id)],
                "shift.started",
                {"brand_id": brand_id, "user_id": user.pk},
            )
    except IntegrityError:  # the one-open-shift constraint: a concurrent start won
        raced = open_shift(user.pk, brand_id)
        if raced is None:
            raise
        return raced
    return shift


def end_shift(
    user: User, brand_id: int, reason: str = "ended", *, now: datetime | None = None
) -> Shift | None:
    """End the person's open shift (None when there was none). Claims stay until their lease
    lapses; pending offers expire now so they move on to someone else."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        shift = (
            Shift.objects.select_for_update()
            .filter(user_id=user.pk, brand_id=brand_id, ended_at__isnull=True)
            .first()
        )
        if shift is None:
            return None
        shift.ended_at = now
        shift.end_reason = reason[:20]
        shift.save(update_fields=["ended_at", "end_reason"])
        _expire_offers_to([user.pk], brand_id, now)
        record(
            "shift.ended",
            actor=user,
            brand_id=brand_id,
            data=_ended_data(shift),
        )
        announce(
            [monitoring_group(brand_id)],
            "shift.ended",
            {"brand_id": brand_id, "user_id": user.pk, "reason": shift.end_reason},
        )
    return shift


def touch(user: User, brand_id: int, *, now: datetime | None = None) -> bool:
    """The person is still there (the live page calls this); False when not on shift."""
    now = now or timezone.now()
    return bool(
        Shift.objects.filter(user_id=user.pk, brand_id=brand_id, ended_at__isnull=True).update(
            last_seen_at=now
        )
    )


def end_idle_shifts(now: datetime | None = None) -> int:
    """End every shift not seen for the brand's ``shift_idle_minutes``; the shift ends when
    the idle time ran out (``last_seen_at`` + idle), not when this sweep noticed. Returns how
    many shifts it ended."""
    now = now or timezone.now()
    ended = 0
    brand_ids = set(
        Shift.objects.filter(ended_at__isnull=True).values_list("brand_id", flat=True).distinct()
    )
    for brand_id in sorted(brand_ids):
        idle = timedelta(minutes=routing_settings_for(brand_id).shift_idle_minutes)
        with transaction.atomic(durable=True):
            shifts = list(
                Shift.objects.select_for_update(skip_locked=True).filter(
                    brand_id=brand_id, ended_at__isnull=True, last_seen_at__lt=now - idle
                )
            )
            if not shifts:
                continue
            for shift in shifts:
                shift.ended_at = shift.last_seen_at + idle
                shift.end_reason = "idle"
            Shift.objects.bulk_update(shifts, ["ended_at", "end_reason"])
            _expire_offers_to([shift.user_id for shift in shifts], brand_id, now)
            record_many(
                Event(
                    kind="shift.ended",
                    at=now,
                    actor_id=shift.user_id,
                    actor_label="system:idle",
                    brand_id=brand_id,
                    data=_ended_data(shift),
                )
                for shift in shifts
            )
            announce(
                [monitoring_group(brand_id)],
                "shifts.ended",
                {"brand_id": brand_id, "user_ids": [shift.user_id for shift in shifts]},
            )
            ended += len(shifts)
    return ended


def is_on_shift(user_id: int, brand_id: int) -> bool:
    return Shift.objects.filter(user_id=user_id, brand_id=brand_id, ended_at__isnull=True).exists()


def on_shift_user_ids(brand_id: int) -> set[int]:
    return set(
        Shift.objects.filter(brand_id=brand_id, ended_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )


def shift_hours(
    brand_id: int, start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, int]:
    """Seconds on shift per user between ``start`` and ``end``, each shift clipped to the
    window; an open shift counts up to ``now``. Users without time in the window are left
    out."""
    now = now or timezone.now()
    totals: dict[int, timedelta] = {}
    shifts = (
        Shift.objects.filter(brand_id=brand_id, started_at__lt=end)
        .exclude(ended_at__lte=start)
        .values_list("user_id", "started_at", "ended_at")
    )
    for user_id, started_at, ended_at in shifts:
        stop = min(ended_at or now, end)
        begin = max(started_at, start)
        if stop > begin:
            totals[user_id] = totals.get(user_id, timedelta()) + (stop - begin)
    return {user_id: int(total.total_seconds()) for user_id, total in sorted(totals.items())}


def _ended_data(shift: Shift) -> dict[str, object]:
    assert shift.ended_at is not None
    return {
        "shift_id": shift.pk,
        "started_at": shift.started_at.isoformat(),
        "ended_at": shift.ended_at.isoformat(),
        "reason": shift.end_reason,
        "seconds": int((shift.ended_at - shift.started_at).total_seconds()),
    }


def _expire_offers_to(user_ids: list[int], brand_id: int, now: datetime) -> None:
    Question.objects.filter(
        brand_id=brand_id,
        state=QuestionState.QUEUED,
        offered_to_id__in=user_ids,
        offer_expires_at__gt=now,
    ).update(offer_expires_at=now)
