"""Ingestion: every tweet stored once, none lost, threads and customers attached."""

from __future__ import annotations

from typing import Any

import pytest

from helpdesk.models import AuditEvent, Conversation, Customer, Question, Source
from helpdesk.states import QuestionState
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response, parse_v11_payload
from tests.factories import make_account, make_brand

BASE_ID = 1_800_000_000_000_000_000


def tweet(n: int, **fields: Any) -> dict[str, Any]:
    tweet_id = str(BASE_ID + n)
    body: dict[str, Any] = {
        "id": tweet_id,
        "text": f"@CareDesk question number {n}",
        "edit_history_tweet_ids": [tweet_id],
        "author_id": str(5000 + n % 37),
        "created_at": "2026-11-20T10:00:00.000Z",
        "conversation_id": tweet_id,
    }
    body.update(fields)
    return body


def page(tweets: list[Any], users: list[dict[str, Any]] | None = None) -> Any:
    payload: dict[str, Any] = {"data": tweets, "meta": {"result_count": len(tweets)}}
    if users is not None:
        payload["includes"] = {"users": users}
    return parse_v2_response(payload)


@pytest.mark.django_db
def test_overlapping_pages_fed_twice_give_each_tweet_exactly_once(brand: Any) -> None:
    # Given 10,000 tweets served in pages of 100 that overlap by half
    all_tweets = [tweet(n) for n in range(10_000)]
    windows = [all_tweets[start : start + 100] for start in range(0, 10_000, 50)]

    # When every page is ingested, and then the whole run is replayed
    totals = {"new": 0, "duplicate": 0}
    for _ in range(2):
        for window in windows:
            result = ingest_batch(brand, page(window), source=Source.MENTIONS)
            totals["new"] += result.new
            totals["duplicate"] += result.duplicate

    # Then there are exactly 10,000 questions, each tweet once, all queued
    assert Question.objects.count() == 10_000
    served = 2 * sum(len(window) for window in windows)
    assert totals == {"new": 10_000, "duplicate": served - 10_000}
    assert set(Question.objects.values_list("tweet_id", flat=True)) == {t["id"] for t in all_tweets}
    assert Question.objects.exclude(state=QuestionState.QUEUED).count() == 0
    assert AuditEvent.objects.filter(kind="question.received").count() == 10_000
    assert AuditEvent.objects.filter(kind="question.queued").count() == 10_000


@pytest.mark.django_db
def test_every_question_records_who_moved_it_and_from_what(brand: Any) -> None:
    ingest_batch(brand, page([tweet(1)]), source=Source.WEBHOOK, actor_label="system:webhook")

    question = Question.objects.get()
    events = list(question.events.order_by("pk").values("kind", "from_state", "to_state"))
    assert events == [
        {"kind": "question.received", "from_state": "", "to_state": "new"},
        {"kind": "question.queued", "from_state": "new", "to_state": "queued"},
    ]
    assert set(question.events.values_list("actor_label", flat=True)) == {"system:webhook"}


@pytest.mark.django_db
def test_own_posts_and_plain_retweets_are_not_questions(brand: Any) -> None:
    own = make_account(brand, username="NorthwindHelp", x_user_id="777")
    tweets = [
        tweet(1),
        tweet(2, author_id=own.x_user_id),
        tweet(3, referenced_tweets=[{"type": "retweeted", "id": str(BASE_ID)}]),
        tweet(4, referenced_tweets=[{"type": "quoted", "id": str(BASE_ID)}]),
    ]
    bare_retweet = {
        "id": str(BASE_ID + 5),
        "text": "RT @someone: hello",
        "edit_history_tweet_ids": [],
    }

    result = ingest_batch(brand, page([*tweets, bare_retweet]), source=Source.MENTIONS)

    assert (result.new, result.skipped, result.duplicate) == (2, 3, 0)
    assert sorted(Question.objects.values_list("tweet_id", flat=True)) == [
        str(BASE_ID + 1),
        str(BASE_ID + 4),
    ]


