"""Who in a brand's programme is missing what: the supervisors' roster.

The gate (``charter.gate.may_claim``) answers for one person with a handful of queries; the
roster answers for a whole brand in four, with the same reason codes. A test holds the two to
the same answers for every kind of standing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from charter.acceptance import binding_version
from charter.models import CharterAcceptance, Level, Standing
from helpdesk.models import Brand, Store, Volunteer
from helpdesk.permissions import DESK_ROLES

MISSING_LABELS = {
    "not_enrolled": _("Not enrolled"),
    "suspended": _("Suspended"),
    "no_charter": _("No charter published"),
    "charter_not_accepted": _("Charter not accepted"),
    "training_incomplete": _("Training not complete"),
    "training_expired": _("Certification expired"),
}


@dataclass(frozen=True)
class RosterRow:
    volunteer: Volunteer
    standing: Standing | None
    accepted_number: int | None
    missing: tuple[str, ...]  # the gate's reason codes

    @property
    def missing_labels(self) -> list[str]:
        return [str(MISSING_LABELS.get(code, code)) for code in self.missing]


def _missing(
    standing: Standing | None, accepted: int | None, binding_number: int | None, now: datetime
) -> tuple[str, ...]:
    """The reasons ``may_claim`` would give, from rows already loaded."""
    if standing is None:
        return ("not_enrolled",)
    codes: list[str] = []
    if standing.is_suspended:
        codes.append("suspended")
    if binding_number is None:
        codes.append("no_charter")
    elif accepted is None or accepted < binding_number:
        codes.append("charter_not_accepted")
    if standing.level == Level.ENROLLED or standing.trained_at is None:
        codes.append("training_incomplete")
    elif standing.training_expires_at is not None and standing.training_expires_at <= now:
        codes.append("training_expired")
    return tuple(codes)


def roster(
    brand: Brand,
    *,
    store: Store | None = None,
    only_missing: bool = False,
    now: datetime | None = None,
) -> list[RosterRow]:
    """Every desk member of ``brand`` (of ``store``, if given), by store and name, with their
    level, the charter version they accepted and what keeps them from claiming."""
    now = now or timezone.now()
    volunteers = (
        Volunteer.objects.filter(brand=brand, role__in=DESK_ROLES)
        .select_related("user", "store")
        .order_by("store__code", "display_name", "user__username")
    )
    if store is not None:
        volunteers = volunteers.filter(store=store)
    standings = {s.user_id: s for s in Standing.objects.filter(brand=brand)}
    accepted = dict(
        CharterAcceptance.objects.filter(version__brand=brand)
        .values("user_id")
        .annotate(top=Max("version__number"))
        .values_list("user_id", "top")
    )
    binding = binding_version(brand.pk, now)
    binding_number = binding.number if binding is not None else None
    rows: list[RosterRow] = []
    for volunteer in volunteers:
        standing = standings.get(volunteer.user_id)
        number = accepted.get(volunteer.user_id)
        missing = _missing(standing, number, binding_number, now)
        if only_missing and not missing:
            continue
        rows.append(RosterRow(volunteer, standing, number, missing))
    return rows
