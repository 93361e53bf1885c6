"""Routing's writes: classifying and queueing new questions, undoing a dismissal; and the
rule tester's read.

Every state change goes through :mod:`helpdesk.moves` (the table checked, the audit rows, the
announcement after the transaction commits).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from helpdesk.audit import record_transitions
from helpdesk.events import announce, brand_queue_group, monitoring_group
from helpdesk.models import Customer, Question, Role, Volunteer, XAccount
from helpdesk.moves import move_question, settle_routed
from helpdesk.states import QuestionState, check_question_transition
from routing.classify import Classification, RuleHit, classify, compile_rules
from routing.classify.language import language_tag
from routing.grouping import assign_groups, group_keys
from routing.models import MAX_SLA_MINUTES, RoutingSettings, default_sla_minutes
from routing.placement import place_queued
from routing.unclaimable import alert_unclaimable

_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")
# An earlier question of the customer that nobody has answered yet.
UNANSWERED_STATES = (
    QuestionState.QUEUED,
    QuestionState.CLAIMED,
    QuestionState.DRAFTING,
    QuestionState.IN_REVIEW,
    QuestionState.FAILED,
)
_ROUTED_FIELDS = (
    "state",
    "state_changed_at",
    "lang",
    "topic",
    "priority",
    "dismissed_reason",
    "sla_due_at",
    "sla_priority",
    "group_text_key",
    "group_outage_key",
    "is_negative",
)


def sla_minutes_for(brand_id: int) -> dict[str, int]:
    """The brand's first-response deadline in minutes per priority (defaults without
    settings, or for a priority its settings leave out)."""
    minutes = default_sla_minutes()
    configured = (
        RoutingSettings.objects.filter(brand_id=brand_id).values_list("sla_minutes", flat=True)
    ).first()
    if isinstance(configured, dict):
        # A value the admin form refuses (kept from before it did) leaves the default.
        minutes.update(
            {
                str(k): v
                for k, v in configured.items()
                if isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_SLA_MINUTES
            }
        )
    return minutes


def sla_due(received_at: datetime, priority: int, minutes: dict[str, int]) -> datetime:
    return received_at + timedelta(minutes=minutes[str(priority)])


def mentioned_care_handles(text: str, care_handles: frozenset[str]) -> frozenset[str]:
    """The brand's care handles (lower case) that ``text`` mentions."""
    return frozenset(h.lower() for h in _MENTION.findall(text)) & care_handles


def _shares_a_run(a: str, b: str, length: int) -> bool:
    return any(a[i : i + length] in b for i in range(len(a) - length + 1))


def names_the_brand(text: str, care_handles: frozenset[str]) -> bool:
    """Whether ``text`` mentions one of the brand's handles, its care handles or the brand's
    other accounts (``@TMobile`` for ``TMobileHelp``, ``@Dropbox`` for ``DropboxSupport``):
    a customer writing in another customer's thread to the brand is asking the brand."""
    for handle in (h.lower() for h in _MENTION.findall(text)):
        for care in care_handles:
            if handle == care or (len(handle) >= 4 and handle in care):
                return True
            if (len(care) >= 4 and care in handle) or _shares_a_run(handle, care, 6):
                return True
    return False


# The rules that made each dismissed question noise, by ``id(question)`` (the questions may
# not be saved yet), for the audit rows written once they are.
NoiseHits = dict[int, tuple[str, ...]]


def classify_new_questions(questions: Sequence[Question]) -> NoiseHits:
    """Classify questions still in state ``new``, in memory: language, topic, priority, and
    either ``dismissed`` with its reason or ``queued`` with its deadline. Nothing is written,
    so ingestion can insert each row once with its final values. Pass the result to
    :func:`place_new_questions`."""
    by_brand: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        if question.state == QuestionState.NEW:
            by_brand[question.brand_id].append(question)
    hits: NoiseHits = {}
    for brand_id, brand_questions in by_brand.items():
        hits.update(_classify_for_brand(brand_id, brand_questions))
    return hits


