"""The X Account Activity webhook: the CRC challenge, signed deliveries, and refusals that
write nothing (DESIGN: X facts on webhooks; invariants 1, 6 and 9)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import AuditEvent, Conversation, Customer, Question, Source, XAccount
from helpdesk.states import QuestionState

SECRET = "webhook-consumer-secret"
URL = "/x/webhook"
BASE_ID = 1_850_000_000_000_000_000
NOTHING = {"questions": 0, "customers": 0, "conversations": 0, "audit_events": 0}


@pytest.fixture
def secret(settings: Any) -> str:
    settings.X_CONSUMER_SECRET = SECRET
    return SECRET


def sign(secret: str, body: bytes) -> str:
    """X's signature, computed here from the spec rather than with the desk's helper."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def status(n: int, author: str = "31337", **fields: Any) -> dict[str, Any]:
    """A v1.1 status as Account Activity delivers it in ``tweet_create_events``."""
    body: dict[str, Any] = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": BASE_ID + n,
        "id_str": str(BASE_ID + n),
        "text": f"@NorthwindHelp my blender number {n} arrived broken",
        "source": '<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>',
        "truncated": False,
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": None,
        "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None,
        "user": {
            "id": int(author),
            "id_str": author,
            "name": "Grace H.",
            "screen_name": "grace_h",
            "location": "Arlington, VA",
            "description": "Compilers, blenders, and the occasional moth.",
            "followers_count": 1815,
        },
        "geo": None,
        "coordinates": None,
        "place": None,
        "is_quote_status": False,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": {
            "hashtags": [],
            "urls": [],
            "user_mentions": [
                {"screen_name": "NorthwindHelp", "id_str": "1600000000000000001"},
            ],
            "symbols": [],
        },
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "en",
        "timestamp_ms": "1539202764000",
    }
    body.update(fields)
    return body


def reply_to(parent: int, n: int, **fields: Any) -> dict[str, Any]:
    return status(
        n,
        in_reply_to_status_id=BASE_ID + parent,
        in_reply_to_status_id_str=str(BASE_ID + parent),
        in_reply_to_user_id=1600000000000000001,
        in_reply_to_user_id_str="1600000000000000001",
        in_reply_to_screen_name="NorthwindHelp",
        **fields,
    )


def payload(account: XAccount, *events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"for_user_id": account.x_user_id, "tweet_create_events": list(events)}
    ).encode()


def deliver(client: Client, body: bytes, signature: str | None) -> Any:
    headers = {} if signature is None else {"x-twitter-webhooks-signature": signature}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def row_counts() -> dict[str, int]:
    return {
        "questions": Question.objects.count(),
        "customers": Customer.objects.count(),
        "conversations": Conversation.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


@pytest.mark.django_db
def test_crc_challenge_answers_with_the_hmac_of_the_token(client: Client, secret: str) -> None:
    # Given X's CRC challenge
    crc_token = "Fx3nC1QY-challenge+/="

    # When it reaches the webhook
    response = client.get(URL, {"crc_token": crc_token})

    # Then the answer is base64(HMAC-SHA256(consumer secret, token)), prefixed with sha256=
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), crc_token.encode(), hashlib.sha256).digest()
    ).decode()
    assert response.status_code == 200
    assert response.json() == {"response_token": f"sha256={expected}"}


@pytest.mark.django_db
def test_crc_challenge_without_a_token_is_a_bad_request(client: Client, secret: str) -> None:
    response = client.get(URL)

    assert response.status_code == 400
    assert response.json() == {"error": "crc_token is required"}


