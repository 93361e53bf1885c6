"""Ingestion throughput: questions per second from X sandbox pages of 100 into PostgreSQL.

The sandbox runs in its own process (as X would), holding N tweets that mention one care
account; this process polls it through tweepy exactly as the desk does (gateway -> normalise ->
ingest, one transaction per page with the cursor) into a throw-away PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpforce python bench/ingest.py [--tweets N]

Prints its figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

ACCOUNT = {
    "username": "BenchCare",
    "x_user_id": "1700000000000000001",
    "bearer_token": "bench-bearer",
    "consumer_key": "bench-ck",
    "consumer_secret": "bench-cs",
    "access_token": "1700000000000000001-bench",
    "access_token_secret": "bench-ats",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    spec = ":".join(
        ACCOUNT[k]
        for k in (
            "username",
            "x_user_id",
            "bearer_token",
            "consumer_key",
            "consumer_secret",
            "access_token",
            "access_token_secret",
        )
    )
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "xsandbox",
            "--port",
            str(port),
            "--rate",
            "0",
            "--account",
            spec,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_sandbox/stats", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the X sandbox did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=int, default=10_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://... : this benchmark measures PostgreSQL")

    port = free_port()
    os.environ["X_API_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ["X_MAX_PAGES_PER_POLL"] = str(args.tweets // 100 + 10)
    sandbox = start_sandbox(port)
    try:
        base = f"http://127.0.0.1:{port}/_sandbox"
        customers = [f"benchcust{n}" for n in range(200)]
        for name in customers:
            requests.post(f"{base}/users", json={"username": name, "name": name}, timeout=10)
        tweets = [
            {
                "author_username": customers[n % len(customers)],
                "text": f"@{ACCOUNT['username']} my order #{n} has not arrived, can you help? 📦",
            }
            for n in range(args.tweets)
        ]
        for start in range(0, len(tweets), 5_000):
            response = requests.post(
                f"{base}/tweets", json={"tweets": tweets[start : start + 5_000]}, timeout=120
            )
            if response.status_code != 201:
                raise SystemExit(f"the sandbox refused the tweets: {response.text[:300]}")

        import django

        django.setup()
        from django.db import connection

        from helpdesk.models import Brand, Question, XAccount
        from helpdesk.x.polling import poll_account

        test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            brand = Brand.objects.create(name="Bench", slug="bench")
            account = XAccount.objects.create(brand=brand, **ACCOUNT)
            started = time.perf_counter()
            pages = 0
            while Question.objects.count() < args.tweets:
                outcome = poll_account(account.pk)
                pages += outcome.pages
                if outcome.error:
                    raise SystemExit(f"poll failed: {outcome.error}")
                if outcome.result.new == 0:
                    break
            elapsed = time.perf_counter() - started
            stored = Question.objects.count()
        finally:
            connection.creation.destroy_test_db(test_db, verbosity=0)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "bench": "ingest",
                "questions": stored,
                "questions_per_s": round(stored / elapsed, 1),
                "peak_rss_mb": round(peak_rss_mb, 1),
                "pages": pages,
                "seconds": round(elapsed, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
