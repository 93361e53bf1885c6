"""Tweet texts, names and bios are hostile input: stored verbatim, always escaped on output,
never evaluated as markup or template syntax (DESIGN invariant 6)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Brand, Customer, Question, Source, XAccount
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from helpdesk.x.sandbox.records import x_escaped
from tests.factories import make_volunteer
from tests.fixtures.hostile import (
    HOSTILE_BIOS,
    HOSTILE_NAMES,
    HOSTILE_TEXTS,
    LONE_SURROGATE_TEXT,
    NUL_TEXT,
)

BASE_ID = 1_870_000_000_000_000_000
SECRET = "hostile-webhook-secret"
PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets


def tweet_id(n: int) -> str:
    return str(BASE_ID + n)


def author_id(n: int) -> str:
    return str(880_000 + n % len(HOSTILE_NAMES))


def hostile_users() -> list[dict[str, Any]]:
    return [
        {
            "id": author_id(k),
            "username": "<b>bold</b>" if k == 0 else f"hostile_{k}",
            "name": name,
            "description": HOSTILE_BIOS[k % len(HOSTILE_BIOS)],
        }
        for k, name in enumerate(HOSTILE_NAMES)
    ]


def ingest_hostile(brand: Brand) -> None:
    tweets = [
        {
            "id": tweet_id(n),
            "text": x_escaped(text),  # as X sends it
            "edit_history_tweet_ids": [tweet_id(n)],
            "author_id": author_id(n),
        }
        for n, (_, text) in enumerate(HOSTILE_TEXTS)
    ]
    batch = parse_v2_response({"data": tweets, "includes": {"users": hostile_users()}})
    result = ingest_batch(brand, batch, source=Source.SEARCH)
    assert (result.new, result.rejected) == (len(HOSTILE_TEXTS), [])


def question_fragment(page: str, tweet_id: str) -> str:
    match = re.search(
        rf'<li class="question" data-tweet-id="{tweet_id}">(.*?)</li>', page, re.DOTALL
    )
    assert match is not None, f"question {tweet_id} is not on the page"
    return match.group(1)


def shown_text(fragment: str) -> str:
    """The tweet text as a reader sees it: unescaped, line breaks back to newlines."""
    match = re.search(r'<p class="text" dir="auto">(.*?)</p>', fragment, re.DOTALL)
    assert match is not None
    return html.unescape(match.group(1).replace("<br>", "\n"))


def shown(fragment: str, css_class: str) -> str:
    match = re.search(rf'<span class="{css_class}">(.*?)</span>', fragment, re.DOTALL)
    assert match is not None
    return html.unescape(match.group(1))


@pytest.mark.django_db
def test_hostile_texts_names_and_bios_are_stored_byte_for_byte(brand: Brand) -> None:
    # Given hostile tweets by authors with hostile names and bios
    # When they are ingested
    ingest_hostile(brand)

    # Then each text, name and bio reads back exactly, down to the UTF-8 bytes
    for n, (label, text) in enumerate(HOSTILE_TEXTS):
        stored = Question.objects.get(tweet_id=tweet_id(n)).text
        assert stored == text, label
        assert stored.encode("utf-8") == text.encode("utf-8"), label
    for user in hostile_users():
        customer = Customer.objects.get(x_user_id=user["id"])
        assert (customer.username, customer.name, customer.description) == (
            user["username"],
            user["name"],
            user["description"],
        )
        assert customer.name.encode("utf-8") == user["name"].encode("utf-8")
        assert customer.description.encode("utf-8") == user["description"].encode("utf-8")


@pytest.mark.django_db
def test_hostile_texts_through_the_webhook_are_stored_byte_for_byte(
    client: Client, settings: Any, account: XAccount
) -> None:
    # Given a signed Account Activity delivery of hostile texts from a hostile profile
    settings.X_CONSUMER_SECRET = SECRET
    labels = {"script-tag", "crlf-newlines", "surrogate-pair-emoji", "rtl-override", "zalgo"}
    chosen = [(label, text) for label, text in HOSTILE_TEXTS if label in labels]
    user = {
        "id_str": "990001",
        "screen_name": "x",
        "name": HOSTILE_NAMES[1],
        "description": HOSTILE_BIOS[0],
    }
    events = [
        {"id_str": tweet_id(100 + n), "text": x_escaped(text), "user": user}
        for n, (_, text) in enumerate(chosen)
    ]
    body = json.dumps({"for_user_id": account.x_user_id, "tweet_create_events": events}).encode()
    signature = (
        "sha256="
        + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    )

    # When it is delivered
    response = client.post(
        "/x/webhook",
        data=body,
        content_type="application/json",
        headers={"x-twitter-webhooks-signature": signature},
    )

    # Then every text, the name and the bio read back exactly
    assert response.status_code == 200
    assert response.json()["new"] == len(chosen) == 5
    for n, (label, text) in enumerate(chosen):
        stored = Question.objects.get(tweet_id=tweet_id(100 + n)).text
        assert stored.encode("utf-8") == text.encode("utf-8"), label
    customer = Customer.objects.get(x_user_id="990001")
    assert (customer.name, customer.description) == (HOSTILE_NAMES[1], HOSTILE_BIOS[0])


@pytest.mark.django_db
def test_the_queue_page_shows_hostile_text_escaped_and_unevaluated(
    client: Client, brand: Brand
) -> None:
    # Given hostile questions in the queue, and a volunteer of the brand logged in
    ingest_hostile(brand)
    volunteer = make_volunteer(brand)
    assert client.login(username=volunteer.user.get_username(), password=PASSWORD)

    # When the volunteer opens the queue
    response = client.get("/queue/")

    # Then no hostile markup reaches the page as markup, only in its escaped form
    assert response.status_code == 200
    page = response.content.decode("utf-8")
    for raw in ("<script>alert", "<img src=x", "<iframe", "<b>bold", "onerror=alert(1)>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in page
    assert "@&lt;b&gt;bold&lt;/b&gt;" in page

    # And each question shows exactly its text, its author's name and handle
    for n, (label, text) in enumerate(HOSTILE_TEXTS):
        fragment = question_fragment(page, tweet_id(n))
        expected = text.replace("\r\n", "\n").replace("\r", "\n")
        assert shown_text(fragment) == expected, label
        user = hostile_users()[n % len(HOSTILE_NAMES)]
        assert shown(fragment, "name") == user["name"], label
        assert shown(fragment, "handle") == "@" + user["username"], label

    # And template syntax in a tweet is text, not template code
    variable = shown_text(question_fragment(page, tweet_id(_index("django-variable"))))
    assert variable == "@CareDesk {{ 7*7 }} is my order number"
    assert "49" not in variable
    tag = question_fragment(page, tweet_id(_index("django-tag")))
    assert "{% debug %}{% load static %}{# hidden #}" in html.unescape(tag)
    assert "sql_queries" not in page  # what {% debug %} would have dumped


def _index(label: str) -> int:
    return [name for name, _ in HOSTILE_TEXTS].index(label)


@pytest.mark.django_db
def test_nul_and_lone_surrogates_are_refused_and_the_rest_of_the_batch_is_stored(
    brand: Brand,
) -> None:
    # Given a batch where one text holds a NUL, one a lone surrogate, and a profile holds both
    tweets = [
        {"id": tweet_id(1), "text": "@CareDesk fine before", "author_id": "70"},
        {"id": tweet_id(2), "text": NUL_TEXT, "author_id": "70"},
        {"id": tweet_id(3), "text": LONE_SURROGATE_TEXT, "author_id": "70"},
        {"id": tweet_id(4), "text": "@CareDesk fine after", "author_id": "71"},
    ]
    users = [
        {"id": "70", "username": "nul", "name": "Nul\u0000Name"},
        {"id": "71", "username": "lone", "description": "bio \udfff"},
    ]
    batch = parse_v2_response({"data": tweets, "includes": {"users": users}})

    # When it is ingested
    result = ingest_batch(brand, batch, source=Source.SEARCH)

    # Then the two texts are refused with their reasons, the others are stored, and the
    # unusable profiles cost only the customers' names
    assert [(r.position, r.reason, r.tweet_id) for r in result.rejected] == [
        (1, "text contains a NUL character", tweet_id(2)),
        (2, "text is not valid Unicode (lone surrogate)", tweet_id(3)),
    ]
    assert result.new == 2
    assert sorted(Question.objects.values_list("tweet_id", "text")) == [
        (tweet_id(1), "@CareDesk fine before"),
        (tweet_id(4), "@CareDesk fine after"),
    ]
    assert sorted(Customer.objects.values_list("x_user_id", "name", "description")) == [
        ("70", "", ""),
        ("71", "", ""),
    ]


@pytest.mark.django_db
def test_a_literal_backslash_u0000_is_text_not_a_nul(brand: Brand) -> None:
    # Given a tweet that spells out the six characters \u0000 (no NUL in it)
    text = "@CareDesk my log says C:\\temp\\u0000 and \\\\u0000"
    batch = parse_v2_response({"data": {"id": tweet_id(1), "text": text}})

    # When it is ingested
    result = ingest_batch(brand, batch, source=Source.SEARCH)

    # Then it is stored as written
    assert result.rejected == []
    assert Question.objects.get().text == text