@pytest.mark.django_db
def test_signed_delivery_is_ingested_and_answers_with_counts(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a signed delivery of two customer tweets for our care account
    body = payload(account, status(1), status(2, author="27182", user={"id_str": "27182"}))

    # When X delivers it
    response = deliver(client, body, sign(SECRET, body))

    # Then both are queued questions of the account's brand, with their author and time
    assert response.status_code == 200
    assert response.json() == {"new": 2, "duplicate": 0, "skipped": 0, "rejected": []}
    first, second = Question.objects.order_by("tweet_id")
    assert (first.tweet_id, second.tweet_id) == (str(BASE_ID + 1), str(BASE_ID + 2))
    assert first.text == "@NorthwindHelp my blender number 1 arrived broken"
    assert (first.brand_id, first.account_id) == (account.brand_id, account.pk)
    assert first.source == Source.WEBHOOK
    assert first.state == QuestionState.QUEUED
    assert first.tweeted_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert first.lang == "en"
    assert first.customer is not None
    assert (
        first.customer.x_user_id,
        first.customer.username,
        first.customer.name,
        first.customer.description,
        first.customer.followers_count,
    ) == ("31337", "grace_h", "Grace H.", "Compilers, blenders, and the occasional moth.", 1815)
    assert second.customer is not None
    assert second.customer.x_user_id == "27182"
    assert set(AuditEvent.objects.values_list("actor_label", flat=True)) == {"system:webhook"}


@pytest.mark.django_db
def test_replaying_a_delivery_stores_nothing_new(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a delivery that was already ingested
    body = payload(account, status(1), status(2))
    deliver(client, body, sign(SECRET, body))
    before = row_counts()

    # When X redelivers it
    response = deliver(client, body, sign(SECRET, body))

    # Then both are duplicates and no row changed
    assert response.status_code == 200
    assert response.json() == {"new": 0, "duplicate": 2, "skipped": 0, "rejected": []}
    assert (
        row_counts()
        == before
        == {
            "questions": 2,
            "customers": 1,
            "conversations": 2,
            "audit_events": 4,
        }
    )


def _forged(body: bytes) -> dict[str, str | None]:
    other_body = body.replace(b"blender", b"toaster")
    good = sign(SECRET, body)
    return {
        "missing": None,
        "empty": "",
        "garbage": "sha256=bm90IGEgc2lnbmF0dXJl",
        "other-body": sign(SECRET, other_body),
        "other-secret": sign("not-the-secret", body),
        "no-prefix": good.removeprefix("sha256="),
        "wrong-case": "SHA256=" + good.removeprefix("sha256="),
        "truncated": good[:-4],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("forgery", list(_forged(b"").keys()))
def test_delivery_without_a_valid_signature_is_refused_and_writes_nothing(
    forgery: str, client: Client, secret: str, account: XAccount
) -> None:
    # Given a delivery whose signature is missing, forged or made for something else
    body = payload(account, status(1))
    signature = _forged(body)[forgery]

    # When it reaches the webhook
    response = deliver(client, body, signature)

    # Then it is refused and not a single row was written
    assert response.status_code == 403
    assert response.json() == {"error": "bad or missing signature"}
    assert row_counts() == NOTHING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"for_user_id": "1", "tweet_create_events": [',
        b"",
        b"\xff\xfe not utf-8",
        b'[{"for_user_id": "1"}]',
        b'{"for_user_id": "1", "tweet_create_events": {"id_str": "1"}}',
        b'{"for_user_id": "12x", "tweet_create_events": []}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=[
        "cut-off",
        "empty",
        "not-utf-8",
        "array",
        "events-not-a-list",
        "bad-for-user-id",
        "nested-too-deeply",
    ],
)
def test_signed_but_unreadable_delivery_is_a_bad_request_and_writes_nothing(
    body: bytes, client: Client, secret: str, account: XAccount
) -> None:
    response = deliver(client, body, sign(SECRET, body))

    assert response.status_code == 400
    assert response.json()["error"].startswith("unreadable payload: ")
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_a_delivery_posted_as_a_form_is_a_bad_request_and_writes_nothing(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a multipart form (the form-text check reads it, so no raw body is left to verify)
    response = client.post(URL, {"for_user_id": account.x_user_id})

    assert response.status_code == 400
    assert response.json() == {"error": "unreadable payload: send JSON"}
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_without_a_configured_secret_the_webhook_is_unavailable(
    client: Client, settings: Any, account: XAccount
) -> None:
    # Given no consumer secret: nothing could be verified
    settings.X_CONSUMER_SECRET = ""
    body = payload(account, status(1))

    # When X sends a CRC challenge or a delivery (signed with an empty key)
    crc = client.get(URL, {"crc_token": "abc"})
    delivery = deliver(client, body, sign("", body))

    # Then both are refused as unavailable, and nothing is stored
    assert crc.status_code == 503
    assert delivery.status_code == 503
    assert delivery.json() == {"error": "the webhook is not configured"}
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_delivery_for_an_unknown_account_is_acknowledged_and_ignored(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a well-signed delivery for an X user that is none of our accounts
    body = json.dumps({"for_user_id": "424242", "tweet_create_events": [status(1)]}).encode()

    # When it arrives
    response = deliver(client, body, sign(SECRET, body))

    # Then X is told it arrived (so it does not redeliver), and nothing is stored
    assert response.status_code == 200
    assert response.json() == {"ignored": "unknown for_user_id", "for_user_id": "424242"}
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_the_brands_own_tweet_and_retweets_are_skipped(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a delivery with a customer's tweet, our own reply and a plain retweet
    own = reply_to(1, 2, user={"id_str": account.x_user_id, "screen_name": account.username})
    retweet = status(3, text="RT @NorthwindHelp: big sale", retweeted_status=status(99))
    body = payload(account, status(1), own, retweet)

    # When it arrives
    response = deliver(client, body, sign(SECRET, body))

    # Then only the customer's tweet is a question
    assert response.status_code == 200
    assert response.json() == {"new": 1, "duplicate": 0, "skipped": 2, "rejected": []}
    assert list(Question.objects.values_list("tweet_id", flat=True)) == [str(BASE_ID + 1)]
    assert list(Customer.objects.values_list("x_user_id", flat=True)) == ["31337"]


@pytest.mark.django_db
def test_a_reply_joins_the_conversation_of_the_question_it_answers(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a question already stored from an earlier delivery
    first = payload(account, status(1))
    deliver(client, first, sign(SECRET, first))
    question = Question.objects.get()

    # When the customer's follow-up (v1.1: no conversation_id, only the parent) arrives,
    # and then a reply to that follow-up
    follow_up = payload(account, reply_to(1, 2))
    deliver(client, follow_up, sign(SECRET, follow_up))
    deeper = payload(account, reply_to(2, 3))
    deliver(client, deeper, sign(SECRET, deeper))

    # Then all three share the first question's conversation
    assert Conversation.objects.count() == 1
    assert set(Question.objects.values_list("conversation_id", flat=True)) == {
        question.conversation_id
    }
    assert Question.objects.get(tweet_id=str(BASE_ID + 2)).in_reply_to_tweet_id == str(BASE_ID + 1)


@pytest.mark.django_db
def test_bad_events_are_reported_and_the_others_stored(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a delivery where one event lacks its text and one has a forged id
    body = payload(
        account,
        status(1),
        status(2, text=None),
        status(3, id_str="3 OR 1=1", id=None),
        status(4),
    )

    # When it arrives
    response = deliver(client, body, sign(SECRET, body))

    # Then the good ones are stored and each bad one is named with its position and reason
    assert response.status_code == 200
    assert response.json() == {
        "new": 2,
        "duplicate": 0,
        "skipped": 0,
        "rejected": [
            {"position": 1, "reason": "text is missing or not a string"},
            {"position": 2, "reason": "id_str must be a string of digits, not '3 OR 1=1'"},
        ],
    }
    assert sorted(Question.objects.values_list("tweet_id", flat=True)) == [
        str(BASE_ID + 1),
        str(BASE_ID + 4),
    ]


@pytest.mark.django_db
def test_an_event_holding_nan_is_rejected_and_the_others_stored(
    client: Client, secret: str, account: XAccount
) -> None:
    # Given a signed delivery where one event carries NaN, which Python's json accepts
    good = json.dumps(status(1))
    body = (
        f'{{"for_user_id": "{account.x_user_id}", "tweet_create_events": '
        f'[{good}, {{"id_str": "{BASE_ID + 2}", "text": "x", "score": NaN}}]}}'
    ).encode()

    # When it arrives
    response = deliver(client, body, sign(SECRET, body))

    # Then that event alone is refused
    assert response.status_code == 200
    assert response.json()["new"] == 1
    assert response.json()["rejected"] == [
        {"position": 1, "reason": "NaN or Infinity is not valid JSON"}
    ]
