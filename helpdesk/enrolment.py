"""Employees joining a brand's programme: enrolment requests, their confirmation by a
supervisor of the employee's store (or at once with an invitation code), and invitations.

Every action validates, locks what it changes, changes it and writes an audit event in one
transaction; a refused request leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from charter.standing import open_standing
from helpdesk import audit
from helpdesk.models import (
    Brand,
    Enrolment,
    EnrolmentStatus,
    InvitationCode,
    Role,
    Store,
    Volunteer,
)
from helpdesk.permissions import supervises

INVITATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed
INVITATION_GROUPS = 3
INVITATION_GROUP_LENGTH = 4
MAX_INVITATION_USES = 1000


class EnrolmentError(ValueError):
    """A refused enrolment or invitation action. ``field`` names the form field at fault,
    when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_invitation_code(code: str) -> str:
    """Codes are shown upper-case in groups; accept them typed any way."""
    return "".join(code.split()).upper()


def _employee_number_taken(brand: Brand, employee_number: str) -> bool:
    return (
        Enrolment.objects.filter(brand=brand, employee_number=employee_number)
        .exclude(status=EnrolmentStatus.DECLINED)
        .exists()
        or Volunteer.objects.filter(brand=brand, employee_number=employee_number).exists()
    )


def _duplicate_employee_number() -> EnrolmentError:
    return EnrolmentError(
        _("This employee number is already enrolled in the programme."),
        field="employee_number",
    )


def _username_taken() -> EnrolmentError:
    return EnrolmentError(_("This username is already taken."), field="username")


def _usable_invitation(code: str, brand: Brand, store: Store, now: datetime) -> InvitationCode:
    """The locked invitation row for ``code``, if it may confirm this enrolment now."""
    invitation = (
        InvitationCode.objects.select_for_update()
        .filter(code=normalise_invitation_code(code), brand=brand)
        .first()
    )
    if invitation is None:
        raise EnrolmentError(_("This invitation code is not valid."), field="invitation_code")
    if invitation.store_id is not None and invitation.store_id != store.pk:
        raise EnrolmentError(
            _("This invitation code is for another store."), field="invitation_code"
        )
    if invitation.expires_at is not None and invitation.expires_at <= now:
        raise EnrolmentError(_("This invitation code has expired."), field="invitation_code")
    if invitation.uses >= invitation.max_uses:
        raise EnrolmentError(_("This invitation code has been used up."), field="invitation_code")
    return invitation


def _admit(enrolment: Enrolment, *, decided_by: User | None, now: datetime) -> Volunteer:
    """Make the confirmed employee a volunteer of their store and open their standing."""
    if Volunteer.objects.filter(user_id=enrolment.user_id).exists():
        raise EnrolmentError(_("This person already has a place in a programme."))
    if Volunteer.objects.filter(
        brand_id=enrolment.brand_id, employee_number=enrolment.employee_number
    ).exists():
        raise _duplicate_employee_number()
    volunteer = Volunteer.objects.create(
        user_id=enrolment.user_id,
        brand_id=enrolment.brand_id,
        store_id=enrolment.store_id,
        role=Role.VOLUNTEER,
        employee_number=enrolment.employee_number,
        display_name=enrolment.display_name,
        languages=list(enrolment.languages),
    )
    open_standing(enrolment.user_id, enrolment.brand_id, actor=decided_by)
    enrolment.status = EnrolmentStatus.CONFIRMED
    enrolment.decided_by = decided_by
    enrolment.decided_at = now
    enrolment.save(update_fields=["status", "decided_by", "decided_at"])
    return volunteer


def enrol_employee(
    *,
    username: str,
    password: str,
    display_name: str,
    brand: Brand,
    store: Store,
    employee_number: str,
    languages: Iterable[str],
    invitation_code: str | None = None,
) -> Enrolment:
    """Create the employee's account and their enrolment request.

    The request waits for a supervisor of the store, unless ``invitation_code`` is a code of
    this brand (and store, if the code names one) that has not expired nor been used up: then
    it is confirmed at once and the code counts one more use. Raises ``EnrolmentError`` (and
    creates nothing) for a taken username or employee number, a weak password, a store of
    another brand or an unusable code.
    """
    username = username.strip()
    employee_number = employee_number.strip()
    display_name = display_name.strip()
    language_list = [code.strip() for code in languages if code.strip()]
    code = normalise_invitation_code(invitation_code or "")
    if not username:
        raise EnrolmentError(_("Choose a username."), field="username")
    if not employee_number:
        raise EnrolmentError(_("Give your employee number."), field="employee_number")
    if store.brand_id != brand.pk:
        raise EnrolmentError(_("This store is not part of this brand."), field="store")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise _username_taken()
    try:
        validate_password(password, user=user_model(username=username))
    except ValidationError as error:
        raise EnrolmentError(" ".join(error.messages), field="password") from error
    if _employee_number_taken(brand, employee_number):
        raise _duplicate_employee_number()

    now = timezone.now()
    try:
        with transaction.atomic():
            invitation = _usable_invitation(code, brand, store, now) if code else None
            user = user_model.objects.create_user(username=username, password=password)
            enrolment = Enrolment.objects.create(
                user=user,
                brand=brand,
                store=store,
                employee_number=employee_number,
                display_name=display_name,
                languages=language_list,
                invitation=invitation,
                requested_at=now,
            )
            audit.record(
                "enrolment.requested",
                actor=user,
                brand_id=brand.pk,
                data={
                    "enrolment_id": enrolment.pk,
                    "user_id": user.pk,
                    "store": store.code,
                    "employee_number": employee_number,
                    "invitation_id": invitation.pk if invitation else None,
                },
            )
            if invitation is not None:
                invitation.uses += 1
                invitation.save(update_fields=["uses"])
                volunteer = _admit(enrolment, decided_by=None, now=now)
                audit.record(
                    "enrolment.confirmed",
                    actor_label="system:invitation",
                    brand_id=brand.pk,
                    data={
                        "enrolment_id": enrolment.pk,
                        "user_id": user.pk,
                        "volunteer_id": volunteer.pk,
                        "invitation_id": invitation.pk,
                        "invitation_uses": invitation.uses,
                    },
                )
    except IntegrityError as error:
        # Someone took the username or the employee number between our check and our insert.
        if user_model.objects.filter(username__iexact=username).exists():
            raise _username_taken() from error
        raise _duplicate_employee_number() from error
    return enrolment


