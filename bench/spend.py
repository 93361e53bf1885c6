"""The X bill over a demo-like run: what the desk spends per answered question.

An X sandbox in this process produces the demo's customer traffic (the care corpus, French
questions, chatter, retweets); the desk polls the care account's mentions and a listening
query through tweepy, simulated volunteers claim the queued questions and reply through the
real actions (claim, submit, the gate, the outbox, the sender), one reply in five with a
link. At the end the desk's own count of its calls (``XApiCall``, priced from
``X_PRICES``) is compared with the sandbox's log of the calls it answered times the same
price table: they must be equal.

    .venv/bin/python bench/spend.py [--rounds 10] [--tweets-per-round 8]

Runs on a throw-away database (SQLite unless DATABASE_URL says otherwise). Prints its
figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# What X bills each endpoint as (docs/metrics.md), for reading the sandbox's log.
BILLED_AS = {
    "GET /2/users/:id/mentions": "owned_read",
    "GET /2/users/:id/tweets": "owned_read",
    "GET /2/tweets/search/recent": "post_read",
    "GET /2/tweets/:id": "post_read",
    "GET /2/tweets": "post_read",
    "POST /2/tweets": "post_create",
    "DELETE /2/tweets/:id": "post_delete",
}
LISTENING_QUERY = "order OR refund OR broken OR help"
ACCOUNT = {
    "username": "BenchCare",
    "x_user_id": "1700000000000000001",
    "bearer_token": "bench-bearer",
    "consumer_key": "bench-ck",
    "consumer_secret": "bench-cs",
    "access_token": "1700000000000000001-bench",
    "access_token_secret": "bench-ats",
}


def sandbox_bill(base_url: str, prices: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per category: calls, units and micro-dollars, from the sandbox's own log."""
    log = requests.get(f"{base_url}/_sandbox/calls", timeout=30).json()["data"]
    bill: dict[str, Counter[str]] = {}
    for call in log:
        category = BILLED_AS.get(call["endpoint"])
        if category is None:
            continue
        if category == "post_create" and call["created_with_url"]:
            category = "post_create_url"
        units = call["posts_returned"] + call["posts_created"] + call["posts_deleted"]
        row = bill.setdefault(category, Counter())
        row["calls"] += 1
        row["units"] += units
        row["micros"] += int(units * prices[category] * 1_000_000)
    return {category: dict(row) for category, row in bill.items()}


def reply_text(question: Any, n: int) -> str:
    handle = question.customer.username if question.customer else ""
    text = f"@{handle} Thanks for reaching out, a team member is looking into this now."
    if n % 5 == 0:
        text = f"@{handle} You can follow the steps here: https://help.example.com/returns"
    return f"{text} ^V{n % 100}"


def answer_queued(brand: Any, users: list[Any], rng: random.Random, counter: list[int]) -> int:
    """Each queued question is claimed by a volunteer who may take it, and answered."""
    from helpdesk.models import Question
    from helpdesk.replies import ReplyError, submit_reply
    from routing.claims import claim_question

    answered = 0
    for question in Question.objects.filter(brand=brand, state="queued").select_related("customer"):
        for user in rng.sample(users, min(5, len(users))):
            if claim_question(question.pk, user).won:
                counter[0] += 1
                try:
                    submit_reply(question, user, reply_text(question, counter[0]), language="en")
                    answered += 1
                except ReplyError:
                    pass
                break
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tweets-per-round", type=int, default=8)
    parser.add_argument("--volunteers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from helpdesk.x.sandbox import XSandbox

    sandbox = XSandbox(seed=args.seed).start()
    os.environ["X_API_BASE_URL"] = sandbox.base_url
    os.environ.pop("REDIS_URL", None)  # tasks (the sender) run in this process
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    logging.getLogger("celery").setLevel(logging.WARNING)
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        figures = run(args, sandbox, settings)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
        sandbox.stop()
    print(json.dumps(figures))


def run(args: argparse.Namespace, sandbox: Any, settings: Any) -> dict[str, Any]:
    from django.db.models import Count
    from django.utils import timezone

    from bench.crowd import certified_crowd
    from charter.acceptance import publish_version
    from charter.models import ReviewPolicy
    from helpdesk.management.commands.xsandbox import sandbox_account_from
    from helpdesk.models import Brand, ListeningQuery, Question, Reply, XAccount
    from helpdesk.reports.period import Period
    from helpdesk.reports.queries.scope import brand_zone
    from helpdesk.reports.queries.spend import spend_between, usd
    from helpdesk.x import polling, posting

    rng = random.Random(args.seed)
    brand = Brand.objects.create(name="Bench", slug="bench")
    version = publish_version(
        brand.pk, title="Usage charter", body="Be kind.", is_material=True, actor=None
    )
    ReviewPolicy.objects.create(brand=brand, certified_sample_rate=0.0, mentor_sample_rate=0.0)
    account = XAccount.objects.create(brand=brand, **ACCOUNT)
    ListeningQuery.objects.create(account=account, query=LISTENING_QUERY)
    sandbox.add_account(sandbox_account_from(account))
    users = certified_crowd(brand, version, args.volunteers, rng=rng)
    counter = [0]
    started = time.perf_counter()
    for _round in range(args.rounds):
        for _ in range(args.tweets_per_round):
            sandbox.traffic.emit()
        outcome = polling.poll_account(account.pk)
        if outcome.error:
            raise SystemExit(f"poll failed: {outcome.error}")
        answer_queued(brand, users, rng, counter)
        posting.dispatch_due()
    # Replies still held back (a scheduled retry) get their chance
    for _ in range(3):
        posting.dispatch_due()
        time.sleep(0.5)
    elapsed = time.perf_counter() - started

    now = timezone.now()
    zone = brand_zone(brand)
    today = now.astimezone(zone).date()
    answered = Question.objects.filter(brand=brand, first_response_at__isnull=False).count()
    spend = spend_between(brand, Period(today - timedelta(days=1), today, zone), answered)
    desk = {
        row.key: {"calls": row.calls, "units": row.units, "micros": row.micros}
        for row in spend.by_category
    }
    billed = {key: value for key, value in desk.items() if key != "unpriced"}
    x_side = sandbox_bill(sandbox.base_url, settings.X_PRICES)
    replies = dict(Reply.objects.values_list("state").annotate(n=Count("pk")).order_by())
    per_answered = usd(spend.per_answered_micros)
    return {
        "bench": "spend",
        "rounds": args.rounds,
        "customer_tweets": sandbox.traffic.generated,
        "questions": Question.objects.filter(brand=brand).count(),
        "answered": answered,
        "replies": replies,
        "calls": spend.total.calls,
        "spend_usd": float(usd(spend.total.micros) or 0),
        "spend_per_answered_usd": float(per_answered) if per_answered is not None else None,
        "by_category": {
            key: {"calls": v["calls"], "units": v["units"], "usd": float(usd(v["micros"]) or 0)}
            for key, v in desk.items()
        },
        "matches_sandbox_log": billed == x_side,
        "sandbox_by_category": x_side if billed != x_side else "same",
        "seconds": round(elapsed, 1),
    }


if __name__ == "__main__":
    main()
