"""Issue 15 item 5: a question nobody on the desk may claim (its language) is shown to whoever
watches the brand's monitoring page, until it leaves the queue."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Brand, Question, Source
from helpdesk.states import QuestionState
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from tests.factories import make_account
from tests.people import People

pytestmark = pytest.mark.django_db

BASE_ID = 1_930_000_000_000_000_000
GERMAN = "@NorthwindHelp Meine Bestellung ist seit zwei Wochen nicht angekommen"
ENGLISH = "@NorthwindHelp my order has still not arrived after two weeks"


def ingest(brand: Brand, *texts: str) -> list[Question]:
    tweets = [
        {"id": str(BASE_ID + n), "text": text, "edit_history_tweet_ids": [str(BASE_ID + n)]}
        for n, text in enumerate(texts, start=1)
    ]
    ingest_batch(brand, parse_v2_response({"data": tweets}), source=Source.MENTIONS)
    return list(Question.objects.filter(brand=brand).order_by("tweet_id"))


def test_the_monitoring_page_lists_what_nobody_may_take(brand: Brand, people: People) -> None:
    # Given a desk that speaks English only (the default), and a German question
    make_account(brand, username="NorthwindHelp")
    client = Client()
    people.log_in(client, "supervisor")
    german, english = ingest(brand, GERMAN, ENGLISH)

    # When a supervisor watches the page
    page = client.get("/monitoring/live/").content.decode()

    # Then the German question is listed as nobody's, the English one is not
    assert 'data-unclaimable="1"' in page
    assert "1 question nobody on the desk may take" in page
    assert f"#{german.pk} · Language: <bdi>de</bdi>" in page
    assert f"#{english.pk} ·" not in page

    # and once it leaves the queue it is no longer listed
    Question.objects.filter(pk=german.pk).update(state=QuestionState.DISMISSED)
    assert "data-unclaimable" not in client.get("/monitoring/live/").content.decode()


def test_nothing_is_listed_when_the_desk_speaks_every_language(
    brand: Brand, people: People
) -> None:
    make_account(brand, username="NorthwindHelp")
    client = Client()
    supervisor: Any = people.log_in(client, "supervisor")
    supervisor.languages = ["en", "de"]
    supervisor.save(update_fields=["languages"])

    ingest(brand, GERMAN)

    assert "data-unclaimable" not in client.get("/monitoring/live/").content.decode()