def _locked_pending(enrolment: Enrolment, by: Volunteer) -> Enrolment:
    locked = Enrolment.objects.select_for_update().select_related("store").get(pk=enrolment.pk)
    if not supervises(by, locked.store):
        raise EnrolmentError(_("Only a supervisor of this store can decide on this enrolment."))
    if locked.status != EnrolmentStatus.PENDING:
        raise EnrolmentError(_("This enrolment has already been decided."))
    return locked


def confirm_enrolment(enrolment: Enrolment, *, by: Volunteer) -> Volunteer:
    """Confirm a pending enrolment: the employee becomes a volunteer of their store, at the
    ``enrolled`` level. Only a supervisor of that store (or an admin of the brand) may."""
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_pending(enrolment, by)
        volunteer = _admit(locked, decided_by=by.user, now=now)
        audit.record(
            "enrolment.confirmed",
            actor=by.user,
            brand_id=locked.brand_id,
            data={
                "enrolment_id": locked.pk,
                "user_id": locked.user_id,
                "volunteer_id": volunteer.pk,
            },
        )
    enrolment.refresh_from_db()
    return volunteer


def decline_enrolment(enrolment: Enrolment, *, by: Volunteer, reason: str) -> Enrolment:
    """Decline a pending enrolment with a reason the employee will see."""
    reason = reason.strip()
    if not reason:
        raise EnrolmentError(_("Say why the enrolment is declined."), field="reason")
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_pending(enrolment, by)
        locked.status = EnrolmentStatus.DECLINED
        locked.decided_by = by.user
        locked.decided_at = now
        locked.decline_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
        audit.record(
            "enrolment.declined",
            actor=by.user,
            brand_id=locked.brand_id,
            data={"enrolment_id": locked.pk, "user_id": locked.user_id, "reason": reason},
        )
    enrolment.refresh_from_db()
    return locked


def _new_code() -> str:
    groups = (
        "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_GROUP_LENGTH))
        for _ in range(INVITATION_GROUPS)
    )
    return "-".join(groups)


def may_invite_to(by: Volunteer, store: Store | None) -> bool:
    """Whether ``by`` may create a code for ``store`` (None: any store of the brand). A
    supervisor of one store invites only to that store."""
    if not supervises(by, store):
        return False
    return store is not None or by.role == Role.ADMIN or by.store_id is None


def create_invitation(
    brand: Brand,
    *,
    store: Store | None = None,
    max_uses: int = 1,
    expires_at: datetime | None = None,
    by: Volunteer,
) -> InvitationCode:
    """A new invitation code that confirms up to ``max_uses`` enrolments in ``brand`` (in
    ``store`` only, if given) until ``expires_at``."""
    if by.brand_id != brand.pk or (store is not None and store.brand_id != brand.pk):
        raise EnrolmentError(_("You can only invite people to your own brand."), field="store")
    if not may_invite_to(by, store):
        raise EnrolmentError(
            _("You can only invite people to the store you supervise."), field="store"
        )
    if not 1 <= max_uses <= MAX_INVITATION_USES:
        raise EnrolmentError(
            _("A code can be used between 1 and %(max)s times.") % {"max": MAX_INVITATION_USES},
            field="max_uses",
        )
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise EnrolmentError(_("The expiry must be in the future."), field="expires_at")
    with transaction.atomic():
        invitation = InvitationCode.objects.create(
            brand=brand,
            store=store,
            code=_new_code(),
            max_uses=max_uses,
            expires_at=expires_at,
            created_by=by.user,
            created_at=now,
        )
        audit.record(
            "invitation.created",
            actor=by.user,
            brand_id=brand.pk,
            data={
                "invitation_id": invitation.pk,
                "store": store.code if store else None,
                "max_uses": max_uses,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return invitation
