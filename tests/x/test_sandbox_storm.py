"""The sandbox's storm: many unhappy customers mention a care account at once."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from helpdesk.models import XAccount
from helpdesk.x.sandbox.storm import STORM_EN, STORM_FR
from routing.classify import sentiment_of
from tests.factories import sandbox_account_for

pytestmark = pytest.mark.django_db


def post(sandbox: Any, body: Any) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/_sandbox/storm", json=body, timeout=30)


def test_a_storm_is_angry_mentions_from_as_many_customers(account: XAccount, sandbox: Any) -> None:
    sandbox.world.add_account(sandbox_account_for(account))

    response = post(sandbox, {"account": account.username, "count": 12, "language": "mixed"})

    assert response.status_code == 201
    ids = response.json()["ids"]
    tweets = [sandbox.world.tweet(tweet_id) for tweet_id in ids]
    assert len(ids) == 12
    assert all(f"@{account.username}" in tweet.text for tweet in tweets)
    assert len({tweet.author_id for tweet in tweets}) == 12
    assert {tweet.lang for tweet in tweets} == {"en", "fr"}


@pytest.mark.parametrize(
    ("text", "lang"), [(t, "en") for t in STORM_EN] + [(t, "fr") for t in STORM_FR]
)
def test_every_storm_text_reads_negative(text: str, lang: str) -> None:
    assert sentiment_of(text.format(handle="@CareDesk") + " #143", lang).negative is True


@pytest.mark.parametrize(
    "body",
    [
        {"count": 5},
        {"account": "nobody_here", "count": 5},
        {"account": "{care}", "count": 0},
        {"account": "{care}", "count": 1001},
        {"account": "{care}", "count": "5"},
        {"account": "{care}", "count": 5, "language": "de"},
        {"account": "{care}", "count": 5, "start": -1},
    ],
)
def test_a_bad_storm_is_refused_and_posts_nothing(
    account: XAccount, sandbox: Any, body: dict[str, Any]
) -> None:
    sandbox.world.add_account(sandbox_account_for(account))
    before = sandbox.world.stats()
    body = {k: (account.username if v == "{care}" else v) for k, v in body.items()}

    response = post(sandbox, body)

    assert response.status_code == 400
    assert sandbox.world.stats() == before