@pytest.mark.django_db
def test_replies_join_their_conversation_with_or_without_conversation_id(brand: Any) -> None:
    root = tweet(1, author_id="42")
    with_id = tweet(
        2,
        author_id="42",
        conversation_id=root["id"],
        referenced_tweets=[{"type": "replied_to", "id": root["id"]}],
    )
    ingest_batch(brand, page([root, with_id]), source=Source.MENTIONS)
    # A v1.1-like reply: no conversation_id, only the parent it answers.
    bare_reply = {
        "id": str(BASE_ID + 3),
        "text": "@CareDesk still broken",
        "edit_history_tweet_ids": [str(BASE_ID + 3)],
        "author_id": "42",
        "referenced_tweets": [{"type": "replied_to", "id": with_id["id"]}],
    }
    ingest_batch(brand, page([bare_reply]), source=Source.WEBHOOK)

    assert Conversation.objects.count() == 1
    conversation = Conversation.objects.get()
    assert conversation.x_conversation_id == root["id"]
    assert conversation.questions.count() == 3
    assert conversation.customer is not None and conversation.customer.x_user_id == "42"


@pytest.mark.django_db
def test_a_tweet_without_author_or_time_is_stored_with_what_is_known(brand: Any) -> None:
    bare = {"id": "1293593516040269825", "text": "hello", "edit_history_tweet_ids": ["1"]}

    result = ingest_batch(brand, page([bare]), source=Source.FILE)

    question = Question.objects.get()
    assert result.new == 1
    assert (question.customer, question.tweeted_at, question.text) == (None, None, "hello")
    assert question.conversation.x_conversation_id == "1293593516040269825"


@pytest.mark.django_db
def test_customers_are_upserted_with_their_latest_profile(brand: Any) -> None:
    ingest_batch(
        brand,
        page([tweet(1, author_id="42")], users=[{"id": "42", "username": "old", "name": "A"}]),
        source=Source.MENTIONS,
    )
    ingest_batch(
        brand,
        page(
            [tweet(2, author_id="42")],
            users=[
                {
                    "id": "42",
                    "username": "new",
                    "name": "B",
                    "public_metrics": {"followers_count": 12},
                }
            ],
        ),
        source=Source.MENTIONS,
    )

    customer = Customer.objects.get()
    assert (customer.username, customer.name, customer.followers_count) == ("new", "B", 12)
    assert customer.questions.count() == 2


@pytest.mark.django_db
def test_bad_records_are_rejected_with_reasons_and_the_rest_are_kept(brand: Any) -> None:
    batch = page(
        [
            tweet(1),
            {"id": "not-a-number", "text": "x"},
            {"id": str(BASE_ID + 2)},
            tweet(3, created_at="yesterday"),
            "just a string",
            tweet(4),
        ]
    )

    result = ingest_batch(brand, batch, source=Source.FILE)

    assert result.new == 2
    assert [(r.position, r.reason) for r in result.rejected] == [
        (1, "id must be a string of digits, not 'not-a-number'"),
        (2, "text is missing or not a string"),
        (3, "created_at is not a timestamp: 'yesterday'"),
        (4, "a tweet must be a JSON object"),
    ]
    assert Question.objects.count() == 2


@pytest.mark.django_db
def test_the_same_tweet_for_two_brands_is_a_question_for_each() -> None:
    first, second = make_brand(), make_brand()

    ingest_batch(first, page([tweet(1)]), source=Source.MENTIONS)
    ingest_batch(second, page([tweet(1)]), source=Source.MENTIONS)

    assert Question.objects.filter(tweet_id=str(BASE_ID + 1)).count() == 2
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_the_question_is_addressed_to_the_care_account_it_mentions(brand: Any) -> None:
    english = make_account(brand, username="NorthwindHelp", x_user_id="801")
    french = make_account(brand, username="NorthwindAide", x_user_id="802")

    ingest_batch(
        brand,
        page([tweet(1, text="@northwindaide ma commande ?"), tweet(2, text="@NorthwindHelp hi")]),
        source=Source.SEARCH,
    )

    by_tweet = dict(Question.objects.values_list("tweet_id", "account_id"))
    assert by_tweet == {str(BASE_ID + 1): french.pk, str(BASE_ID + 2): english.pk}


