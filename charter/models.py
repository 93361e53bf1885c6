"""The charter's records: versions and acceptances, training, standing (levels, suspension,
certification), review policy, linter settings and linked X accounts.

``charter`` calls nothing of ours but the user model; its rows point at a brand only by
foreign key ("helpdesk.Brand"), never by importing the desk.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL
BRAND = "helpdesk.Brand"


class CharterVersion(models.Model):
    """One published version of a brand's usage charter (Markdown, rendered sanitised)."""

    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="charter_versions", db_index=False
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Markdown"))
    summary_of_changes = models.TextField(blank=True)
    is_material = models.BooleanField(
        default=True,
        help_text=_("A material change must be accepted again before the next claim."),
    )
    effective_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "number"], name="charter_brand_number"),
        ]
        ordering: ClassVar[list[str]] = ["brand", "-number"]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class CharterAcceptance(models.Model):
    """Who accepted which version, when, from which address and browser."""

    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, related_name="charter_acceptances", db_index=False
    )
    version = models.ForeignKey(
        CharterVersion, on_delete=models.PROTECT, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "version"], name="acceptance_user_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.version_id}"


class Level(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    TRAINEE = "trainee", _("Trainee")
    CERTIFIED = "certified", _("Certified")
    MENTOR = "mentor", _("Mentor")


class Standing(models.Model):
    """A person's standing in one brand's programme: what the gate reads."""

    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, related_name="standings", db_index=False
    )
    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="standings")
    level = models.CharField(max_length=16, choices=Level.choices, default=Level.ENROLLED)
    is_suspended = models.BooleanField(default=False)
    suspended_reason = models.TextField(blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trained_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the required modules were last all passed")
    )
    training_expires_at = models.DateTimeField(null=True, blank=True)
    certified_at = models.DateTimeField(null=True, blank=True)
    # Counts of the trainee's reviewed replies since they became a trainee.
    trainee_approved = models.PositiveIntegerField(default=0)
    trainee_rejected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "brand"], name="standing_user_brand"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.brand_id}: {self.level}"


class ReviewPolicy(models.Model):
    """A brand's numbers for review quotas, sampling and certification."""

    brand = models.OneToOneField(BRAND, on_delete=models.CASCADE, related_name="review_policy")
    trainee_quota = models.PositiveIntegerField(
        default=10, help_text=_("A trainee's first N replies all need approval")
    )
    trainee_max_rejections = models.PositiveIntegerField(
        default=2, help_text=_("Promoted after N approved with at most this many rejected")
    )
    certified_sample_rate = models.FloatField(
        default=0.1, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    mentor_sample_rate = models.FloatField(
        default=0.02, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    sample_seed = models.CharField(max_length=64, default="helpforce")
    certification_valid_days = models.PositiveIntegerField(default=365)

    def __str__(self) -> str:
        return f"review policy of {self.brand_id}"


class TrainingModule(models.Model):
    brand = models.ForeignKey(
        BRAND, on_delete=models.CASCADE, related_name="training_modules", db_index=False
    )
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)
    content = models.TextField(help_text=_("Markdown"))
    video_url = models.URLField(blank=True)
    position = models.PositiveIntegerField(default=0)
    is_required = models.BooleanField(default=True)
    language = models.CharField(max_length=8, blank=True)
    pass_mark_percent = models.PositiveIntegerField(
        default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    questions_per_attempt = models.PositiveIntegerField(default=5)
    retake_cooldown_minutes = models.PositiveIntegerField(default=60)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "slug"], name="module_brand_slug"),
        ]
        ordering: ClassVar[list[str]] = ["brand", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class QuizQuestion(models.Model):
    """One question of a module's bank; attempts draw from the bank."""

    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="questions")
    prompt = models.TextField()
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    choices = models.JSONField(help_text=_("List of answer texts"))
    correct = models.JSONField(help_text=_("List of indexes into choices"))
    explanation = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.prompt[:60]


class QuizAttempt(models.Model):
    user = models.ForeignKey(
        USER, on_delete=models.CASCADE, related_name="quiz_attempts", db_index=False
    )
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="attempts")
    question_ids = models.JSONField(default=list)
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    score_percent = models.PositiveIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["user", "module", "started_at"], name="attempt_user_module"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk} of {self.module_id}"


