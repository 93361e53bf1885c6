"""Brands, their X care accounts and listening queries, and their stores."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.fields import EncryptedTextField


def validate_time_zone(name: str) -> None:
    """An IANA time zone name (``Europe/Paris``), as ``zoneinfo`` knows them."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(
            _("%(name)s is not an IANA time zone (for example Europe/Paris)."),
            params={"name": name},
        ) from error


class Brand(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Reports cut days and weeks at midnight here, across daylight-saving changes.
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("IANA time zone of the brand's days and weeks, e.g. America/Chicago"),
    )
    # TwelpForce's employees answered from their own handles; a brand may allow that.
    replies_from_linked_accounts = models.BooleanField(
        default=False,
        help_text=_(
            "Volunteers who linked their own X account may reply from it instead of from "
            "the care account"
        ),
    )
    # Crisis mode sends every reply to review unless the brand trusts its certified people.
    # Where a supervisor with a store acts: on their store's people, replies and claims
    # ("store"), or on the whole brand's ("brand"). One rule for the people pages, review,
    # moderation and the floor (helpdesk.permissions.supervises).
    supervision_scope = models.CharField(
        max_length=8,
        choices=[("store", _("Their own store")), ("brand", _("The whole brand"))],
        default="store",
        db_default="store",
        help_text=_(
            "Where supervisors who belong to a store review, moderate and manage people "
            "(supervisors without a store and admins act on the whole brand)"
        ),
    )
    crisis_skips_review = models.BooleanField(
        default=False,
        help_text=_(
            "Under crisis mode, replies of certified volunteers and mentors go without review "
            "(the usual rules still apply)"
        ),
    )

    # The X bill: a monthly budget in dollars (none: no budget), warned about at 80 %.
    x_monthly_budget = models.DecimalField(
        _("monthly X budget (USD)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("What the brand may spend on the X API per calendar month; empty: no budget"),
    )
    x_pause_listening_when_spent = models.BooleanField(
        _("pause listening when the budget is spent"),
        default=False,
        help_text=_(
            "When the month's X spend reaches the budget, stop running listening queries "
            "(search) until the next month. Mentions and replies are never paused."
        ),
    )
    # The first day of the month whose 80 % warning was e-mailed: once a month.
    x_budget_warned_month = models.DateField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return self.name


class XAccount(models.Model):
    """One of a brand's care handles on X, with its credentials and ingestion cursors."""

    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="x_accounts", db_index=False
    )
    username = models.CharField(max_length=15, help_text=_("Handle without the @"))
    x_user_id = models.CharField(max_length=32, unique=True)
    language = models.CharField(max_length=8, blank=True, help_text=_("Main language, if any"))
    is_active = models.BooleanField(default=True)
    # Credentials, encrypted at rest. App-only bearer token for reading; OAuth 1.0a user
    # context for posting.
    bearer_token = EncryptedTextField(blank=True)
    consumer_key = EncryptedTextField(blank=True)
    consumer_secret = EncryptedTextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    access_token_secret = EncryptedTextField(blank=True)
    # Ingestion. The cursor moves only in the transaction that commits the rows it covers.
    mentions_since_id = models.CharField(max_length=32, blank=True)
    mentions_pending_newest_id = models.CharField(max_length=32, blank=True)
    mentions_pending_token = models.CharField(max_length=256, blank=True)
    poll_interval_seconds = models.PositiveIntegerField(default=15)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Posting. X allows 100 posts per user per 15 minutes; the desk schedules under this.
    post_limit_per_window = models.PositiveIntegerField(default=100)
    post_window_seconds = models.PositiveIntegerField(default=900)
    # Set from a 429 or a spent x-rate-limit-remaining: no post before this moment.
    posts_blocked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "username"], name="xaccount_brand_username"),
        ]

    def __str__(self) -> str:
        return f"@{self.username}"


class ListeningQuery(models.Model):
    """A recent-search query run for a brand through one of its accounts."""

    account = models.ForeignKey(XAccount, on_delete=models.CASCADE, related_name="queries")
    query = models.CharField(max_length=512)
    is_active = models.BooleanField(default=True)
    since_id = models.CharField(max_length=32, blank=True)
    pending_newest_id = models.CharField(max_length=32, blank=True)
    pending_token = models.CharField(max_length=256, blank=True)

    def __str__(self) -> str:
        return self.query


class Store(models.Model):
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="stores", db_index=False
    )
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    region = models.CharField(max_length=60, blank=True)
    # The store's opening hours (reports' business time) are read in its own zone.
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("IANA time zone of the store's opening hours; empty: the brand's"),
    )

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "code"], name="store_brand_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