def place_new_questions(
    questions: Sequence[Question], *, actor_label: str, noise_hits: NoiseHits | None = None
) -> None:
    """Route freshly ingested questions: classify those still ``new`` (and save what that
    decided), record the dismissals and the queueing, group and place the queued ones, and
    announce them.

    Runs inside the caller's transaction; the announcement goes out after it commits."""
    if not questions:
        return
    hits = dict(noise_hits or {})
    pending = [q for q in questions if q.state == QuestionState.NEW]
    if pending:
        hits.update(classify_new_questions(pending))
        _save_routed(pending)
    by_brand: dict[int, list[Question]] = defaultdict(list)
    for question in questions:
        by_brand[question.brand_id].append(question)
    for brand_id, brand_questions in by_brand.items():
        _place_for_brand(brand_id, brand_questions, actor_label, hits)


def _classify_for_brand(brand_id: int, questions: list[Question]) -> NoiseHits:
    check_question_transition(QuestionState.NEW, QuestionState.QUEUED)
    check_question_transition(QuestionState.NEW, QuestionState.DISMISSED)
    now = timezone.now()
    compiled = compile_rules(brand_id)
    minutes = sla_minutes_for(brand_id)
    accounts = list(
        XAccount.objects.filter(brand_id=brand_id).values_list(
            "username", "x_user_id", "pk", "language"
        )
    )
    care_handles = frozenset(username.lower() for username, *_ in accounts)
    own_user_ids = {x_user_id for _, x_user_id, *_ in accounts}
    account_language = {pk: language for *_, pk, language in accounts if language}
    # A tweet that reached no particular account (listening) takes the brand's language when
    # all its care accounts speak the same one.
    languages = {language for *_, language in accounts}
    brand_language = languages.pop() if len(languages) == 1 else ""
    conversation_language = _conversation_languages(questions)
    customer_ids = {q.customer_id for q in questions if q.customer_id is not None}
    customers: dict[int, tuple[str, int | None]] = {
        q.customer.pk: (q.customer.x_user_id, q.customer.followers_count)
        for q in questions
        if Question.customer.is_cached(q) and q.customer is not None
    }
    if customer_ids - customers.keys():  # ingestion hands them over; other callers may not
        customers.update(
            {
                pk: (x_user_id, followers)
                for pk, x_user_id, followers in Customer.objects.filter(
                    pk__in=customer_ids - customers.keys()
                ).values_list("pk", "x_user_id", "followers_count")
            }
        )
    waiting_since = _unanswered_since(brand_id, customer_ids, questions)
    in_thread = _first_in_thread(questions)
    hits: NoiseHits = {}
    # Oldest first (X's ids grow with time), so a question sees exactly the earlier ones
    # whether they came in this batch or were stored by an earlier one.
    for question in sorted(questions, key=lambda q: _tweet_number(q.tweet_id)):
        customer_x_id, followers = customers.get(question.customer_id or 0, ("", None))
        reply_to = question.in_reply_to_user_id
        waited = (
            (question.received_at - question.tweeted_at).total_seconds() / 60
            if question.tweeted_at is not None
            else 0.0
        )
        since = waiting_since.get(question.customer_id or 0)
        thread = (question.conversation_id or 0, question.customer_id or 0)
        first_here = in_thread.get(thread)
        own_thread = first_here is not None and first_here < _tweet_number(question.tweet_id)
        result = classify(
            question.text,
            lang_hint=question.lang,
            mentioned_handles=mentioned_care_handles(question.text, care_handles),
            customer_reach=followers,
            # A reply to one of the brand's accounts answers the brand: it was not ignored.
            returning_unanswered=since is not None
            and since < _tweet_number(question.tweet_id)
            and reply_to not in own_user_ids,
            # Not in a thread where this customer already asked: answering someone who joined
            # it is still their own question ("@someone All discs pretty much. It'll read
            # them after 5 or 6 tries").
            replies_to_other=bool(reply_to)
            and reply_to not in own_user_ids
            and reply_to != customer_x_id
            and not own_thread
            and not names_the_brand(question.text, care_handles),
            waited_minutes=waited,
            fallback_language=conversation_language.get(question.conversation_id or 0)
            or account_language.get(question.account_id or 0, brand_language),
            compiled=compiled,
        )
        _apply(question, result)
        if question.conversation_id is not None and question.customer_id is not None:
            number = _tweet_number(question.tweet_id)
            in_thread[thread] = min(in_thread.get(thread, number), number)
        if question.conversation_id is not None and question.lang:
            conversation_language.setdefault(question.conversation_id, question.lang)
        question.state_changed_at = now
        if result.is_noise:
            question.state = QuestionState.DISMISSED
            question.dismissed_reason = result.noise_reason[:200]
            hits[id(question)] = tuple(result.hits)
        else:
            question.state = QuestionState.QUEUED
            question.sla_due_at = sla_due(question.received_at, question.priority, minutes)
            question.sla_priority = question.priority
            if question.customer_id is not None and since is None:
                waiting_since[question.customer_id] = _tweet_number(question.tweet_id)
    return hits


