"""Storing normalised tweets as customers, conversations and questions.

One batch is one transaction: rows, audit events and (through ``in_same_transaction``) the
ingestion cursor commit together or not at all, so a crash at any point loses nothing and a
replay doubles nothing (DESIGN invariant 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from helpdesk.audit import record_transitions
from helpdesk.models import Brand, Conversation, Customer, Question, XAccount
from helpdesk.states import QuestionState
from helpdesk.x.normalize import Batch, Rejected, XTweet, XUser
from routing.actions import classify_new_questions, place_new_questions

_MENTION = re.compile(r"@([A-Za-z0-9_]{1,15})")


@dataclass
class IngestResult:
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    question_ids: list[int] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.new += other.new
        self.duplicate += other.duplicate
        self.skipped += other.skipped
        self.rejected.extend(other.rejected)
        self.question_ids.extend(other.question_ids)

    def summary(self) -> str:
        return (
            f"ingested: {self.new} new, {self.duplicate} duplicate, "
            f"{self.skipped} skipped, {len(self.rejected)} rejected"
        )


def ingest_batch(
    brand: Brand,
    batch: Batch,
    *,
    source: str,
    account: XAccount | None = None,
    actor_label: str = "system:ingest",
    in_same_transaction: Callable[[], None] | None = None,
) -> IngestResult:
    """Store the batch's tweets for ``brand``; return what became of them.

    ``in_same_transaction`` runs after the rows are written and before the commit: the
    pollers move their cursor there, so the cursor never gets ahead of the rows.
    """
    try:
        return _ingest_once(brand, batch, source, account, actor_label, in_same_transaction)
    except IntegrityError:
        # Another writer stored some of these between our read and our insert (possible on
        # SQLite, where the brand lock is a no-op). Everything rolled back; this retry sees
        # their rows and counts them as duplicates.
        return _ingest_once(brand, batch, source, account, actor_label, in_same_transaction)


def serialise_ingestion(brand_id: int) -> None:
    """Hold the brand's row until the transaction ends, so that ingestion for one brand is
    serialised and its read-then-insert is race-free. ``FOR NO KEY UPDATE``, not ``FOR
    UPDATE``: every row that refers to the brand (each claim's audit row) checks its foreign
    key with ``FOR KEY SHARE`` when it commits, which ``FOR UPDATE`` blocks, so every claim
    of the brand waited for the whole of an ingestion (bench/load.py: claims waiting on
    the brand's row were most of the claim p95). Only the first statement of a transaction."""
    Brand.objects.select_for_update(no_key=True).filter(pk=brand_id).values_list("pk").first()


def _ingest_once(
    brand: Brand,
    batch: Batch,
    source: str,
    account: XAccount | None,
    actor_label: str,
    in_same_transaction: Callable[[], None] | None,
) -> IngestResult:
    result = IngestResult(rejected=list(batch.rejected))
    with transaction.atomic(durable=True):
        serialise_ingestion(brand.pk)
        accounts = list(XAccount.objects.filter(brand=brand))
        own_user_ids = {a.x_user_id for a in accounts}

        fresh: dict[str, XTweet] = {}
        for tweet in batch.tweets:
            if tweet.is_retweet or (tweet.author_id and tweet.author_id in own_user_ids):
                result.skipped += 1
            elif tweet.id in fresh:
                result.duplicate += 1
            else:
                fresh[tweet.id] = tweet
        existing = set(
            Question.objects.filter(brand=brand, tweet_id__in=list(fresh)).values_list(
                "tweet_id", flat=True
            )
        )
        result.duplicate += len(existing)
        tweets = sorted(
            (t for t in fresh.values() if t.id not in existing), key=lambda t: int(t.id)
        )
        if tweets:
            customers = _upsert_customers(tweets, batch.users)
            conversations = _conversations_for(brand, tweets, customers)
            now = timezone.now()
            questions = [
                Question(
                    brand=brand,
                    account=account or _mentioned_account(tweet, accounts),
                    conversation=conversations[tweet.id],
                    customer=customers.get(tweet.author_id or ""),
                    tweet_id=tweet.id,
                    text=tweet.text,
                    lang=tweet.lang,
                    tweeted_at=tweet.created_at,
                    received_at=now,
                    in_reply_to_tweet_id=tweet.in_reply_to_tweet_id or "",
                    in_reply_to_user_id=tweet.in_reply_to_user_id or "",
                    source=source,
                    raw=tweet.raw,
                    state=QuestionState.NEW,
                    state_changed_at=now,
                )
                for tweet in tweets
            ]
            # Routing decides in memory first, so each row is inserted once, final.
            noise_hits = classify_new_questions(questions)
            Question.objects.bulk_create(questions)
            record_transitions(
                "question.received",
                questions,
                from_state="",
                to_state=QuestionState.NEW,
                actor_label=actor_label,
                data={"source": source},
            )
            place_new_questions(questions, actor_label=actor_label, noise_hits=noise_hits)
            result.new = len(questions)
            result.question_ids = [q.pk for q in questions]
        if in_same_transaction is not None:
            in_same_transaction()
    return result


def _upsert_customers(tweets: list[XTweet], users: dict[str, XUser]) -> dict[str, Customer]:
    author_ids = {t.author_id for t in tweets if t.author_id}
    if not author_ids:
        return {}
    customers = {c.x_user_id: c for c in Customer.objects.filter(x_user_id__in=author_ids)}
    missing = author_ids - customers.keys()
    if missing:
        # Customers are shared by brands, whose ingestion is not serialised together.
        Customer.objects.bulk_create(
            [_customer_from(users.get(uid) or XUser(id=uid)) for uid in missing],
            ignore_conflicts=True,
        )
        customers.update({c.x_user_id: c for c in Customer.objects.filter(x_user_id__in=missing)})
    fields = ("username", "name", "description", "followers_count")
    changed = []
    for uid, customer in customers.items():
        user = users.get(uid)
        if user is None or uid in missing:
            continue
        update = _customer_from(user)
        if any(getattr(update, f) != getattr(customer, f) for f in fields):
            for f in fields:
                setattr(customer, f, getattr(update, f))
            changed.append(customer)
    if changed:
        Customer.objects.bulk_update(changed, list(fields))
    return customers


def _customer_from(user: XUser) -> Customer:
    return Customer(
        x_user_id=user.id,
        username=user.username,
        name=user.name,
        description=user.description,
        followers_count=user.followers_count,
    )


def _conversations_for(
    brand: Brand, tweets: list[XTweet], customers: dict[str, Customer]
) -> dict[str, Conversation]:
    """Map each tweet id to its conversation, creating the ones not seen before.

    X's ``conversation_id`` wins; without it (v1.1, bare v2) a reply joins its parent's
    conversation when the parent is known, and otherwise starts one keyed by the parent.
    """
    parent_ids = {t.in_reply_to_tweet_id for t in tweets if t.in_reply_to_tweet_id}
    parent_conversation = dict(
        Question.objects.filter(brand=brand, tweet_id__in=parent_ids).values_list(
            "tweet_id", "conversation__x_conversation_id"
        )
    )
    keys: dict[str, str] = {}
    for tweet in tweets:  # oldest first, so a parent in the same batch is already keyed
        if tweet.conversation_id:
            key = tweet.conversation_id
        elif tweet.in_reply_to_tweet_id:
            parent = tweet.in_reply_to_tweet_id
            key = parent_conversation.get(parent) or keys.get(parent) or parent
        else:
            key = tweet.id
        keys[tweet.id] = key
    known = {
        c.x_conversation_id: c
        for c in Conversation.objects.filter(brand=brand, x_conversation_id__in=set(keys.values()))
    }
    first_tweet: dict[str, XTweet] = {}
    for tweet in tweets:
        first_tweet.setdefault(keys[tweet.id], tweet)
    missing = [
        Conversation(
            brand=brand,
            x_conversation_id=key,
            customer=customers.get(tweet.author_id or ""),
            started_at=tweet.created_at or timezone.now(),
        )
        for key, tweet in first_tweet.items()
        if key not in known
    ]
    if missing:
        Conversation.objects.bulk_create(missing)
        known.update({c.x_conversation_id: c for c in missing})
        if any(c.pk is None for c in missing):  # backends that do not return ids
            known.update(
                {
                    c.x_conversation_id: c
                    for c in Conversation.objects.filter(
                        brand=brand, x_conversation_id__in=[m.x_conversation_id for m in missing]
                    )
                }
            )
    return {tweet.id: known[keys[tweet.id]] for tweet in tweets}


def _mentioned_account(tweet: XTweet, accounts: list[XAccount]) -> XAccount | None:
    """The care account the customer addressed: replies must go out from that one."""
    by_name = {a.username.lower(): a for a in accounts}
    for handle in _MENTION.findall(tweet.text):
        found = by_name.get(handle.lower())
        if found is not None:
            return found
    return None
