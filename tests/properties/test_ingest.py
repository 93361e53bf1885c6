"""Properties of ingestion (``helpdesk.x.ingest``) over generated v2 pages and v1.1 events:
replaying a batch changes nothing (invariant 1), the order pages arrive in does not change
what is stored, and every text is stored as the customer wrote it.

The database is rolled back once per test, not per example: each example works in a brand
of its own, so examples do not see each other's questions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.models import AuditEvent, Customer, Question, Source
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import Batch, parse_v2_response, parse_v11_payload
from tests.factories import make_account, make_brand
from tests.properties.strategies import (
    followers_counts,
    printable_text,
    v2_dates,
    v2_responses,
    v11_statuses,
    x_escape,
)

pytestmark = pytest.mark.django_db

POSITIVE_INTEGER_MAX = 2_147_483_647  # PostgreSQL's integer, behind PositiveIntegerField
STORED = ("tweet_id", "text", "lang", "tweeted_at", "in_reply_to_tweet_id", "customer__x_user_id")


def _stored(brand: Any) -> set[tuple[Any, ...]]:
    return set(Question.objects.filter(brand=brand).values_list(*STORED))


def _snapshot(brand: Any) -> tuple[Any, ...]:
    questions = Question.objects.filter(brand=brand)
    return (
        sorted(questions.values_list("pk", "tweet_id", "text", "state", "priority", "raw")),
        AuditEvent.objects.filter(question__brand=brand).count(),
    )


def _ingest(brand: Any, batch: Batch) -> tuple[int, int, int]:
    result = ingest_batch(brand, batch, source=Source.MENTIONS)
    return result.new, result.duplicate, result.skipped


pages = st.lists(v2_responses(hostile=True), min_size=1, max_size=4)


@given(pages)
def test_replaying_the_same_pages_changes_nothing(payloads: list[dict[str, Any]]) -> None:
    # Given a brand that has ingested some pages
    brand = make_brand()
    make_account(brand)
    batches = [parse_v2_response(p) for p in payloads]
    for batch in batches:
        _ingest(brand, batch)
    before = _snapshot(brand)

    # When the same pages come again
    new = sum(_ingest(brand, batch)[0] for batch in batches)

    # Then nothing new is stored, and nothing stored changed
    assert new == 0
    assert _snapshot(brand) == before
    ids = list(Question.objects.filter(brand=brand).values_list("tweet_id", flat=True))
    assert len(ids) == len(set(ids))
    accepted = {t.id for b in batches for t in b.tweets if not t.is_retweet}
    assert set(ids) == accepted


@given(pages, st.randoms(use_true_random=False))
def test_the_order_of_pages_does_not_change_what_is_stored(
    payloads: list[dict[str, Any]], random: Any
) -> None:
    # Given the same pages, served to two brands in two orders
    in_order, shuffled = make_brand(), make_brand()
    reordered = list(payloads)
    random.shuffle(reordered)

    # When each brand ingests its pages
    for payload in payloads:
        _ingest(in_order, parse_v2_response(payload))
    for payload in reordered:
        _ingest(shuffled, parse_v2_response(payload))

    # Then both hold the same tweets, texts and authors
    assert _stored(in_order) == _stored(shuffled)


@given(st.lists(v11_statuses(hostile=True), max_size=5))
def test_webhook_events_delivered_twice_are_stored_once(events: list[Any]) -> None:
    brand = make_brand()
    account = make_account(brand)
    payload = {"for_user_id": account.x_user_id, "tweet_create_events": events}
    _, batch = parse_v11_payload(payload)
    _ingest(brand, batch)
    before = _snapshot(brand)

    _, again = parse_v11_payload(payload)
    assert _ingest(brand, again)[0] == 0

    assert _snapshot(brand) == before


@given(printable_text)
def test_a_stored_question_reads_as_the_customer_wrote_it(written: str) -> None:
    brand = make_brand()
    tweet = {"id": "42", "text": x_escape(written), "edit_history_tweet_ids": ["42"]}

    _ingest(brand, parse_v2_response({"data": [tweet]}))

    question = Question.objects.get(brand=brand)
    assert question.text == written
    assert question.raw["text"] == x_escape(written)


@given(v2_dates)
def test_any_created_at_is_stored_or_the_tweet_rejected(created_at: str) -> None:
    # Given a page of two tweets, one of them dated anyhow
    brand = make_brand()
    dated = {"id": "1", "text": "where is my order?", "created_at": created_at}
    plain = {"id": "2", "text": "and my refund?"}
    batch = parse_v2_response({"data": [dated, plain]})

    # When it is ingested
    new, _, _ = _ingest(brand, batch)

    # Then the other tweet is stored whatever became of the dated one
    stored = set(Question.objects.filter(brand=brand).values_list("tweet_id", flat=True))
    assert new == len(stored) == 2 - len(batch.rejected)
    assert "2" in stored
    assert [r.tweet_id for r in batch.rejected] in ([], ["1"])


@given(followers_counts, st.booleans())
def test_any_followers_count_is_stored_or_left_unknown(count: Any, v11: bool) -> None:
    # Given a tweet whose author's followers count is anything at all
    brand = make_brand()
    if v11:
        user = {"id_str": "9", "screen_name": "ann", "followers_count": count}
        _, batch = parse_v11_payload(
            {"tweet_create_events": [{"id_str": "5", "text": "hi?", "user": user}]}
        )
    else:
        user = {"id": "9", "username": "ann", "public_metrics": {"followers_count": count}}
        tweet = {"id": "5", "text": "hi?", "author_id": "9"}
        batch = parse_v2_response({"data": [tweet], "includes": {"users": [user]}})

    # When it is ingested
    new, _, _ = _ingest(brand, batch)

    # Then the question is stored, and the count is one a database column holds, or unknown
    # (a v1.1 author is part of the tweet: a NaN or a NUL there, which no row can hold,
    # rejects the tweet whole, with its reason)
    if new == 0:
        assert v11
        assert [r.tweet_id for r in batch.rejected] == ["5"]
        assert batch.rejected[0].reason in (
            "NaN or Infinity is not valid JSON",
            "text contains a NUL character",
            "text is not valid Unicode (lone surrogate)",
        )
        return
    assert new == 1
    stored = Customer.objects.get(x_user_id="9").followers_count
    assert stored is None or 0 <= stored <= POSITIVE_INTEGER_MAX
