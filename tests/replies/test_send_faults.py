"""The fault test: 1,000 approved replies sent by real Celery workers on Redis against the X
sandbox, which times out after accepting, answers 5xx and 429, while the worker is killed
mid-send several times. Afterwards X holds exactly one reply per question and nothing is
left queued or sending."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from helpdesk import tasks
from helpdesk.models import AuditEvent, Conversation, Customer, Question, Reply, Source, XAccount
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import posting
from tests.factories import make_account, make_brand, make_volunteer, sandbox_account_for

N_REPLIES = 1_000
DESK_TIMEOUT = 0.5  # the desk's X_HTTP_TIMEOUT_SECONDS, in the workers and here
KILLS = 4
KILL_EVERY = 3.0
DEADLINE = 180.0


def _worker(queue: str, sandbox: Any) -> subprocess.Popen[bytes]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": str(django_settings.REDIS_URL),
        "X_API_BASE_URL": sandbox.base_url,
        "X_HTTP_TIMEOUT_SECONDS": str(DESK_TIMEOUT),
        # The same keys as this process: the workers decrypt the account's credentials.
        "SECRET_KEY": django_settings.SECRET_KEY,
        "HELPFORCE_TOKEN_KEY": django_settings.TOKEN_ENCRYPTION_KEY,
        "DEBUG": "1",
        "CELERY_QUEUE": queue,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "helpdesk",
        "worker",
        "--pool",
        "threads",
        "-c",
        "4",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(
        command,
        env=env,
        cwd=Path(django_settings.BASE_DIR),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _setup(sandbox: Any) -> tuple[XAccount, list[Question]]:
    brand = make_brand()
    account = make_account(brand, post_limit_per_window=100_000)
    sandbox.world.add_account(sandbox_account_for(account))
    sandbox.world.set_limit("create_tweet", 100_000)
    sandbox.world.set_limit("user_tweets", 100_000)
    author = make_volunteer(brand, signature="^FT").user
    world = sandbox.world
    tweets = [
        world.inject(world.add_user(f"fault{n}"), f"@{account.username} where is my parcel {n}?")
        for n in range(N_REPLIES)
    ]
    customers = Customer.objects.bulk_create(
        Customer(x_user_id=t.author_id, username=t.author_username) for t in tweets
    )
    conversations = Conversation.objects.bulk_create(
        Conversation(brand=brand, x_conversation_id=t.id, customer=c)
        for t, c in zip(tweets, customers, strict=True)
    )
    now = timezone.now()
    questions = Question.objects.bulk_create(
        Question(
            brand=brand,
            account=account,
            conversation=conv,
            customer=customer,
            tweet_id=t.id,
            text=t.text,
            lang="en",
            source=Source.MENTIONS,
            state=QuestionState.APPROVED,
            claimed_by=author,
        )
        for t, conv, customer in zip(tweets, conversations, customers, strict=True)
    )
    Reply.objects.bulk_create(
        Reply(
            question=q,
            author=author,
            account=account,
            text=f"@{c.username} Thanks for the wait, we are looking into it now. ^FT",
            language="en",
            state=ReplyState.QUEUED,
            submitted_at=now,
            queued_at=now,
            scheduled_for=now,
            priority=n % 4,
        )
        for n, (q, c) in enumerate(zip(questions, customers, strict=True))
    )
    return account, questions


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_thousand_replies_are_posted_exactly_once_through_faults_and_kills(
    sandbox: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.X_HTTP_TIMEOUT_SECONDS = DESK_TIMEOUT
    account, questions = _setup(sandbox)
    queue = f"faults-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(
        tasks.send_reply, "delay", lambda pk: tasks.send_reply.apply_async((pk,), queue=queue)
    )
    world = sandbox.world
    for _ in range(25):  # interleaved, so every kind keeps coming during the run
        world.add_fault("create_tweet", "timeout_after_accept", count=10, seconds=1.0)
        world.add_fault("create_tweet", "5xx", count=6)
        world.add_fault("create_tweet", "429", count=1, seconds=1.0)

    started = time.monotonic()
    worker = _worker(queue, sandbox)
    kills = 0
    last_start = time.monotonic()
    last_sweep = 0.0
    sent = 0
    try:
        while time.monotonic() - started < DEADLINE:
            now = time.monotonic()
            if kills < KILLS and now - last_start >= KILL_EVERY:
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                kills += 1
                worker = _worker(queue, sandbox)
                last_start = time.monotonic()
            posting.dispatch_due()
            if now - last_sweep >= 5:
                posting.sweep_replies()
                last_sweep = now
            sent = Reply.objects.filter(state=ReplyState.SENT).count()
            if sent == N_REPLIES:
                break
            time.sleep(0.3)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    duration = time.monotonic() - started

    stats = world.stats()
    attempts = Counter(Reply.objects.values_list("send_attempts", flat=True))
    swept = AuditEvent.objects.filter(kind="question.approved", data__swept=True).count()
    found = AuditEvent.objects.filter(kind="reply.sent", data__found_on_x=True).count()
    print(
        f"\nfault test: {N_REPLIES} replies in {duration:.1f}s; faults served "
        f"{dict(stats['faults_served'])}; worker killed {kills} times; "
        f"create_tweet calls {stats['requests'].get('create_tweet', 0)}, "
        f"user_tweets reads {stats['requests'].get('user_tweets', 0)}; "
        f"attempts per reply {dict(sorted(attempts.items()))}; settled by a look on X "
        f"{found}; requeued by the sweep after a dead sender {swept}"
    )
    posted = world.find(author=account.username)
    by_parent = Counter(t.referenced_id("replied_to") for t in posted)
    assert len(posted) == N_REPLIES
    assert set(by_parent) == {q.tweet_id for q in questions}
    assert max(by_parent.values()) == 1
    assert sent == N_REPLIES
    assert not Reply.objects.exclude(state=ReplyState.SENT).exists()
    assert not Reply.objects.filter(sending_since__isnull=False).exists()
    tweet_of = {t.referenced_id("replied_to"): t.id for t in posted}
    for tweet_id, question_tweet in Reply.objects.values_list("tweet_id", "question__tweet_id"):
        assert tweet_of[question_tweet] == tweet_id
    assert set(Question.objects.values_list("state", flat=True)) == {QuestionState.ANSWERED}
    assert kills == KILLS
    assert stats["faults_served"].get("timeout_after_accept", 0) >= 100
