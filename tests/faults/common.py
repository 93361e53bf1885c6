"""What the fault scenarios share: the world they start from, the tally of what was lost,
doubled or left stuck, and the one JSON line of figures each prints.

Figures are measured, never asserted (STYLE: timings belong in figures, not in assertions);
the counts of lost, doubled and stuck things are asserted to be zero.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from helpdesk.models import Brand, Question, Reply, XAccount
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import posting
from tests.artifacts import ARTIFACTS_ROOT

ARTIFACT = ARTIFACTS_ROOT / "faults.jsonl"

# This run's lines, which tests/faults/conftest.py repeats in pytest's summary: CI runs
# without -s, and the figures belong in its log.
PRINTED: list[str] = []


def report(fault: str, **figures: Any) -> dict[str, Any]:
    """Print the scenario's figures as one JSON line and keep it in test-artifacts/."""
    line = {"fault": fault, "db": connection.vendor, **figures}
    text = json.dumps(line)
    print(f"\n{text}", flush=True)
    PRINTED.append(text)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    with ARTIFACT.open("a", encoding="utf-8") as out:
        out.write(text + "\n")
    return line


def inject_mentions(world: Any, handle: str, count: int, *, tag: str) -> list[str]:
    """``count`` customers' tweets that mention the care account ``@handle``; their ids,
    oldest first."""
    return [
        world.inject(world.add_user(f"{tag}{n}"), f"@{handle} where is my parcel {tag}-{n}?").id
        for n in range(count)
    ]


@dataclass(frozen=True)
class Tally:
    """What became of the tweets X holds and of the replies the desk queued."""

    questions: int
    replies: int
    lost: int
    doubled: int
    stuck: int

    def figures(self) -> dict[str, int]:
        return vars(self).copy()


def tally(
    brand: Brand, tweet_ids: Iterable[str], world: Any = None, account: XAccount | None = None
) -> Tally:
    """Lost: a tweet X has that the desk never stored, or a queued reply never posted.
    Doubled: a tweet stored twice, or a question answered on X more than once. Stuck: a
    reply still ``queued`` (waiting or held by a sender), or its question not answered."""
    expected = set(tweet_ids)
    stored = Counter(Question.objects.filter(brand=brand).values_list("tweet_id", flat=True))
    lost = len(expected - stored.keys())
    doubled = sum(n - 1 for n in stored.values())
    replies = Reply.objects.filter(question__brand=brand)
    stuck = 0
    if world is not None and account is not None:
        posts = Counter(t.referenced_id("replied_to") for t in world.find(author=account.username))
        doubled += sum(n - 1 for n in posts.values())
        sent_to = set(
            replies.filter(state=ReplyState.SENT).values_list("question__tweet_id", flat=True)
        )
        lost += len(set(replies.values_list("question__tweet_id", flat=True)) - posts.keys())
        lost += len(posts.keys() - sent_to)  # on X, but the desk does not know it went
        stuck = (
            replies.filter(state=ReplyState.QUEUED).count()
            + Question.objects.filter(brand=brand, replies__isnull=False)
            .exclude(state=QuestionState.ANSWERED)
            .count()
        )
    return Tally(len(expected), replies.count(), lost, doubled, stuck)


def queue_replies(account: XAccount, author: Any) -> int:
    """A reply in the outbox for every question of the account, as if each had been
    claimed, drafted and passed by the gate (the flows before sending are not under test)."""
    now = timezone.now()
    questions = list(
        Question.objects.filter(account=account).select_related("customer").order_by("pk")
    )
    Question.objects.filter(pk__in=[q.pk for q in questions]).update(
        state=QuestionState.APPROVED, claimed_by=author
    )
    Reply.objects.bulk_create(
        Reply(
            question=q,
            author=author,
            account=account,
            text=f"@{q.customer.username if q.customer else 'you'} Thanks, we are on it. ^FT",
            language="en",
            state=ReplyState.QUEUED,
            submitted_at=now,
            queued_at=now,
            scheduled_for=now,
            priority=n % 4,
        )
        for n, q in enumerate(questions)
    )
    return len(questions)


def drain_outbox(deadline_s: float = 90.0) -> dict[str, Any]:
    """Dispatch and sweep until no reply is queued (or the deadline passes).

    Tasks run in-process. A reply held by a sender that stopped (in doubt, or whose worker
    died) is settled by the sweep once ``stuck_after()`` has passed; rather than wait
    that long, the hold is dated back by that much, and only for those rows."""
    started = time.monotonic()
    sweeps = 0
    while time.monotonic() - started < deadline_s:
        posting.dispatch_due()
        queued = Reply.objects.filter(state=ReplyState.QUEUED)
        if not queued.exists():
            break
        held = queued.filter(sending_since__isnull=False)
        if held.exists():
            held.update(sending_since=F("sending_since") - posting.stuck_after())
            posting.sweep_replies()
            sweeps += 1
        time.sleep(0.05)
    return {"seconds": round(time.monotonic() - started, 2), "sweeps": sweeps}
