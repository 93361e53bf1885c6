"""Issue 11, fault 1: PostgreSQL drops the desk's connection in the middle of a transaction
(``pg_terminate_backend`` from a second connection), once while a page of mentions is being
stored and once while a reply that X has just posted is being marked sent. Then the work
runs again: no tweet lost or stored twice (DESIGN invariant 1), no reply posted twice and
none left queued or held after the sweep (invariant 3), the cursor where the rows end.

The drop lands inside the transaction because a second connection holds a row lock that
the transaction needs after its first writes, waits until the desk's backend is seen
waiting for it, and terminates that backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from helpdesk import audit
from helpdesk.models import Reply, XAccount
from helpdesk.states import ReplyState
from helpdesk.x import polling, posting
from tests.factories import make_account, make_brand, make_volunteer, sandbox_account_for
from tests.faults.common import drain_outbox, inject_mentions, queue_replies, report, tally

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MENTIONS = 250


class Dropper:
    """A second connection that holds one row lock until the desk's backend waits for it,
    then terminates that backend (the desk sees its connection dropped mid-transaction)."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=int(db["PORT"] or 5432),
            user=db["USER"],
            dbname=db["NAME"],
            autocommit=True,
        )
        self.dropped: list[int] = []
        self.error: BaseException | None = None

    def close(self) -> None:
        self.conn.close()

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _waiting_on(self, table: str) -> int | None:
        self._rows("SELECT pg_stat_clear_snapshot()", [])
        for pid, query in self._rows(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'",
            [],
        ):
            if table in query:
                return int(pid)
        return None

    def drop_when_waiting(self, table: str, row_id: int, *, once: str = "") -> threading.Thread:
        """In a thread: once the row matches ``once`` (a condition on its columns), lock
        it; once a backend waits for it, terminate that backend; then let go of the row."""
        ready = f"SELECT 1 FROM {table} WHERE id = %s AND ({once or 'true'})"  # noqa: S608 - ours

        def run() -> None:
            try:
                _until(lambda: self._rows(ready, [row_id]))
                with self.conn.transaction(), self.conn.cursor() as cursor:
                    # NO KEY UPDATE: inserts referencing the row go on; updates and the
                    # SELECT ... FOR UPDATE of the desk's cursor wait.
                    cursor.execute(
                        f"SELECT id FROM {table} WHERE id = %s FOR NO KEY UPDATE",  # noqa: S608 - our table name
                        [row_id],
                    )
                    pid = _until(lambda: self._waiting_on(table))
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                    self.dropped.append(pid)
            except BaseException as error:  # reported by the test
                self.error = error

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def _until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


@contextmanager
def _dropper() -> Iterator[Dropper]:
    dropper = Dropper()
    try:
        yield dropper
    finally:
        dropper.close()


def _reconnect() -> None:
    """What a worker does between tasks (Celery's Django fixup): drop an unusable
    connection, so the next query opens a new one."""
    connection.close()


def test_connections_dropped_mid_transaction_lose_double_and_strand_nothing(
    sandbox: Any, settings: Any
) -> None:
    # Given a care account with 250 mentions on X, one page per poll, page 1 stored
    settings.X_MAX_PAGES_PER_POLL = 1
    world = sandbox.world
    brand = make_brand()
    account = make_account(brand, post_limit_per_window=100_000)
    world.add_account(sandbox_account_for(account))
    world.set_limit("create_tweet", 100_000)
    world.set_limit("user_tweets", 100_000)
    tweet_ids = inject_mentions(world, account.username, MENTIONS, tag="drop")
    assert polling.poll_account(account.pk).result.new == 100

    # When the poller's connection is dropped after it wrote page 2's rows, before commit
    XAccount.objects.filter(pk=account.pk).update(next_poll_at=timezone.now())
    assert polling.claim_due_accounts() == [account.pk]
    with _dropper() as dropper:
        killer = dropper.drop_when_waiting(XAccount._meta.db_table, account.pk)
        with pytest.raises((OperationalError, InterfaceError)):
            polling.poll_account(account.pk)
        killer.join(timeout=30)
        assert dropper.error is None, dropper.error
        ingest_dropped = len(dropper.dropped)
    _reconnect()
    dropped_at = time.monotonic()

    # Then page 2 is gone whole; the account is polled again once its claim's lease ends
    account.refresh_from_db()
    assert tally(brand, tweet_ids).lost == MENTIONS - 100
    assert (account.mentions_since_id, bool(account.mentions_pending_token)) == ("", True)
    assert polling.claim_due_accounts() == []
    later = timezone.now() + polling.POLL_LEASE + timedelta(seconds=1)
    assert polling.claim_due_accounts(now=later) == [account.pk]

    # When polling resumes
    for _ in range(5):
        outcome = polling.poll_account(account.pk)
        if outcome.result.new == 0:
            break
    ingest_recover_s = time.monotonic() - dropped_at
    account.refresh_from_db()
    after_ingest = tally(brand, tweet_ids)
    assert (after_ingest.lost, after_ingest.doubled) == (0, 0)
    assert account.mentions_since_id == max(tweet_ids, key=int)
    received = audit.events().filter(brand=brand, kind="question.received")
    assert received.count() == MENTIONS

    # When every question gets a reply, and the connection of the sender that X has just
    # answered (posted) is dropped while it marks the reply sent
    queue_replies(account, make_volunteer(brand, signature="^FT").user)
    first = Reply.objects.filter(account=account).order_by("priority", "queued_at", "pk").first()
    assert first is not None
    world.add_fault("create_tweet", "latency", seconds=1.0)  # the post is slow, not lost
    with _dropper() as dropper:
        killer = dropper.drop_when_waiting(
            Reply._meta.db_table,
            first.pk,
            # The sender's claim committed: it is posting now
            once="sending_since IS NOT NULL",
        )
        with pytest.raises((OperationalError, InterfaceError)):
            posting.send_reply(first.pk)
        killer.join(timeout=30)
        assert dropper.error is None, dropper.error
        send_dropped = len(dropper.dropped)
    _reconnect()
    dropped_at = time.monotonic()
    first.refresh_from_db()
    posted_before_drop = world.find(author=account.username)
    assert len(posted_before_drop) == 1  # X has it; the desk's row still says queued, held
    assert first.state == ReplyState.QUEUED and first.sending_since is not None

    # And the outbox runs on, with the sweep
    outbox = drain_outbox()
    post_recover_s = time.monotonic() - dropped_at

    # Then each question is answered on X exactly once, and the dropped one was found there
    final = tally(brand, tweet_ids, world, account)
    assert final.figures() == {
        "questions": MENTIONS,
        "replies": MENTIONS,
        "lost": 0,
        "doubled": 0,
        "stuck": 0,
    }
    first.refresh_from_db()
    assert first.tweet_id == posted_before_drop[0].id
    sent = audit.events().filter(brand=brand, kind="reply.sent")
    assert sent.count() == MENTIONS
    assert sent.filter(data__found_on_x=True).count() == 1
    assert sent.filter(data__found_on_x=True, data__tweet_id=first.tweet_id).exists()
    report(
        "pg_drop_mid_transaction",
        **final.figures(),
        drops=ingest_dropped + send_dropped,
        recover_s=round(ingest_recover_s + post_recover_s, 2),
        ingest_recover_s=round(ingest_recover_s, 2),
        post_recover_s=round(post_recover_s, 2),
        sweeps=outbox["sweeps"],
    )
