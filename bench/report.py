"""The month's first-response percentiles per store for one brand, over 2,000,000 questions
on PostgreSQL: through the reports' own query layer, and by one hand-written SQL query.

Builds a throw-away PostgreSQL database with one brand, 100 stores in 10 regions, 2,000
volunteers and a year of questions (``--questions``, 2,000,000 by default) written by
``INSERT ... SELECT generate_series`` with explicit ids: 85 % answered (each with its
reply, ``first_reply``/``first_response_at`` set as the desk sets them, first-response
times log-normal around 30 minutes with a long tail), 8 % dismissed, the rest open; a fifth
of the answers come from a store other than the question's routed store. Then
``VACUUM ANALYZE``, as autovacuum would have done on a table that size.

It times, warm (the median of ``--runs`` runs after one warm-up), the percentiles of the
last full month per store through ``helpdesk.reports.queries.response_percentiles_by``,
and the same percentiles by one hand-written query (``percentile_cont`` over the same rows,
the same definition), checks that both give the same numbers, and prints one JSON line:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce SECRET_KEY=x \\
        python bench/report.py [--questions 2000000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

ZONE = "America/Chicago"
STORES = 100
PEOPLE = 2_000
# The year of history ends here; the measured month is its last full month.
END = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Chicago
MONTH = (date(2026, 11, 1), date(2026, 11, 30))

RAW_SQL = """
SELECT COALESCE(r.store_id, q.store_id) AS store,
       count(*) AS answered,
       percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (
           ORDER BY GREATEST(0, EXTRACT(EPOCH FROM
               q.first_response_at - COALESCE(q.tweeted_at, q.received_at)))::float8)
FROM helpdesk_question q
LEFT JOIN helpdesk_reply r ON r.id = q.first_reply_id
WHERE q.brand_id = %s
  AND q.received_at >= %s AND q.received_at < %s
  AND q.first_response_at IS NOT NULL
GROUP BY 1
"""


def build(questions: int) -> dict[str, Any]:
    """One brand's year of questions, answers and people, by SQL."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from helpdesk.models import Brand, Role, Store, Volunteer, XAccount

    brand = Brand.objects.create(name="Bench", slug="bench-report", time_zone=ZONE)
    account = XAccount.objects.create(brand=brand, username="BenchCare", x_user_id="1")
    stores = Store.objects.bulk_create(
        Store(brand=brand, code=f"S{n:03d}", name=f"Store {n}", region=f"R{n % 10}")
        for n in range(STORES)
    )
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench{n}", password="!")  # noqa: S106 - unusable
        for n in range(PEOPLE)
    )
    Volunteer.objects.bulk_create(
        Volunteer(user=user, brand=brand, role=Role.VOLUNTEER, store=stores[n % STORES])
        for n, user in enumerate(users)
    )
    first_user, first_store = users[0].pk, stores[0].pk
    year = 365 * 86_400
    params: dict[str, Any] = {
        "n": questions,
        "brand": brand.pk,
        "account": account.pk,
        "end": END,
        "year": year,
        "stores": STORES,
        "store0": first_store,
        "people": PEOPLE,
        "user0": first_user,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            """
            CREATE TEMP TABLE bench_plan AS
            SELECT g AS id,
                   %(end)s::timestamptz - make_interval(secs => (1 - g::float8 / %(n)s) * %(year)s)
                       AS received_at,
                   random() * 120 AS lag,
                   random() AS outcome,
                   -- log-normal around 30 minutes (Box-Muller), at most 5 days
                   LEAST(432000, exp(ln(1800) + 1.1 * sqrt(-2 * ln(1 - random()))
                       * cos(2 * pi() * random()))) AS delay,
                   floor(random() * %(stores)s)::int AS routed,
                   floor(random() * %(people)s)::int AS author,
                   random() AS elsewhere
            FROM generate_series(1, %(n)s) AS g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO helpdesk_conversation (id, brand_id, x_conversation_id, started_at)
            SELECT id, %(brand)s, id::text, received_at FROM bench_plan
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO helpdesk_reply (
                id, question_id, author_id, account_id, store_id, text, language, state,
                created_at, state_changed_at, submitted_at, needs_review, review_reasons,
                lint, review_feedback, edited_by_reviewer, original_text,
                from_linked_account, from_x_user_id, from_username, priority, queued_at,
                scheduled_for, send_attempts, last_send_error, tweet_id, sent_at,
                failure_reason, deletion_reason)
            SELECT id, id, %(user0)s + author, %(account)s,
                   %(store0)s + CASE WHEN elsewhere < 0.2 THEN (routed + 7) %% %(stores)s
                                     ELSE routed END,
                   'Thanks! ^B', 'en', 'sent',
                   received_at + make_interval(secs => delay * 0.9),
                   received_at + make_interval(secs => delay),
                   received_at + make_interval(secs => delay * 0.9),
                   false, '[]'::jsonb, '{}'::jsonb, '', false, '', false, '', '', 2,
                   received_at + make_interval(secs => delay * 0.95),
                   received_at + make_interval(secs => delay * 0.95),
                   1, '', 'r' || id, received_at + make_interval(secs => delay), '', ''
            FROM bench_plan WHERE outcome < 0.85
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO helpdesk_question (
                id, brand_id, account_id, conversation_id, tweet_id, text, lang, tweeted_at,
                received_at, in_reply_to_tweet_id, in_reply_to_user_id, source, raw, state,
                state_changed_at, priority, sla_priority, sla_due_at, dismissed_reason,
                store_id, first_reply_id, first_response_at)
            SELECT id, %(brand)s, %(account)s, id, id::text, 'Where is my order?',
                   CASE WHEN id %% 5 = 0 THEN 'fr' ELSE 'en' END,
                   received_at - make_interval(secs => lag), received_at, '', '', 'mentions',
                   '{}'::jsonb,
                   CASE WHEN outcome < 0.85 THEN 'answered'
                        WHEN outcome < 0.93 THEN 'dismissed' ELSE 'queued' END,
                   received_at, 2, 2, received_at + interval '4 hours',
                   CASE WHEN outcome >= 0.85 AND outcome < 0.93 THEN 'spam or ad: links only'
                        ELSE '' END,
                   %(store0)s + routed,
                   CASE WHEN outcome < 0.85 THEN id END,
                   CASE WHEN outcome < 0.85 THEN received_at + make_interval(secs => delay) END
            FROM bench_plan
            """,
            params,
        )
        cursor.execute("DROP TABLE bench_plan")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    return {"brand": brand}


