"""The reports' own records: opening hours and holidays (business time), API tokens, and
who receives the weekly report. Nothing here is a row of the desk's flow."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BRAND = "helpdesk.Brand"
STORE = "helpdesk.Store"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One opening interval on a weekday, in local time: the brand's care hours, or a
    store's own when ``store`` is set. A day may have several intervals; a day without any
    is closed. A brand without any opening hours is open around the clock."""

    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="opening_hours")
    store = models.ForeignKey(
        STORE,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="opening_hours",
        help_text=_("Empty: the brand's care hours"),
    )
    weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, validators=[MaxValueValidator(6)]
    )
    opens_at = models.TimeField()
    closes_at = models.TimeField(help_text=_("After the opening time; 00:00 means midnight"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering: ClassVar[list[str]] = ["brand", "store", "weekday", "opens_at"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if self.store is not None and self.store.brand_id != self.brand_id:
            raise ValidationError(_("The store belongs to another brand."))
        midnight = self.closes_at.hour == 0 and self.closes_at.minute == 0
        if not midnight and self.closes_at <= self.opens_at:
            raise ValidationError(
                _("Closing must come after opening (split a night across two days).")
            )


class Holiday(models.Model):
    """A local date on which the brand (or one store) is closed."""

    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="holidays")
    store = models.ForeignKey(
        STORE,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="holidays",
        help_text=_("Empty: closed everywhere"),
    )
    date = models.DateField()
    name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["brand", "date"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["brand", "date"],
                condition=models.Q(store__isnull=True),
                name="holiday_brand_date",
            ),
            models.UniqueConstraint(
                fields=["store", "date"],
                condition=models.Q(store__isnull=False),
                name="holiday_store_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class ApiToken(models.Model):
    """A personal token for the reporting API. Only a hash of the secret is kept: the token
    is shown once, when it is made. ``prefix`` finds the row; ``key_hash`` proves it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WeeklyReportSubscription(models.Model):
    """Whether a person receives the weekly report by e-mail. Agency staff receive it
    unless they unsubscribed; others only if they subscribed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_report"
    )
    is_subscribed = models.BooleanField(default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"weekly report for {self.user_id}: {self.is_subscribed}"


class WeeklyReportDelivery(models.Model):
    """One weekly report sent to one person: beat may run the task again, nobody gets the
    same week twice."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "week_start"], name="weekly_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"week {self.week_start} to {self.user_id}"