def _conversation_languages(batch: list[Question]) -> dict[int, str]:
    """The language of each conversation's oldest stored question that has one; the batch's
    own are added in tweet order as they are classified."""
    conversation_ids = {q.conversation_id for q in batch if q.conversation_id is not None}
    languages: dict[int, str] = {}
    rows = (
        Question.objects.filter(conversation_id__in=conversation_ids)
        .exclude(lang="")
        .exclude(pk__in=[q.pk for q in batch if q.pk is not None])
        .values_list("conversation_id", "tweet_id", "lang")
    )
    for conversation_id, _, lang in sorted(rows, key=lambda row: _tweet_number(row[1])):
        languages.setdefault(conversation_id, lang)
    return languages


def _first_in_thread(batch: list[Question]) -> dict[tuple[int, int], int]:
    """Per (conversation, customer), the tweet id (as a number) of the customer's oldest
    stored question in that conversation; the batch's own are added as they are classified,
    so chunking cannot change the answer."""
    conversation_ids = {q.conversation_id for q in batch if q.conversation_id is not None}
    first: dict[tuple[int, int], int] = {}
    rows = (
        Question.objects.filter(conversation_id__in=conversation_ids, customer_id__isnull=False)
        .exclude(pk__in=[q.pk for q in batch if q.pk is not None])
        .values_list("conversation_id", "customer_id", "tweet_id")
    )
    for conversation_id, customer_id, tweet_id in rows:
        number = _tweet_number(tweet_id)
        key = (conversation_id, customer_id)
        first[key] = min(first.get(key, number), number)
    return first


def _tweet_number(tweet_id: str) -> int:
    return int(tweet_id) if tweet_id.isascii() and tweet_id.isdigit() else 0


def _unanswered_since(
    brand_id: int, customer_ids: set[int], batch: list[Question]
) -> dict[int, int]:
    """Per customer, the tweet id (as a number) of their oldest question of the brand that is
    stored and still unanswered, from the stored history only: the batch's own questions are
    added one by one as they are classified, so chunking cannot change the answer."""
    oldest: dict[int, int] = {}
    rows = (
        Question.objects.filter(
            brand_id=brand_id, customer_id__in=customer_ids, state__in=UNANSWERED_STATES
        )
        .exclude(pk__in=[q.pk for q in batch if q.pk is not None])
        .values_list("customer_id", "tweet_id")
    )
    for customer_id, tweet_id in rows:
        number = _tweet_number(tweet_id)
        if customer_id not in oldest or number < oldest[customer_id]:
            oldest[customer_id] = number
    return oldest


