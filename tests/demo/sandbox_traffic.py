"""The demo's sandbox questions, delivered to the demo brand through real ingestion."""

from __future__ import annotations

import itertools
from typing import Any

from helpdesk.models import Brand, XAccount
from helpdesk.x.ingest import IngestResult, ingest_batch
from helpdesk.x.normalize import parse_v2_response
from helpdesk.x.sandbox.traffic import load_conversations, load_french_questions, retarget

_ids = itertools.count(1_900_000_000_000_000_001)


def sandbox_first_messages() -> list[tuple[str, str]]:
    """What the sandbox opens conversations with, as (language, text) with ``{handle}`` for
    the care account: every corpus conversation's first customer message (English) and every
    French question."""
    english = [
        ("en", retarget(c.messages[0], c.company, "{handle}"))
        for c in load_conversations()
        if c.messages
    ]
    french = [("fr", q.text) for q in load_french_questions()]
    return english + french


def deliver(brand: Brand, messages: list[tuple[str, str]], *, batch: int = 100) -> IngestResult:
    """Ingest ``messages`` as mentions of the brand's care account of their language, each
    from a new customer, ``batch`` tweets per poll."""
    accounts = {account.language: account for account in XAccount.objects.filter(brand=brand)}
    result = IngestResult()
    for language in sorted({language for language, _text in messages}):
        account = accounts.get(language) or accounts["en"]
        texts = [text for lang, text in messages if lang == language]
        for start in range(0, len(texts), batch):
            tweets: list[dict[str, Any]] = []
            users: list[dict[str, Any]] = []
            for text in texts[start : start + batch]:
                tweet_id, user_id = str(next(_ids)), str(next(_ids))
                tweets.append(
                    {
                        "id": tweet_id,
                        "text": text.replace("{handle}", f"@{account.username}"),
                        "edit_history_tweet_ids": [tweet_id],
                        "author_id": user_id,
                        "lang": language,
                    }
                )
                users.append({"id": user_id, "username": f"c{user_id[-9:]}", "name": "C"})
            payload = {"data": tweets, "includes": {"users": users}}
            result.add(
                ingest_batch(brand, parse_v2_response(payload), source="mentions", account=account)
            )
    return result