@pytest.mark.django_db
def test_a_failure_inside_the_transaction_leaves_nothing_behind(brand: Any) -> None:
    def crash() -> None:
        raise RuntimeError("power cut before commit")

    with pytest.raises(RuntimeError):
        ingest_batch(
            brand, page([tweet(1), tweet(2)]), source=Source.MENTIONS, in_same_transaction=crash
        )

    assert Question.objects.count() == 0
    assert Conversation.objects.count() == 0
    assert AuditEvent.objects.count() == 0

    result = ingest_batch(brand, page([tweet(1), tweet(2)]), source=Source.MENTIONS)
    assert (result.new, Question.objects.count()) == (2, 2)


@pytest.mark.django_db
def test_an_id_with_a_trailing_newline_is_refused_not_stored_beside_the_real_one(
    brand: Any,
) -> None:
    # Given the same tweet id, once as X sends it and once with a newline ("$" matched it)
    batch = page([tweet(1), tweet(1, id=f"{BASE_ID + 1}\n")])

    # When the page is ingested
    result = ingest_batch(brand, batch, source=Source.MENTIONS)

    # Then the forged one is rejected with its reason, and the tweet is stored once
    assert [(r.position, r.reason) for r in batch.rejected] == [
        (1, f"id must be a string of digits, not '{BASE_ID + 1}\\n'")
    ]
    assert result.new == 1
    assert list(Question.objects.values_list("tweet_id", flat=True)) == [str(BASE_ID + 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_date_with_no_utc_time_is_rejected_and_the_rest_of_the_page_kept(
    brand: Any, created_at: str
) -> None:
    # Given a page where one tweet is dated at the calendar's end with an offset
    batch = page([tweet(1, created_at=created_at), tweet(2)])

    # When it is ingested (the database stores UTC, which this moment has none of)
    result = ingest_batch(brand, batch, source=Source.MENTIONS)

    # Then that tweet is rejected with its reason, and the other one is stored
    assert [(r.position, r.reason) for r in batch.rejected] == [
        (0, f"created_at is out of range: {created_at!r}")
    ]
    assert result.new == 1
    assert list(Question.objects.values_list("tweet_id", flat=True)) == [str(BASE_ID + 2)]


def test_a_v11_date_with_no_utc_time_is_rejected() -> None:
    status = {"id_str": "5", "text": "hi", "created_at": "Mon Jan 01 00:00:00 +0100 0001"}

    _, batch = parse_v11_payload({"for_user_id": "1", "tweet_create_events": [status]})

    assert batch.tweets == []
    assert [r.reason for r in batch.rejected] == [
        "created_at is out of range: 'Mon Jan 01 00:00:00 +0100 0001'"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "kept"), [("0", ""), ("<b>", ""), ("qct", "qct"), ("fr", "fr")])
def test_a_lang_that_is_no_language_tag_is_not_kept(brand: Any, lang: str, kept: str) -> None:
    # Given a tweet without words (the detector cannot tell its language) and X's lang
    ingest_batch(brand, page([tweet(1, text="@CareDesk ???", lang=lang)]), source=Source.MENTIONS)

    # Then the question keeps X's lang only when it is a language tag
    assert Question.objects.get().lang == kept


@pytest.mark.django_db
@pytest.mark.parametrize("count", [-1, 2**31, 2**63, True])
def test_a_forged_followers_count_is_left_unknown_and_the_page_stored(
    brand: Any, count: Any
) -> None:
    # Given a page whose author has a followers count no column holds (or a boolean)
    users = [{"id": "5001", "username": "ann", "public_metrics": {"followers_count": count}}]
    batch = page([tweet(1, author_id="5001"), tweet(2)], users=users)

    # When it is ingested
    result = ingest_batch(brand, batch, source=Source.MENTIONS)

    # Then both questions are stored, and the count is unknown
    assert result.new == 2
    assert Customer.objects.get(x_user_id="5001").followers_count is None
