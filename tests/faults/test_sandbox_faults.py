"""Issue 11, fault 3: X slow (timeouts), answering 5xx and 429 (with its rate-limit
headers), for polling and for posting. Polling backs off and resumes where its committed
cursor ends; posting reschedules and never posts twice; the sweep settles what a sender
left in doubt; the audit log has the failures and the recoveries."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from helpdesk import audit
from helpdesk.x import polling
from tests.factories import make_account, make_brand, make_volunteer, sandbox_account_for
from tests.faults.common import drain_outbox, inject_mentions, queue_replies, report, tally

pytestmark = pytest.mark.django_db

MENTIONS = 250  # three pages of 100
DESK_TIMEOUT = 0.3


def test_polling_and_posting_ride_out_a_slow_failing_rate_limited_x(
    sandbox: Any, settings: Any
) -> None:
    # Given a care account with 250 mentions waiting on X, one page per poll, and the
    # first page already stored
    settings.X_HTTP_TIMEOUT_SECONDS = DESK_TIMEOUT
    settings.X_MAX_PAGES_PER_POLL = 1
    world = sandbox.world
    brand = make_brand()
    account = make_account(brand, post_limit_per_window=100_000)
    world.add_account(sandbox_account_for(account))
    world.set_limit("create_tweet", 100_000)
    world.set_limit("user_tweets", 100_000)
    tweet_ids = inject_mentions(world, account.username, MENTIONS, tag="slow")
    assert polling.poll_account(account.pk).result.new == 100

    # When X times out, answers 503 twice, then 429, in the middle of the pages
    world.add_fault("mentions", "latency", seconds=1.0)
    world.add_fault("mentions", "5xx", count=2)
    world.add_fault("mentions", "429", seconds=1.0)
    started = time.monotonic()
    errors: list[str] = []
    backoffs: list[float] = []
    for _ in range(20):
        before = timezone.now()
        outcome = polling.poll_account(account.pk)
        if outcome.error:
            errors.append(outcome.error.split(" ")[0])
            assert outcome.next_poll_at is not None
            backoffs.append((outcome.next_poll_at - before).total_seconds())
            # The account is not polled again before the time it was given
            assert account.pk not in polling.claim_due_accounts(
                now=outcome.next_poll_at - timedelta(seconds=0.5)
            )
            continue
        account.refresh_from_db()
        if outcome.result.new == 0 and not account.mentions_pending_token:
            break
    poll_recover_s = time.monotonic() - started

    # Then every tweet is stored once, the cursor is at the newest, and polling is healthy
    account.refresh_from_db()
    assert errors[0].startswith("ReadTimeout") or "Timeout" in errors[0], errors
    assert errors[1:] == ["503", "503", "429"]
    assert backoffs[0] >= 30 and backoffs[1] >= 60 and backoffs[2] >= 120
    assert account.mentions_since_id == max(tweet_ids, key=int)
    assert (account.consecutive_failures, account.last_error) == (0, "")
    after_polling = tally(brand, tweet_ids)
    assert (after_polling.lost, after_polling.doubled) == (0, 0)
    polled = list(
        audit.events()
        .filter(brand=brand, kind__startswith="account.poll_")
        .order_by("pk")
        .values_list("kind", "data")
    )
    assert [kind for kind, _ in polled] == ["account.poll_failed"] * 4 + ["account.poll_recovered"]
    assert polled[-1][1]["after_failures"] == 4

    # When every question gets a reply, and posting meets timeouts after X accepted the
    # post, timeouts before it did, 503s, a 429, and a failed look on X
    queue_replies(account, make_volunteer(brand, signature="^FT").user)
    world.add_fault("create_tweet", "timeout_after_accept", count=3, seconds=1.0)
    world.add_fault("create_tweet", "5xx", count=3)
    world.add_fault("create_tweet", "429", seconds=1.0)
    world.add_fault("create_tweet", "latency", count=2, seconds=1.0)
    world.add_fault("user_tweets", "5xx")
    outbox = drain_outbox()

    # Then each question is answered on X exactly once, nothing is left queued or held,
    # and the audit log tells the retries and the posts found by a look on X
    final = tally(brand, tweet_ids, world, account)
    assert final.figures() == {
        "questions": MENTIONS,
        "replies": MENTIONS,
        "lost": 0,
        "doubled": 0,
        "stuck": 0,
    }
    sent = audit.events().filter(brand=brand, kind="reply.sent")
    assert sent.count() == MENTIONS
    found_on_x = sent.filter(data__found_on_x=True).count()
    assert found_on_x >= 3  # the three accepted-then-timed-out posts, at least
    in_doubt = audit.events().filter(brand=brand, kind="reply.send_in_doubt").count()
    assert in_doubt == 1  # the look on X that answered 503
    retried = audit.events().filter(brand=brand, kind="question.approved", data__has_key="retry_at")
    retry_errors = sorted(
        {str(e).split(" ")[0] for e in retried.values_list("data__error", flat=True)}
    )
    assert "503" in retry_errors and "429" in retry_errors
    stats = world.stats()
    report(
        "x_slow_5xx_429",
        **final.figures(),
        recover_s=round(poll_recover_s + outbox["seconds"], 2),
        poll_recover_s=round(poll_recover_s, 2),
        post_recover_s=outbox["seconds"],
        poll_failures=len(errors),
        # What the desk gave itself to wait before polling again; the test did not wait.
        poll_backoff_s=round(sum(backoffs), 1),
        post_retries=retried.count(),
        found_on_x=found_on_x,
        in_doubt=in_doubt,
        sweeps=outbox["sweeps"],
        faults_served=dict(stats["faults_served"]),
    )
