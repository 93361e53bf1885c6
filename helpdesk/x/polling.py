"""Polling X for an account's mentions and listening queries.

Scheduling lives in the database (``XAccount.next_poll_at``): a dispatcher claims due
accounts with a conditional update, so two dispatchers never poll one account at once. A 429
moves the next poll to X's reset time; 5xx, timeouts and connection errors back off
exponentially; nothing ever sleeps in a loop waiting for X.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from helpdesk.audit import record
from helpdesk.events import announce, monitoring_group
from helpdesk.models import ListeningQuery, Source, XAccount
from helpdesk.monitoring import budget
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
    # The brand's X budget is spent and it asked to pause listening: no search ran.
    listening_paused: bool = False


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
    crash after any page resumes exactly where the committed rows end. Listening queries
    are skipped while the brand's X budget is spent and it asked for the pause; mentions
    never are.
    """
    account = XAccount.objects.select_related("brand").get(pk=account_id)
    outcome = PollOutcome(account_id=account_id, result=IngestResult(), pages=0)
    client = gateway.client_for(account)
    rate_reset: datetime | None = None
    queries = list(account.queries.filter(is_active=True))
    if queries and budget.listening_paused(account.brand):
        outcome.listening_paused = True
        queries = []
    try:
        rate_reset = _poll_mentions(account, client, outcome)
        for query in queries:
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
    with transaction.atomic():
        XAccount.objects.filter(pk=account.pk).update(
            next_poll_at=next_poll,
            last_polled_at=now,
            consecutive_failures=0,
            last_error="",
        )
        if account.consecutive_failures:
            # The audit log says when polling came back, not only when it failed.
            record(
                "account.poll_recovered",
                actor_label=f"system:poll:@{account.username}",
                brand_id=account.brand_id,
                data={
                    "account": account.username,
                    "after_failures": account.consecutive_failures,
                    "last_error": account.last_error,
                    "new": outcome.result.new,
                },
            )
    _announce_polled(account)
    outcome.next_poll_at = next_poll
    return outcome


def _announce_polled(account: XAccount) -> None:
    """The monitoring pages show each account's last poll and error: tell them."""
    announce([monitoring_group(account.brand_id)], "account.polled", {"account_id": account.pk})


@dataclass(frozen=True)
class _Cursor:
    """Where one feed (an account's mentions, or a listening query) has got to.

    ``since`` is the newest id fully ingested; while a multi-page fetch is under way,
    ``token`` and ``newest`` hold the next page and the newest id seen on its first page.
    """

    model: type[XAccount] | type[ListeningQuery]
    pk: int
    since: str
    token: str
    newest: str

    def read(self) -> tuple[str, str, str]:
        row = self.model.objects.filter(pk=self.pk).values_list(self.since, self.token, self.newest)
        since, token, newest = row.get()
        return str(since), str(token), str(newest)

    def advance(self, newest: str, next_token: str | None) -> None:
        """Called inside the page's transaction, after its rows are written."""
        locked = self.model.objects.select_for_update().get(pk=self.pk)
        if next_token:
            setattr(locked, self.token, next_token)
            setattr(locked, self.newest, newest)
        else:
            setattr(locked, self.since, _newer(getattr(locked, self.since), newest))
            setattr(locked, self.token, "")
            setattr(locked, self.newest, "")
        locked.save(update_fields=[self.since, self.token, self.newest])


def _drain(
    account: XAccount,
    cursor: _Cursor,
    fetch: Callable[[str | None, str | None], gateway.Page],
    *,
    source: str,
    row_account: XAccount | None,
    actor_label: str,
    outcome: PollOutcome,
) -> datetime | None:
    """Ingest pages of one feed until X has no more or the per-poll page budget is spent.

    Returns when X's rate limit for the endpoint resets, if it is spent.
    """
    for _ in range(settings.X_MAX_PAGES_PER_POLL):
        since, token, pending_newest = cursor.read()
        page = fetch(since or None, token or None)
        outcome.pages += 1
        newest = pending_newest or page.newest_id or ""
        next_token = page.next_token
        result = ingest_batch(
            account.brand,
            parse_v2_response(page.payload),
            source=source,
            account=row_account,
            actor_label=actor_label,
            in_same_transaction=partial(cursor.advance, newest, next_token),
        )
        _log_rejected(account, result)
        outcome.result.add(result)
        if page.rate_limit.remaining == 0:
            return page.rate_limit.reset_at
        if not next_token:
            return None
    return None


def _poll_mentions(account: XAccount, client: Any, outcome: PollOutcome) -> datetime | None:
    cursor = _Cursor(
        XAccount,
        account.pk,
        "mentions_since_id",
        "mentions_pending_token",
        "mentions_pending_newest_id",
    )
    return _drain(
        account,
        cursor,
        lambda since, token: gateway.fetch_mentions(
            client, account.x_user_id, since_id=since, pagination_token=token
        ),
        source=Source.MENTIONS,
        row_account=account,
        actor_label=f"system:poll:@{account.username}",
        outcome=outcome,
    )


def _poll_query(
    account: XAccount, query: ListeningQuery, client: Any, outcome: PollOutcome
) -> datetime | None:
    cursor = _Cursor(ListeningQuery, query.pk, "since_id", "pending_token", "pending_newest_id")
    return _drain(
        account,
        cursor,
        lambda since, token: gateway.search_recent(
            client, query.query, since_id=since, next_token=token
        ),
        source=Source.SEARCH,
        row_account=None,
        actor_label=f"system:search:{query.pk}",
        outcome=outcome,
    )


def _log_rejected(account: XAccount, result: IngestResult) -> None:
    for rejected in result.rejected:
        log.warning(
            "@%s: tweet %s refused: %s",
            account.username,
            rejected.tweet_id or f"#{rejected.position}",
            rejected.reason,
        )


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
        record(
            "account.poll_failed",
            actor_label=f"system:poll:@{account.username}",
            brand_id=account.brand_id,
            data={
                "account": account.username,
                "error": detail,
                "failures": failures,
                "retry_at": retry_at.isoformat(),
                "new_before_failure": outcome.result.new,
            },
        )
    _announce_polled(account)
    outcome.error = detail
    outcome.next_poll_at = retry_at
