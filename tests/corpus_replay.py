"""The corpus's real conversations as X would deliver them to a desk: each customer message a
v2 tweet with its author, conversation and the tweet it answers.

``../shared/corpus/twitter-care-dev.json`` (IBM's Twitter care conversations, Apache-2.0; a
copy is ``helpdesk/x/sandbox/data/twitter-care-dev.json``) holds 525 conversations with a
brand's care account. Every turn of a customer (``client``, or ``client1`` for a second
customer who joins) becomes a tweet; the agents' turns are the brand's own posts, which
ingestion drops anyway, so they are left out, and a customer's answer to an agent replies to
the care account. ``created_at`` is left out on purpose: the corpus is from 2019-2020, and
"waited an hour before reaching the desk" would raise every question of a replay.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from helpdesk.x.sandbox.traffic import DATA_DIR

CORPUS = DATA_DIR / "twitter-care-dev.json"


@cache
def corpus_dialogs() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(CORPUS.read_text(encoding="utf-8")))


def corpus_companies() -> list[str]:
    """The care accounts of the corpus (``dialogHeader.company``), in a stable order."""
    return sorted({d["dialogHeader"]["company"] for d in corpus_dialogs()})


def customer_x_id(name: str) -> str:
    """A stable X user id for a corpus customer's screen name."""
    return str(int(hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:12], 16) + 1)


def corpus_tweets(care_ids: dict[str, str]) -> list[dict[str, Any]]:
    """Every customer turn as a v2 tweet object, in corpus order; ``care_ids`` maps each
    company to the X user id of its care account."""
    tweets: list[dict[str, Any]] = []
    for dialog in corpus_dialogs():
        company = dialog["dialogHeader"]["company"]
        turns = dialog["dialogContent"]
        conversation_id = turns[0]["tweet_ID"]
        previous: tuple[str, str] | None = None  # (tweet id, author id)
        for turn in turns:
            if "agent" in turn:
                previous = (turn["tweet_ID"], care_ids[company])
                continue
            author = customer_x_id(turn.get("client") or turn["client1"])
            tweet: dict[str, Any] = {
                "id": turn["tweet_ID"],
                "text": turn["message"],
                "edit_history_tweet_ids": [turn["tweet_ID"]],
                "author_id": author,
                "conversation_id": conversation_id,
            }
            if previous is not None:
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": previous[0]}]
                tweet["in_reply_to_user_id"] = previous[1]
            tweets.append(tweet)
            previous = (turn["tweet_ID"], author)
    return tweets
