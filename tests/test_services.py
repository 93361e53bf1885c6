"""The production parts, for real: PostgreSQL under concurrent ingestion, channels-redis,
and a Celery worker consuming from Redis."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import close_old_connections

from helpdesk.health import health_report
from helpdesk.models import Question, Source, XAccount
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from tests.factories import make_account, make_brand, sandbox_account_for


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_ingestion_of_the_same_pages_stores_each_tweet_once() -> None:
    brand = make_brand()
    tweets = [
        {"id": str(1_900_000_000_000_000_000 + n), "text": f"q{n}", "author_id": str(n % 50 + 1)}
        for n in range(2_000)
    ]
    pages = [tweets[i : i + 100] for i in range(0, len(tweets), 100)]
    errors: list[BaseException] = []

    def feed(order: list[list[dict[str, Any]]]) -> None:
        try:
            for chunk in order:
                ingest_batch(brand, parse_v2_response({"data": chunk}), source=Source.MENTIONS)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            close_old_connections()

    orders = [pages, pages[::-1], pages[::2] + pages[1::2], pages]
    threads = [threading.Thread(target=feed, args=(order,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Question.objects.filter(brand=brand).count() == 2_000
    assert Question.objects.filter(brand=brand).values("tweet_id").distinct().count() == 2_000


@pytest.mark.redis
def test_the_redis_channel_layer_carries_a_group_message(settings: Any) -> None:
    layer = get_channel_layer()
    assert type(layer).__name__ == "RedisChannelLayer"
    group = f"test.{uuid.uuid4().hex}"
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    try:
        async_to_sync(layer.group_send)(group, {"type": "desk.event", "kind": "ping"})
        message = async_to_sync(layer.receive)(channel)
    finally:
        async_to_sync(layer.group_discard)(group, channel)
    assert message == {"type": "desk.event", "kind": "ping"}


@pytest.mark.redis
@pytest.mark.django_db
def test_health_reports_redis_for_the_channel_layer_and_the_broker() -> None:
    healthy, report = health_report()

    assert healthy is True
    assert report["channel_layer"] == {"ok": True, "backend": "RedisChannelLayer"}
    assert report["events_layer"] == {"ok": True, "backend": "RedisPubSubChannelLayer"}
    assert report["broker"] == {"ok": True, "mode": "redis"}


@pytest.fixture
def celery_worker() -> Iterator[Any]:
    from celery.contrib.testing.worker import start_worker

    from helpdesk.celery import app

    app.control.purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False) as worker:
        yield worker


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_on_redis_polls_due_accounts(sandbox: Any, celery_worker: Any) -> None:
    from helpdesk.tasks import poll_due_accounts

    brand = make_brand()
    account = make_account(brand)
    sandbox.world.add_account(sandbox_account_for(account))
    requests.post(f"{sandbox.base_url}/_sandbox/users", json={"username": "c1"}, timeout=10)
    requests.post(
        f"{sandbox.base_url}/_sandbox/tweets",
        json={"tweets": [{"author_username": "c1", "text": f"@{account.username} hi"}]},
        timeout=10,
    )

    # The beat's task is published to Redis and a worker thread runs it and its children
    poll_due_accounts.delay()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not Question.objects.filter(brand=brand).exists():
        time.sleep(0.2)
    assert Question.objects.filter(brand=brand).count() == 1
    account = XAccount.objects.get(pk=account.pk)
    assert account.last_polled_at is not None and account.last_error == ""
