"""Polling X for an account's mentions and listening queries.

Scheduling lives in the database (``XAccount.next_poll_at``): a dispatcher claims due
accounts with a conditional update, so two dispatchers never poll one account at once. A 429
moves the next poll to X's reset time; 5xx, timeouts and connection errors back off
exponentially; nothing ever sleeps in a loop waiting for X.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.models import ListeningQuery, Source, XAccount
from helpdesk.x import gateway
from helpdesk.x.ingest import IngestResult, ingest_batch
from helpdesk.x.normalize import parse_v2_response

log = logging.getLogger(__name__)

# How long a dispatcher's claim on an account lasts before another may poll it again.
POLL_LEASE = timedelta(minutes=5)


@dataclass
class PollOutcome:
    account_id: int
    result: IngestResult
    pages: int
    error: str = ""
    next_poll_at: datetime | None = None


def claim_due_accounts(now: datetime | None = None) -> list[int]:
    """Ids of active accounts whose poll is due, each claimed by one conditional update."""
    now = now or timezone.now()
    claimed = []
    due = XAccount.objects.filter(is_active=True, next_poll_at__lte=now).values_list(
        "pk", "next_poll_at"
    )
    for pk, next_poll_at in due:
        won = XAccount.objects.filter(pk=pk, next_poll_at=next_poll_at).update(
            next_poll_at=now + POLL_LEASE
        )
        if won:
            claimed.append(pk)
    return claimed


def _newer(a: str, b: str) -> str:
    """The larger of two tweet ids ('' is smaller than any)."""
    if not a:
        return b
    if not b:
        return a
    return a if int(a) >= int(b) else b


def poll_account(account_id: int) -> PollOutcome:
    """Fetch the account's new mentions (and its listening queries), page by page.

    Each page is ingested in its own transaction together with the cursor's progress, so a
    crash after any page resumes exactly where the committed rows end.
    """
    account = XAccount.objects.select_related("brand").get(pk=account_id)
    outcome = PollOutcome(account_id=account_id, result=IngestResult(), pages=0)
    client = gateway.client_for(account)
    rate_reset: datetime | None = None
    try:
        rate_reset = _poll_mentions(account, client, outcome)
        for query in account.queries.filter(is_active=True):
            reset = _poll_query(account, query, client, outcome)
            rate_reset = max(filter(None, [rate_reset, reset]), default=None)
    except gateway.TooManyRequests as error:
        reset_at = datetime.fromtimestamp(error.reset_time, tz=UTC) if error.reset_time else None
        _record_failure(account, outcome, error, retry_at=reset_at)
        return outcome
    except (gateway.HTTPException, gateway.TransportError) as error:
        _record_failure(account, outcome, error, retry_at=None)
        return outcome
    now = timezone.now()
    next_poll = now + timedelta(seconds=account.poll_interval_seconds)
    if rate_reset is not None and rate_reset > next_poll:
        next_poll = rate_reset
    XAccount.objects.filter(pk=account.pk).update(
        next_poll_at=next_poll,
        last_polled_at=now,
        consecutive_failures=0,
        last_error="",
    )
    outcome.next_poll_at = next_poll
    return outcome


def _poll_mentions(account: XAccount, client: Any, outcome: PollOutcome) -> datetime | None:
    """Ingest pages until X has no more or the per-poll page budget is spent.

    Returns when X's rate limit for the endpoint resets, if it is spent.
    """
    for _ in range(settings.X_MAX_PAGES_PER_POLL):
        account.refresh_from_db(
            fields=["mentions_since_id", "mentions_pending_token", "mentions_pending_newest_id"]
        )
        page = gateway.fetch_mentions(
            client,
            account.x_user_id,
            since_id=account.mentions_since_id or None,
            pagination_token=account.mentions_pending_token or None,
        )
        outcome.pages += 1
        newest = account.mentions_pending_newest_id or page.newest_id or ""
        next_token = page.next_token

        def advance(newest: str = newest, next_token: str | None = next_token) -> None:
            locked = XAccount.objects.select_for_update().get(pk=account.pk)
            if next_token:
                locked.mentions_pending_token = next_token
                locked.mentions_pending_newest_id = newest
            else:
                locked.mentions_since_id = _newer(locked.mentions_since_id, newest)
                locked.mentions_pending_token = ""
                locked.mentions_pending_newest_id = ""
            locked.save(
                update_fields=[
                    "mentions_since_id",
                    "mentions_pending_token",
                    "mentions_pending_newest_id",
                ]
            )

        batch = parse_v2_response(page.payload)
        outcome.result.add(
            ingest_batch(
                account.brand,
                batch,
                source=Source.MENTIONS,
                account=account,
                actor_label=f"system:poll:@{account.username}",
                in_same_transaction=advance,
            )
        )
        if page.rate_limit.remaining == 0:
            return page.rate_limit.reset_at
        if not next_token:
            return None
    return None


def _poll_query(
    account: XAccount, query: ListeningQuery, client: Any, outcome: PollOutcome
) -> datetime | None:
    for _ in range(settings.X_MAX_PAGES_PER_POLL):
        query.refresh_from_db(fields=["since_id", "pending_token", "pending_newest_id"])
        page = gateway.search_recent(
            client,
            query.query,
            since_id=query.since_id or None,
            next_token=query.pending_token or None,
        )
        outcome.pages += 1
        newest = query.pending_newest_id or page.newest_id or ""
        next_token = page.next_token

        def advance(newest: str = newest, next_token: str | None = next_token) -> None:
            locked = ListeningQuery.objects.select_for_update().get(pk=query.pk)
            if next_token:
                locked.pending_token = next_token
                locked.pending_newest_id = newest
            else:
                locked.since_id = _newer(locked.since_id, newest)
                locked.pending_token = ""
                locked.pending_newest_id = ""
            locked.save(update_fields=["since_id", "pending_token", "pending_newest_id"])

        outcome.result.add(
            ingest_batch(
                account.brand,
                parse_v2_response(page.payload),
                source=Source.SEARCH,
                account=None,
                actor_label=f"system:search:{query.pk}",
                in_same_transaction=advance,
            )
        )
        if page.rate_limit.remaining == 0:
            return page.rate_limit.reset_at
        if not next_token:
            return None
    return None


def _record_failure(
    account: XAccount, outcome: PollOutcome, error: Exception, *, retry_at: datetime | None
) -> None:
    now = timezone.now()
    failures = account.consecutive_failures + 1
    if retry_at is None or retry_at <= now:
        backoff = min(
            account.poll_interval_seconds * 2 ** min(failures, 16),
            settings.X_BACKOFF_MAX_SECONDS,
        )
        retry_at = now + timedelta(seconds=backoff)
    detail = gateway.api_error_detail(error)
    log.warning("polling @%s failed (%s); next poll at %s", account.username, detail, retry_at)
    with transaction.atomic():
        XAccount.objects.filter(pk=account.pk).update(
            next_poll_at=retry_at,
            last_polled_at=now,
            consecutive_failures=F("consecutive_failures") + 1,
            last_error=detail,
            last_error_at=now,
        )
    outcome.error = detail
    outcome.next_poll_at = retry_at
