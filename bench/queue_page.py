"""The queue page's server time with 1,000 and with 100,000 open questions on PostgreSQL.

Builds a throw-away PostgreSQL database with one brand, 20 topics, 100 stores, 3,000
volunteers on shift (certified, charter accepted: the gate passes), one of whom is measured;
loads 1,000 queued questions (mixed topics, languages, stores, priorities, ages), times
``GET /queue/`` through Django's test client (30 requests after 3 warm-ups, server side:
middleware, view, queries, template), then grows the queue to 100,000 and times it again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce SECRET_KEY=x \
        python bench/queue_page.py

Prints its figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.crowd import certified_crowd, p95  # noqa: E402 - needs the project on the path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

BATCH = 5_000


def build_people(people: int) -> dict[str, Any]:

    from charter.acceptance import publish_version
    from helpdesk.models import Brand, Store
    from routing.models import Placement, RoutingSettings, Topic

    rng = random.Random(7)
    brand = Brand.objects.create(name="Bench", slug="bench-queue")
    RoutingSettings.objects.create(brand=brand, default_placement=Placement.POOL)
    version = publish_version(
        brand.pk, title="Charter", body="Be kind.", is_material=True, actor=None
    )
    stores = Store.objects.bulk_create(
        Store(brand=brand, code=f"S{n:03d}", name=f"Store {n}", region=f"R{n % 10}")
        for n in range(100)
    )
    topics = Topic.objects.bulk_create(
        Topic(brand=brand, slug=f"topic-{n}", name=f"Topic {n}", is_local=n % 8 == 0)
        for n in range(20)
    )
    users = certified_crowd(brand, version, people, stores=stores, topics=topics, rng=rng)
    return {"brand": brand, "stores": stores, "topics": topics, "user": users[2]}


def add_questions(world: dict[str, Any], start: int, stop: int) -> None:
    from django.utils import timezone

    from helpdesk.models import Conversation, Customer, Question, Source

    rng = random.Random(start)
    now = timezone.now()
    brand, stores, topics = world["brand"], world["stores"], world["topics"]
    for low in range(start, stop, BATCH):
        high = min(low + BATCH, stop)
        conversations = Conversation.objects.bulk_create(
            Conversation(brand=brand, x_conversation_id=str(10**15 + n)) for n in range(low, high)
        )
        customers = Customer.objects.bulk_create(
            Customer(x_user_id=str(10**12 + n), username=f"c{n}", name=f"Customer {n}")
            for n in range(low, high)
        )
        Question.objects.bulk_create(
            Question(
                brand=brand,
                conversation=conversations[n - low],
                customer=customers[n - low],
                tweet_id=str(10**17 + n),
                text=f"@BenchCare where is my order {n}?",
                lang=rng.choice(["en", "en", "en", "fr", "es", "de", "und"]),
                source=Source.MENTIONS,
                state="queued",
                priority=rng.choice([0, 1, 2, 2, 2, 3, 3]),
                received_at=now - timedelta(seconds=rng.randrange(0, 14 * 86_400)),
                topic=topics[rng.randrange(20)] if rng.random() < 0.9 else None,
                store=stores[rng.randrange(100)] if rng.random() < 0.5 else None,
            )
            for n in range(low, high)
        )


def analyze(*, vacuum: bool) -> None:
    """Fresh statistics; with ``vacuum``, also the visibility map that autovacuum keeps for
    a table that is mostly inserted into (PostgreSQL 13+), which lets the counts read the
    index alone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")


def measure(user: Any, *, warm: int = 3, runs: int = 30) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    for _ in range(warm):
        assert client.get("/queue/").status_code == 200
    timings: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/queue/")
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/queue/").content.decode()
    return {
        "ms": round(statistics.median(timings), 1),
        "p95_ms": round(p95(timings), 1),
        "queries": len(captured.captured_queries),
        "rows": page.count('class="question"'),
        "slowest_sql": sorted(
            ((float(q["time"]) * 1000, q["sql"][:160]) for q in captured.captured_queries),
            reverse=True,
        )[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=3_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument(
        "--no-vacuum",
        action="store_true",
        help="only ANALYZE after each load: the visibility map is not set yet",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... : this measures PostgreSQL")
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    # A throw-away database named after the configured one: helpforce_q -> helpforce_q_bench.
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        world = build_people(args.people)
        add_questions(world, 0, args.small)
        analyze(vacuum=not args.no_vacuum)
        small = measure(world["user"])
        add_questions(world, args.small, args.large)
        analyze(vacuum=not args.no_vacuum)
        large = measure(world["user"])
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)
    print(json.dumps({"small": small, "large": large}), file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "queue_page",
                "ms_1k": small["ms"],
                "ms_100k": large["ms"],
                "queries_per_request": large["queries"],
                "p95_ms_1k": small["p95_ms"],
                "p95_ms_100k": large["p95_ms"],
                "queries_1k": small["queries"],
                "rows_shown": large["rows"],
                "ratio": round(large["ms"] / small["ms"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