def _place_for_brand(
    brand_id: int, questions: list[Question], actor_label: str, noise_hits: NoiseHits
) -> None:
    queued: list[Question] = []
    dismissed: dict[tuple[str, tuple[str, ...]], list[Question]] = defaultdict(list)
    for question in questions:
        if question.state == QuestionState.DISMISSED:
            hits = noise_hits.get(id(question), ())
            dismissed[(question.dismissed_reason, hits)].append(question)
        elif question.state == QuestionState.QUEUED:
            queued.append(question)
    for (reason, hits), noise in dismissed.items():
        record_transitions(
            "question.dismissed",
            noise,
            from_state=QuestionState.NEW,
            to_state=QuestionState.DISMISSED,
            actor_label=actor_label,
            data={"reason": reason, "hits": list(hits)},
        )
    record_transitions(
        "question.queued",
        queued,
        from_state=QuestionState.NEW,
        to_state=QuestionState.QUEUED,
        actor_label=actor_label,
    )
    if not queued:
        return
    assign_groups(queued)
    place_queued(queued)
    alert_unclaimable(brand_id, queued, actor_label=actor_label)
    announce(
        [brand_queue_group(brand_id), monitoring_group(brand_id)],
        "questions.queued",
        {"brand_id": brand_id, "question_ids": [q.pk for q in queued]},
    )


def _apply(question: Question, result: Classification) -> None:
    if result.language:
        question.lang = result.language
    elif not language_tag(question.lang):
        question.lang = ""  # not a language tag: open to every language, as "und" is
    question.topic_id = result.topic_id
    question.priority = result.priority
    question.is_negative = result.negative
    question.group_text_key, question.group_outage_key = group_keys(
        question.text, result.topic_id, question.account_id
    )


def _save_routed(questions: list[Question]) -> None:
    settle_routed(questions, QuestionState.NEW, _ROUTED_FIELDS)


def may_undo_dismissal(user: User, brand_id: int) -> bool:
    """Supervisors and admins of the brand, and superusers."""
    if user.is_superuser:
        return True
    return Volunteer.objects.filter(
        user_id=user.pk, brand_id=brand_id, role__in=(Role.SUPERVISOR, Role.ADMIN)
    ).exists()


def undo_dismissal(question: Question, *, by_user: User) -> Question:
    """Put a dismissed question back in the queue (noise that was a real question), with a
    fresh deadline from now; the old reason goes into the audit row."""
    if not may_undo_dismissal(by_user, question.brand_id):
        raise PermissionDenied("Only a supervisor may undo a dismissal.")
    with transaction.atomic(durable=True):
        locked = Question.objects.select_for_update().get(pk=question.pk)
        if locked.state != QuestionState.DISMISSED:
            check_question_transition(locked.state, QuestionState.QUEUED)  # the table says why
            raise PermissionDenied("Only a dismissed question can be restored.")
        now = timezone.now()
        move_question(
            locked,
            QuestionState.QUEUED,
            kind="question.restored",
            actor=by_user,
            data={"reason": locked.dismissed_reason},
            fields={
                "dismissed_reason": "",
                "sla_due_at": sla_due(now, locked.priority, sla_minutes_for(locked.brand_id)),
                "sla_priority": locked.priority,
            },
            now=now,
            announce=False,  # the queue hears "questions.queued" below, as for new ones
        )
        place_queued([locked])
        announce(
            [brand_queue_group(locked.brand_id), monitoring_group(locked.brand_id)],
            "questions.queued",
            {"brand_id": locked.brand_id, "question_ids": [locked.pk]},
        )
    return locked


def classify_text(brand_id: int, text: str, *, lang_hint: str = "") -> Classification:
    """How a tweet with ``text`` would be classified for the brand now (the rule tester)."""
    handles = frozenset(
        u.lower()
        for u in XAccount.objects.filter(brand_id=brand_id).values_list("username", flat=True)
    )
    return classify(
        text,
        lang_hint=lang_hint,
        mentioned_handles=mentioned_care_handles(text, handles),
        compiled=compile_rules(brand_id),
    )


def rule_test(brand_id: int, text: str) -> list[RuleHit]:
    """The brand's active rules that ``text`` hits, in position order, each as
    (rule name, kind, effect, matched span, matched text)."""
    return classify_text(brand_id, text).rule_hits
