"""The spike detector's cost per run: ``helpdesk.monitoring.spikes.detect_spikes`` over many
brands with weeks of history, on PostgreSQL.

Builds a throw-away PostgreSQL database with ``--brands`` brands (time zones alternating
Europe/Paris and America/New_York), each with ``--weeks`` weeks of questions at ``--rate`` an
hour (every fifth negative), written by ``INSERT ... SELECT generate_series``, then
``VACUUM ANALYZE``. At that rate every brand's last hour has enough questions for the
detector to learn its baseline (the expensive path: one count per past week). It times,
warm (the median of ``--runs`` runs after one warm-up), a run where nothing spikes, and a
run where one brand has a storm of 60 negative questions (the alert stored, audited,
announced and e-mailed to the locmem backend), counting the queries of each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce SECRET_KEY=x \\
        python bench/spikes.py [--brands 50] [--weeks 9] [--rate 12] [--runs 7]

Prints one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def build(brands: int, weeks: int, rate: int) -> list[Any]:
    from django.db import connection

    from helpdesk.models import Brand, Conversation

    made = []
    hours = weeks * 7 * 24
    with connection.cursor() as cursor:
        for n in range(brands):
            zone = "Europe/Paris" if n % 2 == 0 else "America/New_York"
            brand = Brand.objects.create(name=f"Bench {n}", slug=f"bench-{n}", time_zone=zone)
            conversation = Conversation.objects.create(brand=brand, x_conversation_id=f"c{n}")
            cursor.execute(
                """
                INSERT INTO helpdesk_question (
                    brand_id, conversation_id, tweet_id, text, lang, received_at,
                    in_reply_to_tweet_id, in_reply_to_user_id, source, raw, state,
                    state_changed_at, priority, dismissed_reason, is_negative)
                SELECT %(brand)s, %(conversation)s, 't' || g, 'Where is my order?', 'en',
                       %(start)s + make_interval(secs => g * %(step)s), '', '', 'mentions',
                       '{}'::jsonb, 'answered', %(start)s, 2, '', g %% 5 = 0
                FROM generate_series(0, %(count)s - 1) AS g
                """,
                {
                    "brand": brand.pk,
                    "conversation": conversation.pk,
                    "start": NOW - timedelta(hours=hours),
                    "step": 3600.0 / rate,
                    "count": hours * rate,
                },
            )
            made.append(brand)
        cursor.execute("VACUUM (ANALYZE)")
    return made


def timed(run: Any, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run()  # warm-up: caches, plans
    timings = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            timings.append(time.perf_counter() - started)
        queries = len(captured)
    return timings, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--brands", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=9)
    parser.add_argument("--rate", type=int, default=12)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from helpdesk.models import Conversation, Question, Source
    from helpdesk.monitoring.models import SpikeAlert
    from helpdesk.monitoring.spikes import detect_spikes
    from helpdesk.states import QuestionState

    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... : this measures PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_spikes"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        brands = build(args.brands, args.weeks, args.rate)
        load_s = time.perf_counter() - started
        rows = Question.objects.count()

        quiet, quiet_queries = timed(lambda: detect_spikes(NOW), args.runs)
        assert SpikeAlert.objects.count() == 0

        stormy = brands[0]
        conversation = Conversation.objects.create(brand=stormy, x_conversation_id="storm")
        Question.objects.bulk_create(
            Question(
                brand=stormy,
                conversation=conversation,
                tweet_id=f"s{k}",
                text=f"@Care charged twice, this is ridiculous!! {k}",
                lang="en",
                source=Source.MENTIONS,
                state=QuestionState.QUEUED,
                received_at=NOW - timedelta(minutes=30) + timedelta(seconds=30 * k),
                is_negative=True,
            )
            for k in range(60)
        )

        def storm() -> None:
            SpikeAlert.objects.all().delete()
            detected = detect_spikes(NOW).detected
            assert len(detected) == 1

        storm_times, storm_queries = timed(storm, args.runs)
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    print(
        json.dumps(
            {
                "bench": "spikes",
                "brands": args.brands,
                "weeks": args.weeks,
                "rate_per_hour": args.rate,
                "questions": rows,
                "load_s": round(load_s, 1),
                "quiet_run_ms_p50": round(statistics.median(quiet) * 1000, 1),
                "quiet_run_ms_max": round(max(quiet) * 1000, 1),
                "quiet_run_queries": quiet_queries,
                "storm_run_ms_p50": round(statistics.median(storm_times) * 1000, 1),
                "storm_run_queries": storm_queries,
                "per_brand_ms": round(statistics.median(quiet) * 1000 / args.brands, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
