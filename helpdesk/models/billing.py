"""What X bills the desk for: every call the gateway made, counted and priced."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models.brands import Brand, XAccount


class PriceCategory(models.TextChoices):
    """X's pay-per-use resources. A call of an endpoint outside them is counted, unpriced."""

    OWNED_READ = "owned_read", _("Owned read (own mentions and posts, per post)")
    POST_READ = "post_read", _("Post read (search, lookups, per post)")
    POST_CREATE = "post_create", _("Post created")
    POST_CREATE_URL = "post_create_url", _("Post created with a URL")
    POST_DELETE = "post_delete", _("Post deleted")
    UNPRICED = "unpriced", _("Not billed per resource")


class XApiCall(models.Model):
    """One request the gateway sent to X, what it returned and what X bills for it.

    Money is integer micro-dollars (``cost_micros`` = ``units`` times ``unit_price_micros``),
    priced from ``settings.X_PRICES`` when the call was made: a later price change does not
    rewrite the past. A call that failed is still a call, with 0 units (X bills only the
    resources it returned or created).
    """

    at = models.DateTimeField(default=timezone.now)
    brand = models.ForeignKey(
        Brand,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="x_api_calls",
        db_index=False,
    )
    account = models.ForeignKey(
        XAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="x_api_calls"
    )
    # "GET /2/users/:id/mentions": the method and X's path with its ids as ":id".
    endpoint = models.CharField(max_length=80)
    category = models.CharField(max_length=20, choices=PriceCategory.choices)
    units = models.PositiveIntegerField(default=0)
    unit_price_micros = models.PositiveBigIntegerField(default=0)
    cost_micros = models.PositiveBigIntegerField(default=0)
    # X's HTTP status; null when no answer came (timeout, connection refused).
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "at"], name="xapicall_brand_at"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.status} {self.units}"
