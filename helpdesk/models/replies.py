"""Replies to questions (the outbox is the ``queued`` ones) and the saved replies."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models.brands import Brand, Store, XAccount
from helpdesk.models.questions import Question
from helpdesk.states import ReplyState

LIVE_REPLY_STATES = (
    ReplyState.PENDING_REVIEW,
    ReplyState.APPROVED,
    ReplyState.QUEUED,
    ReplyState.SENT,
)


class Reply(models.Model):
    """A volunteer's answer to a question, from submission to X and back (moderation).

    A reply in state ``queued`` is the outbox row: it is written in the transaction that
    approves it, and a Celery task claims it by one conditional update that sets
    ``sending_since`` before calling X. ``queued`` with ``sending_since`` set means "a post
    may be in flight": nobody posts it again until someone has looked on X.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="replies"
    )
    account = models.ForeignKey(
        XAccount, on_delete=models.PROTECT, related_name="replies", db_index=False
    )
    # The author's store when they submitted it: reports credit the store the reply came
    # from, even after the author moves.
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=16, choices=ReplyState.choices, default=ReplyState.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    state_changed_at = models.DateTimeField(default=timezone.now)
    # The gate's answer when the author submitted it (DESIGN invariant 4).
    submitted_at = models.DateTimeField(null=True, blank=True)
    needs_review = models.BooleanField(default=False)
    review_reasons = models.JSONField(default=list, blank=True)
    lint = models.JSONField(default=dict, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_replies",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_feedback = models.TextField(blank=True)
    edited_by_reviewer = models.BooleanField(default=False)
    original_text = models.TextField(blank=True, help_text=_("The author's text, if edited"))
    # Posted from the author's linked X account (where the brand allows it) rather than from
    # ``account``; the X user is recorded at submission, so looking on X after a timeout
    # searches the right timeline even if the link changes meanwhile.
    from_linked_account = models.BooleanField(default=False)
    from_x_user_id = models.CharField(max_length=32, blank=True)
    from_username = models.CharField(max_length=64, blank=True)
    # Sending (the outbox).
    priority = models.PositiveSmallIntegerField(default=2)
    queued_at = models.DateTimeField(null=True, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    # When a send task was last enqueued; another is enqueued only if it never ran.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    # When the last POST attempt began (``sending_since`` moves while we look; this not).
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_send_error = models.TextField(blank=True)
    tweet_id = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deletion_reason = models.TextField(blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["tweet_id"], condition=~models.Q(tweet_id=""), name="reply_tweet_id"
            ),
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(state__in=LIVE_REPLY_STATES),
                name="reply_one_live_per_question",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["state", "scheduled_for"], name="reply_outbox"),
            models.Index(fields=["account", "sent_at"], name="reply_account_sent"),
            models.Index(fields=["state", "sending_since"], name="reply_sending"),
        ]

    def __str__(self) -> str:
        return f"reply {self.pk} ({self.state})"


class SavedReply(models.Model):
    """A brand's ready-made answer (a macro) that volunteers insert into the composer.

    ``body`` may hold variables (``{customer}``, ``{signature}``, ``{store}``,
    ``{first_name}``) that ``helpdesk.saved_replies`` fills in for the question and the
    volunteer; it is checked (variables, the charter's linter) whenever it is saved. No
    topic: for every topic of the brand; no language: for questions in any language.
    """

    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="saved_replies", db_index=False
    )
    topic = models.ForeignKey(
        "routing.Topic",
        # Deleting a topic must not silently widen its saved replies to every topic.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="saved_replies",
        help_text=_("Empty: for every topic"),
    )
    title = models.CharField(max_length=120)
    body = models.TextField()
    language = models.CharField(
        max_length=8, blank=True, help_text=_("e.g. en or fr; empty for any language")
    )
    is_active = models.BooleanField(default=True)
    use_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "is_active", "topic"], name="saved_reply_brand_topic"),
        ]

    def __str__(self) -> str:
        return self.title