def timed(run: Any, runs: int) -> tuple[Any, list[float]]:
    result = run()  # warm-up: caches, plans
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        timings.append(time.perf_counter() - started)
    return result, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from zoneinfo import ZoneInfo

    from django.db import connection

    from helpdesk.reports.period import Period
    from helpdesk.reports.queries import Scope, response_percentiles_by
    from helpdesk.reports.report import build_report

    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL=postgres://... : this measures PostgreSQL")
    # A throw-away database named after the configured one: helpforce -> helpforce_report.
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_report"
    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        world = build(args.questions)
        load_s = time.perf_counter() - started
        period = Period(*MONTH, ZoneInfo(ZONE))
        scope = Scope(brand_id=world["brand"].pk, period=period)

        def layer() -> dict[Any, tuple[int, list[float | None]]]:
            found = response_percentiles_by(scope, "store")
            return {
                key: (value.count, [value.p50, value.p90, value.p95])
                for key, value in found.items()
            }

        def raw() -> dict[Any, tuple[int, list[float | None]]]:
            with connection.cursor() as cursor:
                cursor.execute(RAW_SQL, [world["brand"].pk, period.start, period.end])
                return {store: (count, list(p)) for store, count, p in cursor.fetchall()}

        ours, layer_times = timed(layer, args.runs)
        theirs, raw_times = timed(raw, args.runs)
        # For the record: the whole report page's figures for that month (every section),
        # which the goal does not cover.
        _report, report_times = timed(lambda: build_report(scope), 2)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM helpdesk_question WHERE brand_id = %s "
                "AND received_at >= %s AND received_at < %s",
                [world["brand"].pk, period.start, period.end],
            )
            (in_month,) = cursor.fetchone()
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)

    mismatches = [
        store
        for store in set(ours) | set(theirs)
        if store not in ours
        or store not in theirs
        or ours[store][0] != theirs[store][0]
        or any(
            a is None or b is None or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
            for a, b in zip(ours[store][1], theirs[store][1], strict=True)
        )
    ]
    warm_s = statistics.median(layer_times)
    raw_s = statistics.median(raw_times)
    detail = {
        "load_s": round(load_s, 1),
        "questions_in_month": in_month,
        "stores": len(ours),
        "layer_runs_s": [round(t, 3) for t in layer_times],
        "raw_runs_s": [round(t, 3) for t in raw_times],
        "ratio": round(warm_s / raw_s, 2),
        "mismatches": len(mismatches),
        "whole_report_runs_s": [round(t, 2) for t in report_times],
    }
    print(json.dumps(detail), file=sys.stderr)
    if mismatches:
        sys.exit(f"the query layer and the hand-written SQL disagree on stores {mismatches[:5]}")
    print(
        json.dumps(
            {
                "bench": "report",
                "questions": args.questions,
                "warm_s": round(warm_s, 3),
                "raw_sql_s": round(raw_s, 3),
                "ratio": detail["ratio"],
                "questions_in_month": in_month,
                "whole_report_s": round(statistics.median(report_times), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
