"""The desk's core records: brands and their X accounts, stores, volunteers, customers,
conversations, questions, and the append-only audit log."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce, Concat, Lower, Replace, StrIndex, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.fields import EncryptedTextField
from helpdesk.states import QuestionState, ReplyState


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

    def __str__(self) -> str:
        return self.name


class XAccount(models.Model):
    """One of a brand's care handles on X, with its credentials and ingestion cursors."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="x_accounts")
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
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="stores")
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
        return self.display_name or self.user.get_username()


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

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="conversations")
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

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="questions")
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
    group_text_key = models.CharField(max_length=24, blank=True, default="")
    group_outage_key = models.CharField(max_length=120, blank=True, default="")

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


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """Who did what, when, and from which state to which. Append-only."""

    kind = models.CharField(max_length=64, db_index=True, help_text=_("e.g. question.claimed"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=64, blank=True, help_text=_("The system process when there is no person")
    )
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, related_name="+")
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["question", "created_at"], name="audit_question_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


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
    account = models.ForeignKey(XAccount, on_delete=models.PROTECT, related_name="replies")
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

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="saved_replies")
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
