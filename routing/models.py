"""Routing's records: topics and rules, per-brand routing settings, shifts, and groups of
questions that can be answered together. Claims, offers, priority and deadlines are columns
of the question itself (``helpdesk.Question``) so one conditional update decides them."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BRAND = "helpdesk.Brand"


class Placement(models.TextChoices):
    POOL = "pool", _("Pool: every eligible volunteer sees it; the first claim wins")
    OFFER = "offer", _("Offer: one volunteer at a time, least loaded first")
    STICKY = "sticky", _("Sticky: follow-ups go back to who answered the thread")


class Priority(models.IntegerChoices):
    URGENT = 0, _("Urgent")
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


# A first-response deadline of more than a year is a typo, and one of thousands of years
# overflows the date it is added to (which failed ingestion for the brand).
MAX_SLA_MINUTES = 366 * 24 * 60


def default_sla_minutes() -> dict[str, int]:
    return {"0": 15, "1": 60, "2": 240, "3": 1440}


class RoutingSettings(models.Model):
    """A brand's routing numbers."""

    brand = models.OneToOneField(BRAND, on_delete=models.CASCADE, related_name="routing_settings")
    default_placement = models.CharField(
        max_length=8, choices=Placement.choices, default=Placement.POOL
    )
    sla_minutes = models.JSONField(
        default=default_sla_minutes, help_text=_("First-response deadline per priority")
    )
    claim_lease_minutes = models.PositiveIntegerField(default=10)
    offer_timeout_seconds = models.PositiveIntegerField(default=120)
    shift_idle_minutes = models.PositiveIntegerField(default=30)
    max_open_claims = models.PositiveIntegerField(default=3)
    sla_warning_share = models.FloatField(
        default=0.75, help_text=_("Share of the deadline after which a question is 'near' it")
    )

    class Meta:
        verbose_name = _("routing settings")
        verbose_name_plural = _("routing settings")

    def __str__(self) -> str:
        return f"routing settings of {self.brand_id}"


class Topic(models.Model):
    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="topics", db_index=False
    )
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    placement = models.CharField(max_length=8, choices=Placement.choices, blank=True)
    is_local = models.BooleanField(
        default=False, help_text=_("Questions of this topic go to the customer's store or region")
    )

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "slug"], name="topic_brand_slug"),
        ]

    def __str__(self) -> str:
        return self.name


class RuleKind(models.TextChoices):
    KEYWORD = "keyword", _("Keyword (whole word)")
    PHRASE = "phrase", _("Phrase")
    HASHTAG = "hashtag", _("Hashtag")
    REGEX = "regex", _("Regular expression")
    HANDLE = "handle", _("Care handle mentioned")


class RuleEffect(models.TextChoices):
    TOPIC = "topic", _("Sets the topic")
    PRIORITY = "priority", _("Raises the priority")
    NOISE = "noise", _("Marks as noise")


class RoutingRule(models.Model):
    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="routing_rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=RuleKind.choices)
    # A keyword list in one regex reaches a few hundred characters (the demo's are up to 346;
    # PostgreSQL refused them at 300 where SQLite does not check).
    pattern = models.CharField(max_length=1000)
    effect = models.CharField(max_length=10, choices=RuleEffect.choices)
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="rules"
    )
    priority_boost = models.PositiveSmallIntegerField(default=1)
    noise_reason = models.CharField(max_length=120, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["brand", "position", "pk"]

    def __str__(self) -> str:
        return self.name


class Shift(models.Model):
    """Time on shift, recorded: the charter says employees answer on company time."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts"
    )
    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="shifts", db_index=False
    )
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["user", "brand"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_shift",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "ended_at"], name="shift_brand_open"),
        ]

    def __str__(self) -> str:
        return f"shift {self.pk} of {self.user_id}"


class QuestionGroup(models.Model):
    """Questions about the same thing (one customer asking twice, or an outage) that one
    volunteer can answer together; each reply is still its own post."""

    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="question_groups", db_index=False
    )
    key = models.CharField(max_length=120)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "key", "created_at"], name="group_brand_key"),
        ]

    def __str__(self) -> str:
        return self.label or self.key


class CrisisMode(models.Model):
    """Crisis mode on a brand's topic (or its whole desk when ``topic`` is empty): while it is
    on (``ended_at`` empty), only certified volunteers and mentors claim the affected
    questions, replies to them go to review when ``force_review``, and the composer suggests
    ``holding_statement`` first. Switched by ``routing.crisis``; every switch is audited."""

    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="crises", db_index=False
    )
    topic = models.ForeignKey(
        Topic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="crises",
        help_text=_("Empty: every question of the brand"),
    )
    holding_statement = models.ForeignKey(
        "helpdesk.SavedReply",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The saved reply the composer suggests first"),
    )
    force_review = models.BooleanField(default=True)
    reason = models.TextField(blank=True)
    # The spike alert that offered it, if any (monitoring's id; no key across the layers).
    alert_id = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.TextField(blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            # One crisis on at a time per topic, and one for the whole brand.
            models.UniqueConstraint(
                fields=["brand", "topic"],
                condition=models.Q(ended_at__isnull=True, topic__isnull=False),
                name="one_crisis_per_topic",
            ),
            models.UniqueConstraint(
                fields=["brand"],
                condition=models.Q(ended_at__isnull=True, topic__isnull=True),
                name="one_crisis_per_brand",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "ended_at"], name="crisis_brand_open"),
        ]

    def __str__(self) -> str:
        return f"crisis {self.pk} of {self.brand_id}"

    @property
    def is_on(self) -> bool:
        return self.ended_at is None
