"""The people of a programme: their role and store, and how they enrol."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models.brands import Brand, Store


def name_from(display_name: str, full_name: str, username: str) -> str:
    """The desk's one rule for naming a person: their display name in the programme, else
    their full name, else their username (``helpdesk.people.person_name`` applies it to a
    user)."""
    return display_name or full_name.strip() or username


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    SUPERVISOR = "supervisor", _("Supervisor")
    AGENCY = "agency", _("Agency staff")
    ADMIN = "admin", _("Administrator")


class Volunteer(models.Model):
    """A person's place in a brand's programme: their role, store, languages and skills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="volunteer"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="volunteers")
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="volunteers"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VOLUNTEER)
    employee_number = models.CharField(max_length=40, blank=True)
    display_name = models.CharField(max_length=80, blank=True)
    signature = models.CharField(max_length=20, blank=True, help_text=_("e.g. ^AB"))
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True, help_text=_("Topic slugs"))

    def __str__(self) -> str:
        return name_from(self.display_name, self.user.get_full_name(), self.user.get_username())


class InvitationCode(models.Model):
    """A code that confirms an employee's enrolment without waiting for a supervisor."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="invitation_codes")
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.CharField(max_length=40, unique=True)
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.code


class EnrolmentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")


class Enrolment(models.Model):
    """An employee's request to join a brand's programme, confirmed by a supervisor of their
    store or by an invitation code."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="enrolments")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="enrolments")
    employee_number = models.CharField(max_length=40)
    display_name = models.CharField(max_length=80, blank=True)
    languages = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=12, choices=EnrolmentStatus.choices, default=EnrolmentStatus.PENDING
    )
    invitation = models.ForeignKey(
        InvitationCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["brand", "employee_number"],
                condition=~models.Q(status="declined"),
                name="enrolment_brand_employee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_number} ({self.status})"


# Reply states in which a question has a reply on its way to X or on X: at most one.
