"""Routing and claims: decisions per second and claim throughput on PostgreSQL.

Builds a throw-away PostgreSQL database with one brand, 3,000 volunteers on shift (certified,
charter accepted: the gate passes), 100 stores in 10 regions, 40 topics (pool, offer and
sticky; some local) and 200 routing rules, then:

1. routing: for each of 1,000 queued questions, one decision = classification (when
   ``routing.classify`` exists) + the eligible volunteers + the placement decision (pool,
   offer to whom, sticky back to whom), each timed alone, against an index of the 3,000
   people built once (its build is timed separately, cold and warm);
2. claims: 50 threads, each its own volunteer and its own database connection, claim at
   random from 2,000 queued questions at once through ``claim_question``; every call is
   timed; double claims are counted from the results and checked against the audit log.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce SECRET_KEY=x python bench/route.py

Prints its figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crowd import certified_crowd, p95  # noqa: E402 - needs the project on the path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


def build_world(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from charter.acceptance import publish_version
    from helpdesk.models import Brand, Conversation, Question, Source, Store
    from routing.models import (
        Placement,
        RoutingRule,
        RoutingSettings,
        RuleEffect,
        RuleKind,
        Topic,
    )

    rng = random.Random(7)
    now = timezone.now()
    brand = Brand.objects.create(name="Bench", slug="bench-route")
    RoutingSettings.objects.create(
        brand=brand, default_placement=Placement.POOL, max_open_claims=1_000
    )
    version = publish_version(
        brand.pk, title="Charter", body="Be kind.", is_material=True, actor=None
    )
    stores = Store.objects.bulk_create(
        Store(brand=brand, code=f"S{n:03d}", name=f"Store {n}", region=f"R{n % 10}")
        for n in range(100)
    )
    modes = [Placement.POOL, Placement.OFFER, Placement.STICKY, ""]
    topics = Topic.objects.bulk_create(
        Topic(
            brand=brand,
            slug=f"topic-{n}",
            name=f"Topic {n}",
            placement=modes[n % 4],
            is_local=n % 8 == 0,
        )
        for n in range(40)
    )
    RoutingRule.objects.bulk_create(
        RoutingRule(
            brand=brand,
            name=f"rule {n}",
            kind=[RuleKind.KEYWORD, RuleKind.PHRASE, RuleKind.HASHTAG, RuleKind.REGEX][n % 4],
            pattern=[f"word{n}", f"my order {n}", f"#tag{n}", rf"\border{n}\d+\b"][n % 4],
            effect=RuleEffect.TOPIC if n % 10 else RuleEffect.PRIORITY,
            topic=topics[n % 40],
            position=n,
        )
        for n in range(200)
    )
    users = certified_crowd(brand, version, args.people, stores=stores, topics=topics, rng=rng)
    n_questions = args.questions + args.claim_questions
    conversations = Conversation.objects.bulk_create(
        Conversation(brand=brand, x_conversation_id=str(10**15 + n)) for n in range(n_questions)
    )
    texts = ["where is my order 12?", "word3 refund please #tag7", "order55123 late", "hello"]
    questions = Question.objects.bulk_create(
        Question(
            brand=brand,
            conversation=conversations[n],
            tweet_id=str(10**17 + n),
            text=texts[n % len(texts)],
            # The claim pool is open to every claimer: no topic, no store, undetermined language
            lang=["en", "en", "fr", "es", "und"][n % 5] if n < args.questions else "und",
            source=Source.MENTIONS,
            state="queued",
            priority=n % 4,
            received_at=now - timedelta(seconds=n),
            topic=topics[n % 40] if n % 3 and n < args.questions else None,
            store=stores[n % len(stores)] if n % 2 and n < args.questions else None,
        )
        for n in range(n_questions)
    )
    return {"brand": brand, "users": users, "questions": questions}


def bench_routing(world: dict[str, Any]) -> dict[str, Any]:
    from routing.eligibility import EligibilityIndex, forget_gate_answers
    from routing.placement import _Rotation, decide

    brand = world["brand"]
    questions = world["questions"][: world["n_routing"]]
    classify: Any = None
    try:
        from routing import classify as classify_module  # another engineer's module

        rules = classify_module.compile_rules(brand.pk)

        def classify(question: Any) -> Any:
            return classify_module.classify(question.text, lang_hint=question.lang, compiled=rules)
    except (ImportError, AttributeError):
        classify = None

    forget_gate_answers()
    started = time.perf_counter()
    index = EligibilityIndex.build(brand.pk)
    cold_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    index = EligibilityIndex.build(brand.pk)
    warm_ms = (time.perf_counter() - started) * 1000
    rotation = _Rotation(index, index_now())
    timings: list[float] = []
    modes: Counter[str] = Counter()
    sizes: list[int] = []
    started = time.perf_counter()
    for question in questions:
        t0 = time.perf_counter_ns()
        if classify is not None:
            classify(question)
        eligible = index.eligible_for(question)
        mode, _user = decide(question, index, rotation)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        modes[mode] += 1
        sizes.append(len(eligible))
    elapsed = time.perf_counter() - started
    return {
        "classified": classify is not None,
        "index_build_cold_ms": round(cold_ms, 1),
        "index_build_warm_ms": round(warm_ms, 1),
        "decisions": len(timings),
        "decisions_per_s": round(len(timings) / elapsed, 1),
        "route_p50_ms": round(statistics.median(timings), 3),
        "route_p95_ms": round(p95(timings), 3),
        "route_max_ms": round(max(timings), 3),
        "modes": dict(modes),
        "eligible_median": statistics.median(sizes),
    }


def index_now() -> Any:
    from django.utils import timezone

    return timezone.now()


def bench_claims(
    world: dict[str, Any], claimers: int, per_claimer: int, rate: float
) -> dict[str, Any]:
    """``rate`` > 0: the claimers together aim at ``rate`` claims per second (each waits its
    turn, as people clicking do); 0: every claimer claims as fast as it can (saturation)."""
    from django.db import connection

    from helpdesk.models import AuditEvent, Question
    from routing.claims import ClaimResult, claim_question

    question_ids = [q.pk for q in world["questions"][world["n_routing"] :]]
    users = world["users"][:claimers]
    latencies: list[list[float]] = [[] for _ in users]
    results: list[list[ClaimResult]] = [[] for _ in users]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(users) + 1)

    def run(n: int) -> None:
        rng = random.Random(n)
        order = rng.sample(question_ids, per_claimer)
        interval = len(users) / rate if rate > 0 else 0.0
        try:
            barrier.wait()
            next_at = time.perf_counter() + rng.random() * interval
            for question_id in order:
                if interval:
                    pause = next_at - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    next_at += interval
                t0 = time.perf_counter_ns()
                result = claim_question(question_id, users[n])
                latencies[n].append((time.perf_counter_ns() - t0) / 1e6)
                results[n].append(result)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(users))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"a claimer failed: {errors[0]!r}")
    flat = [ms for per in latencies for ms in per]
    winners: dict[int, list[int]] = {}
    for n, per in enumerate(results):
        for result in per:
            if result.won:
                winners.setdefault(result.question_id, []).append(users[n].pk)
    holders = dict(Question.objects.filter(pk__in=list(winners)).values_list("pk", "claimed_by_id"))
    events = Counter(
        AuditEvent.objects.filter(
            kind="question.claimed", question_id__in=question_ids
        ).values_list("question_id", flat=True)
    )
    double = sum(
        1
        for pk, who in winners.items()
        if len(who) > 1 or events[pk] != 1 or holders.get(pk) != who[0]
    ) + sum(1 for pk, count in events.items() if count > 1 and pk not in winners)
    losers = [r for per in results for r in per if not r.won]
    return {
        "claimers": len(users),
        "claim_calls": len(flat),
        "claims_won": len(winners),
        "lost_told_holder": sum(1 for r in losers if r.holder_display),
        "lost": len(losers),
        "claims_per_s": round(len(flat) / elapsed, 1),
        "won_per_s": round(len(winners) / elapsed, 1),
        "claim_p50_ms": round(statistics.median(flat), 2),
        "claim_p95_ms": round(p95(flat), 2),
        "double_claims": double,
        "seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=3_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--claim-questions", type=int, default=2_000)
    parser.add_argument("--claimers", type=int, default=50)
    parser.add_argument("--per-claimer", type=int, default=80)
    parser.add_argument(
        "--rate", type=float, default=0.0, help="claims/s the claimers aim at; 0: flat out"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... : this benchmark measures PostgreSQL")

    import django

    django.setup()
    from django.db import connection

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        world = build_world(args)
        world["n_routing"] = args.questions
        routing = bench_routing(world)
        claims = bench_claims(world, args.claimers, args.per_claimer, args.rate)
    finally:
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps({"routing": routing, "claims": claims}), file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "route",
                "route_p95_ms": routing["route_p95_ms"],
                "claims_per_s": claims["claims_per_s"],
                "claim_p95_ms": claims["claim_p95_ms"],
                "double_claims": claims["double_claims"],
            }
        )
    )


if __name__ == "__main__":
    main()