class PracticeGrade(models.TextChoices):
    PENDING = "pending", _("Waiting for a supervisor")
    PASS = "pass", _("Good answer")
    FAIL = "fail", _("Needs work")


class PracticeAnswer(models.Model):
    """A trainee's answer to a real past question; graded by a supervisor, never posted."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="practice_answers")
    brand = models.ForeignKey(BRAND, on_delete=models.CASCADE, related_name="+")
    question_text = models.TextField()
    reference_answer = models.TextField(blank=True, help_text=_("What the brand really said"))
    answer_text = models.TextField()
    submitted_at = models.DateTimeField(default=timezone.now)
    grade = models.CharField(
        max_length=8, choices=PracticeGrade.choices, default=PracticeGrade.PENDING
    )
    feedback = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"practice {self.pk} by {self.user_id}"


class TermVerdict(models.TextChoices):
    """What a brand's term list does to a draft that uses one of its words."""

    BLOCK = "block", pgettext_lazy("linter verdict", "Block: the reply cannot be sent")
    REVIEW = "review", pgettext_lazy("linter verdict", "Review: a supervisor approves it first")
    ADVICE = "advice", pgettext_lazy("linter verdict", "Advice: shown to the volunteer")
    OFF = "off", pgettext_lazy("linter verdict", "Off")


class LinterSettings(models.Model):
    """A brand's configuration of the draft linter's rules."""

    brand = models.OneToOneField(BRAND, on_delete=models.CASCADE, related_name="linter_settings")
    allowed_domains = models.JSONField(
        default=list, blank=True, help_text=_("Domains links may point to, e.g. example.com")
    )
    disclosure_hashtag = models.CharField(
        max_length=40, blank=True, help_text=_("e.g. #NorthwindHelp; empty for none")
    )
    require_signature = models.BooleanField(
        default=True, help_text=_("Advise when the volunteer's signature (^AB) is missing")
    )
    order_number_patterns = models.JSONField(
        default=list, blank=True, help_text=_("Regular expressions for order/account numbers")
    )
    extra_review_terms = models.JSONField(
        default=list, blank=True, help_text=_("Words or phrases that send a draft to review")
    )
    blocked_terms = models.JSONField(
        default=list, blank=True, help_text=_("Words or phrases a reply may never contain")
    )
    profanity_verdict = models.CharField(
        max_length=8,
        choices=TermVerdict.choices,
        default=TermVerdict.BLOCK,
        help_text=_("What profanity (the English and French lists shipped with the linter) does"),
    )
    profanity_allowed = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Words of the profanity lists this brand accepts, e.g. a product's name"),
    )
    competitor_names = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Competitors' names, brands or sites, e.g. Amazon, Best Buy"),
    )
    competitor_verdict = models.CharField(
        max_length=8,
        choices=TermVerdict.choices,
        default=TermVerdict.REVIEW,
        help_text=_("What a competitor's name does"),
    )
    disabled_rules = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("linter settings")
        verbose_name_plural = _("linter settings")

    def __str__(self) -> str:
        return f"linter settings of {self.brand_id}"


class LinkedXAccount(models.Model):
    """A volunteer's own X account, linked with OAuth 2.0 (PKCE). Tokens are encrypted."""

    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="linked_x_account")
    x_user_id = models.CharField(max_length=32)
    username = models.CharField(max_length=64)
    access_token_encrypted = models.TextField()
    refresh_token_encrypted = models.TextField(blank=True)
    expires_at = models.DateTimeField()
    scope = models.CharField(max_length=200)
    linked_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"@{self.username}"


class CharterEvent(models.Model):
    """The charter's own append-only log: acceptances, level changes, suspensions, training
    results. Who did it (``actor``, or the system), to whom, when, from what to what."""

    kind = models.CharField(max_length=64, db_index=True, help_text=_("e.g. standing.promoted"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    subject = models.ForeignKey(
        USER, on_delete=models.PROTECT, null=True, blank=True, related_name="charter_events"
    )
    brand = models.ForeignKey(BRAND, on_delete=models.PROTECT, related_name="+")
    from_value = models.CharField(max_length=32, blank=True)
    to_value = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("charter events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("charter events are append-only")
