"""Customers, their conversations on X, and the questions the desk answers."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, Concat, Lower, Replace, StrIndex, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models.brands import Brand, Store, XAccount
from helpdesk.states import QuestionState


class Customer(models.Model):
    """An X user who wrote to a brand. Names and bios are hostile text, stored verbatim."""

    x_user_id = models.CharField(max_length=32, unique=True)
    username = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    followers_count = models.PositiveIntegerField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else self.x_user_id


class Conversation(models.Model):
    """An X conversation (thread) as seen by one brand."""

    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    x_conversation_id = models.CharField(max_length=32)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["brand", "x_conversation_id"], name="conversation_brand_x_id"
            ),
        ]

    def __str__(self) -> str:
        return self.x_conversation_id


class Source(models.TextChoices):
    MENTIONS = "mentions", _("Mentions")
    SEARCH = "search", _("Listening query")
    WEBHOOK = "webhook", _("Account Activity webhook")
    STREAM = "stream", _("Filtered stream")
    FILE = "file", _("File import")


class Question(models.Model):
    """One inbound public tweet and where it is in the desk's flow."""

    # Foreign keys that an index in Meta (or a unique constraint) leads with get no index of
    # their own, here and in every model of ours: every state change writes each index
    # (tests/test_redundant_indexes.py).
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="questions", db_index=False
    )
    account = models.ForeignKey(
        XAccount, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="questions"
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    tweet_id = models.CharField(max_length=32)
    text = models.TextField()
    lang = models.CharField(max_length=16, blank=True)
    tweeted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    in_reply_to_tweet_id = models.CharField(max_length=32, blank=True)
    in_reply_to_user_id = models.CharField(max_length=32, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    raw = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=16, choices=QuestionState.choices, default=QuestionState.NEW
    )
    state_changed_at = models.DateTimeField(default=timezone.now)
    # Routing: written by ``routing`` only.
    topic = models.ForeignKey(
        "routing.Topic", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    store = models.ForeignKey(
        Store, on_delete=models.SET_NULL, null=True, blank=True, related_name="questions"
    )
    priority = models.PositiveSmallIntegerField(default=2)
    dismissed_reason = models.CharField(max_length=200, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # The priority ``sla_due_at`` was computed for: the SLA sweep raises ``priority`` once
    # the deadline has passed, and compliance is reported against the promise made.
    sla_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    # The first reply X accepted, and when (written once, when that reply is marked sent;
    # a later deletion from X does not undo a response the customer saw).
    first_reply = models.ForeignKey(
        "helpdesk.Reply", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    first_response_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claimed_questions",
        db_index=False,
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offered_questions",
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    group = models.ForeignKey(
        "routing.QuestionGroup",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="questions",
    )
    # What grouping compares (``routing.grouping``): the digest of the text's normalised
    # words, and its outage words with its topic; "" when there is nothing to compare.
    # Written with the routed columns, so a question's fellows are found by an index.
    group_text_key = models.CharField(max_length=24, blank=True, default="", db_default="")
    group_outage_key = models.CharField(max_length=120, blank=True, default="", db_default="")
    # An escalated question stays escalated (the official care team has it); a supervisor
    # closing it takes it off the desk's list of escalations.
    escalation_closed_at = models.DateTimeField(null=True, blank=True)
    escalation_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The customer reads unhappy (routing's sentiment, at classification); monitoring's
    # negative share and spike alerts count it.
    is_negative = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["brand", "tweet_id"], name="question_brand_tweet"),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["brand", "state", "received_at"], name="question_queue"),
            models.Index(
                fields=["brand", "state", "priority", "received_at"], name="question_queue_order"
            ),
            models.Index(fields=["state", "sla_due_at"], name="question_sla"),
            models.Index(fields=["state", "lease_expires_at"], name="question_lease"),
            models.Index(fields=["claimed_by", "state"], name="question_claimed_by"),
            models.Index(
                fields=["brand", "group_text_key", "received_at"],
                name="question_group_text",
                condition=~models.Q(group_text_key=""),
            ),
            models.Index(
                fields=["brand", "group_outage_key", "received_at"],
                name="question_group_outage",
                condition=~models.Q(group_outage_key=""),
            ),
            # Reports read a brand's questions by when they arrived.
            models.Index(fields=["brand", "received_at"], name="question_brand_received"),
            # The open queue keyed by topic (0: none) and primary language subtag (``fr-CA``,
            # ``FR`` -> ``fr``), carrying every column the queue's eligibility reads: counting
            # what a volunteer may take is an index-only scan over the entries of their
            # topics and languages. ``routing.queries`` builds the same two expressions.
            models.Index(
                models.F("brand"),
                Coalesce("topic", models.Value(0), output_field=models.BigIntegerField()),
                Substr(
                    Concat(
                        Replace(Lower("lang"), models.Value("_"), models.Value("-")),
                        models.Value("-"),
                    ),
                    1,
                    StrIndex(
                        Concat(
                            Replace(Lower("lang"), models.Value("_"), models.Value("-")),
                            models.Value("-"),
                        ),
                        models.Value("-"),
                    )
                    - 1,
                ),
                include=["topic", "lang", "store", "offered_to", "offer_expires_at", "id"],
                condition=models.Q(state=QuestionState.QUEUED),
                name="question_open_queue",
            ),
        ]

    def __str__(self) -> str:
        return self.tweet_id
