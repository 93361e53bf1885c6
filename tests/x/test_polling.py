"""Polling X through tweepy against the X sandbox: cursors, pages, crashes, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from helpdesk import audit
from helpdesk.models import AuditEvent, ListeningQuery, Question, Source, XAccount
from helpdesk.x import polling
from helpdesk.x.ingest import ingest_batch as real_ingest_batch
from tests.factories import sandbox_account_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def care(account: XAccount, sandbox: Any) -> XAccount:
    sandbox.world.add_account(sandbox_account_for(account))
    return account


def control(sandbox: Any, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(
        method, f"{sandbox.base_url}/_sandbox/{path}", json=body, timeout=30
    )
    assert response.status_code < 300, response.text
    return response.json()


def inject_mentions(sandbox: Any, account: XAccount, count: int, start: int = 0) -> list[str]:
    control(sandbox, "POST", "users", {"username": "asker", "name": "An Asker"})
    created = control(
        sandbox,
        "POST",
        "tweets",
        {
            "tweets": [
                {"author_username": "asker", "text": f"@{account.username} help #{n}"}
                for n in range(start, start + count)
            ]
        },
    )
    ids = created["ids"] if isinstance(created, dict) else created
    assert len(ids) == count
    return [str(i) for i in ids]


def test_a_poll_pages_through_all_new_mentions_and_moves_the_cursor(
    care: XAccount, sandbox: Any
) -> None:
    ids = inject_mentions(sandbox, care, 250)

    outcome = polling.poll_account(care.pk)

    care.refresh_from_db()
    assert (outcome.error, outcome.result.new, outcome.pages) == ("", 250, 3)
    assert set(Question.objects.values_list("tweet_id", flat=True)) == set(ids)
    assert care.mentions_since_id == max(ids, key=int)
    assert (care.mentions_pending_token, care.mentions_pending_newest_id) == ("", "")
    assert care.consecutive_failures == 0 and care.last_error == ""
    question = Question.objects.get(tweet_id=ids[0])
    assert question.account_id == care.pk and question.source == Source.MENTIONS
    assert question.customer is not None and question.customer.username == "asker"
    assert question.tweeted_at is not None

    # A second poll asks only for what is newer, and finds nothing
    again = polling.poll_account(care.pk)
    assert (again.result.new, again.result.duplicate, again.pages) == (0, 0, 1)

    newer = inject_mentions(sandbox, care, 5, start=250)
    third = polling.poll_account(care.pk)
    assert third.result.new == 5
    assert Question.objects.count() == 255
    care.refresh_from_db()
    assert care.mentions_since_id == max(newer, key=int)


def test_text_round_trips_through_the_sandbox_as_the_customer_wrote_it(
    care: XAccount, sandbox: Any
) -> None:
    # Given a customer who writes the characters X escapes, and an entity of their own
    control(sandbox, "POST", "users", {"username": "amy", "name": "Amy"})
    written = f"@{care.username} Q&A <b>bold</b> & I typed &amp;lt; on purpose"
    created = control(
        sandbox, "POST", "tweets", {"tweets": [{"author_username": "amy", "text": written}]}
    )
    (tweet_id,) = created["ids"] if isinstance(created, dict) else created

    # When the desk polls the care account's mentions through tweepy
    outcome = polling.poll_account(care.pk)

    # Then the question holds exactly what the customer wrote; the payload is X's, escaped
    assert (outcome.error, outcome.result.new) == ("", 1)
    question = Question.objects.get(tweet_id=str(tweet_id))
    assert question.text == written
    assert question.raw["text"] == (
        f"@{care.username} Q&amp;A &lt;b&gt;bold&lt;/b&gt; &amp; I typed &amp;amp;lt; on purpose"
    )


def test_a_crash_between_fetching_and_committing_a_page_loses_and_doubles_nothing(
    care: XAccount, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = inject_mentions(sandbox, care, 250)
    calls = {"n": 0}

    def crash_on_second_page(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            advance = kwargs["in_same_transaction"]

            def advance_then_die() -> None:
                advance()
                raise SystemExit("worker killed after writing page 2, before its commit")

            kwargs["in_same_transaction"] = advance_then_die
        return real_ingest_batch(*args, **kwargs)

    monkeypatch.setattr(polling, "ingest_batch", crash_on_second_page)
    with pytest.raises(SystemExit):
        polling.poll_account(care.pk)

    # Page 1 committed with its cursor progress; page 2 rolled back whole
    care.refresh_from_db()
    assert Question.objects.count() == 100
    assert care.mentions_pending_token != ""
    assert care.mentions_since_id == ""

    # The restarted poller resumes from the committed cursor
    monkeypatch.setattr(polling, "ingest_batch", real_ingest_batch)
    outcome = polling.poll_account(care.pk)

    assert outcome.error == ""
    assert Question.objects.count() == 250
    assert set(Question.objects.values_list("tweet_id", flat=True)) == set(ids)
    assert AuditEvent.objects.filter(kind="question.received").count() == 250
    care.refresh_from_db()
    assert care.mentions_since_id == max(ids, key=int)


def test_a_429_moves_the_next_poll_to_the_reset_time(care: XAccount, sandbox: Any) -> None:
    inject_mentions(sandbox, care, 3)
    control(
        sandbox,
        "POST",
        "faults",
        {"endpoint": "mentions", "kind": "429", "count": 1, "seconds": 600},
    )
    before = timezone.now()

    outcome = polling.poll_account(care.pk)

    care.refresh_from_db()
    assert Question.objects.count() == 0
    assert outcome.error.startswith("429")
    assert care.last_error.startswith("429") and care.consecutive_failures == 1
    expected = before + timedelta(seconds=600)
    assert abs((care.next_poll_at - expected).total_seconds()) <= 2
    assert care.pk not in polling.claim_due_accounts(now=care.next_poll_at - timedelta(seconds=1))
    assert polling.claim_due_accounts(now=care.next_poll_at) == [care.pk]

    # Once the window has reset, the poll goes through and clears the error
    recovered = polling.poll_account(care.pk)
    care.refresh_from_db()
    assert (recovered.result.new, care.last_error, care.consecutive_failures) == (3, "", 0)


def test_server_errors_back_off_exponentially(care: XAccount, sandbox: Any) -> None:
    control(sandbox, "POST", "faults", {"endpoint": "mentions", "kind": "5xx", "count": 2})

    delays = []
    for _ in range(2):
        start = timezone.now()
        polling.poll_account(care.pk)
        care.refresh_from_db()
        delays.append(round((care.next_poll_at - start).total_seconds()))

    assert delays == [30, 60]  # 15 s interval doubled, then doubled again
    assert care.last_error.startswith("503") and care.consecutive_failures == 2


def test_a_timeout_is_a_failure_that_backs_off(care: XAccount, sandbox: Any, settings: Any) -> None:
    settings.X_HTTP_TIMEOUT_SECONDS = 0.3
    control(
        sandbox,
        "POST",
        "faults",
        {"endpoint": "mentions", "kind": "latency", "count": 1, "seconds": 2},
    )

    outcome = polling.poll_account(care.pk)

    care.refresh_from_db()
    assert "Timeout" in outcome.error
    assert care.consecutive_failures == 1
    assert care.next_poll_at > timezone.now() + timedelta(seconds=20)


def test_bad_credentials_are_reported_on_the_account(care: XAccount, sandbox: Any) -> None:
    XAccount.objects.filter(pk=care.pk).update(bearer_token="revoked")

    outcome = polling.poll_account(care.pk)

    care.refresh_from_db()
    assert outcome.error.startswith("401")
    assert care.last_error.startswith("401") and care.last_error_at is not None
    assert Question.objects.count() == 0


def test_listening_queries_ingest_search_results(care: XAccount, sandbox: Any) -> None:
    ListeningQuery.objects.create(account=care, query='"broken screen" -is:retweet')
    control(sandbox, "POST", "users", {"username": "shopper", "name": "Shopper"})
    control(
        sandbox,
        "POST",
        "tweets",
        {
            "tweets": [
                {"author_username": "shopper", "text": "my phone has a broken screen, anyone?"},
                {"author_username": "shopper", "text": "lovely weather today"},
            ]
        },
    )

    outcome = polling.poll_account(care.pk)

    assert outcome.error == ""
    texts = list(Question.objects.filter(source=Source.SEARCH).values_list("text", flat=True))
    assert texts == ["my phone has a broken screen, anyone?"]
    query = ListeningQuery.objects.get()
    assert query.since_id == Question.objects.get(source=Source.SEARCH).tweet_id


def test_only_one_dispatcher_claims_a_due_account(care: XAccount) -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    XAccount.objects.filter(pk=care.pk).update(next_poll_at=now - timedelta(seconds=1))

    first = polling.claim_due_accounts(now=now)
    second = polling.claim_due_accounts(now=now)

    assert (first, second) == ([care.pk], [])
    care.refresh_from_db()
    assert care.next_poll_at == now + polling.POLL_LEASE


def test_a_paused_account_is_never_polled(care: XAccount) -> None:
    XAccount.objects.filter(pk=care.pk).update(is_active=False)

    assert polling.claim_due_accounts(now=timezone.now() + timedelta(days=1)) == []


def test_spending_the_last_request_of_a_window_waits_for_its_reset(
    care: XAccount, sandbox: Any
) -> None:
    # Given an endpoint with one request left in its 15-minute window
    sandbox.world.set_limit("mentions", 1)
    inject_mentions(sandbox, care, 2)
    started = timezone.now()

    # When a poll spends it
    outcome = polling.poll_account(care.pk)

    # Then the questions are stored and the next poll waits for the window to reset,
    # instead of being refused with a 429 fifteen seconds from now
    care.refresh_from_db()
    assert (outcome.error, outcome.result.new) == ("", 2)
    assert care.last_error == ""
    assert care.next_poll_at >= started + timedelta(minutes=14)
    assert care.next_poll_at <= started + timedelta(minutes=15, seconds=2)


def test_the_audit_log_says_when_polling_failed_and_when_it_came_back(
    care: XAccount, sandbox: Any
) -> None:
    # Given X answering the mentions endpoint with a 503, then a 429
    inject_mentions(sandbox, care, 2)
    control(sandbox, "POST", "faults", {"endpoint": "mentions", "kind": "5xx", "count": 1})
    control(sandbox, "POST", "faults", {"endpoint": "mentions", "kind": "429", "seconds": 1})

    # When the desk polls three times
    for _ in range(3):
        polling.poll_account(care.pk)

    # Then the audit log holds both failures, then the recovery, for the brand
    rows = list(
        audit.events()
        .filter(kind__startswith="account.poll_")
        .order_by("pk")
        .values_list("kind", "brand_id", "actor_label", "data")
    )
    assert [(kind, brand) for kind, brand, _, _ in rows] == [
        ("account.poll_failed", care.brand_id),
        ("account.poll_failed", care.brand_id),
        ("account.poll_recovered", care.brand_id),
    ]
    assert {label for _, _, label, _ in rows} == {f"system:poll:@{care.username}"}
    first, second, recovered = (data for _, _, _, data in rows)
    assert first["error"].startswith("503") and first["failures"] == 1
    assert second["error"].startswith("429") and second["failures"] == 2
    assert recovered["after_failures"] == 2 and recovered["new"] == 2
    assert recovered["last_error"].startswith("429")

    # And a poll that had nothing wrong before writes nothing more
    polling.poll_account(care.pk)
    assert audit.events().filter(kind__startswith="account.poll_").count() == 3
