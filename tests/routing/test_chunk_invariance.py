"""Issue 15, item 1: routing depends on the question and the stored history only, never on
how ingestion happened to batch the tweets. The corpus's real conversations (622 customer
messages) are ingested by ``ingest_file`` in chunks of 1 and of 500
into two brands; every question gets the same priority, state, dismissal reason and group
partners in both.

The file is in tweet order (oldest first). Out of order across chunks, a question cannot see an
earlier tweet that has not arrived yet; that is arrival, not batching."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import pytest
from django.core.management import call_command

from helpdesk.models import Brand, Question
from tests.corpus_replay import corpus_companies, corpus_tweets
from tests.factories import make_account, make_brand

Outcome = tuple[str, int, str, frozenset[str]]


def brand_with_corpus_accounts(slug: str, base_id: int) -> tuple[Brand, dict[str, str]]:
    brand = make_brand(slug=slug)
    care_ids = {}
    for n, company in enumerate(corpus_companies()):
        account = make_account(brand, username=company[:15], x_user_id=str(base_id + n))
        care_ids[company] = account.x_user_id
    return brand, care_ids


def ingest_in_chunks(brand: Brand, care_ids: dict[str, str], chunk: int, tmp: Path) -> None:
    path = tmp / f"{brand.slug}.jsonl"
    # Oldest first, as X's timelines are read: a tweet that arrives after a later one is
    # routed without it in both cases, but a chunk sorts its tweets, so the file is sorted.
    tweets = sorted(corpus_tweets(care_ids), key=lambda t: int(t["id"]))
    lines = (json.dumps({"data": [t]}) for t in tweets)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    call_command(
        "ingest_file",
        str(path),
        "--brand",
        brand.slug,
        f"--chunk-size={chunk}",
        stdout=io.StringIO(),
    )


def outcomes(brand: Brand) -> dict[str, Outcome]:
    """Per tweet: state, priority, dismissal reason, and the tweets it is grouped with."""
    rows = list(
        Question.objects.filter(brand=brand).values_list(
            "tweet_id", "state", "priority", "dismissed_reason", "group_id"
        )
    )
    members: dict[int, set[str]] = defaultdict(set)
    for tweet_id, *_, group_id in rows:
        if group_id is not None:
            members[group_id].add(tweet_id)
    return {
        tweet_id: (state, priority, reason, frozenset(members.get(group_id or 0, ())))
        for tweet_id, state, priority, reason, group_id in rows
    }


@pytest.mark.django_db
def test_the_same_conversations_in_chunks_of_1_and_of_500_route_identically(tmp_path: Path) -> None:
    # Given the corpus's conversations, for two brands with the same care accounts
    one_by_one, care_one = brand_with_corpus_accounts("one-by-one", 8_000_000_000)
    in_500s, care_500 = brand_with_corpus_accounts("in-500s", 8_100_000_000)

    # When one brand ingests them a tweet per transaction and the other 500 at a time
    ingest_in_chunks(one_by_one, care_one, 1, tmp_path)
    ingest_in_chunks(in_500s, care_500, 500, tmp_path)

    # Then every question was routed the same way in both
    single, chunked = outcomes(one_by_one), outcomes(in_500s)
    assert len(single) == 622
    differing = {t: (single[t], chunked[t]) for t in single if single[t] != chunked[t]}
    assert differing == {}
    # and the comparison is not vacuous: follow-ups, dismissals and groups are all there
    priorities = sorted({p for _, p, _, _ in single.values()})
    assert len(priorities) >= 2
    assert any(state == "dismissed" for state, *_ in single.values())
    assert any(group for *_, group in single.values())
