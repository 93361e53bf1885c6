"""Routing quality on real conversations: precision and recall of urgent priority, noise
(dismissal) and grouping against the hand-labelled set ``tests/data/routing_labelled.jsonl``.

The whole corpus (``tests/corpus_replay.py``: every customer message of the 525
conversations, oldest first) is ingested through the real path (``ingest_batch``: normalise,
classify with the stored history, dismiss or queue, group) into a throw-away SQLite database
for a brand whose care accounts are the corpus's companies; then the labelled questions'
outcomes are compared with their labels, overall and per part (``tuning`` / ``held-out``).

* urgent: predicted when the priority is above normal (0 or 1); also given for 0 alone.
* noise: predicted when the question was dismissed.
* grouping: over pairs of labelled questions; a pair the desk grouped together is right when
  both carry the same hand label ``group``.

    .venv/bin/python bench/routing_quality.py [--chunk 100] [--misses]

Prints its figures as one JSON line at the end (``--misses`` lists errors on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("SECRET_KEY", "bench-routing-quality")
os.environ.pop("DATABASE_URL", None)

LABELLED = ROOT / "tests" / "data" / "routing_labelled.jsonl"
# Labelled blind after the routing changes were finished, and never used to change them.
FRESH = ROOT / "tests" / "data" / "routing_labelled_fresh.jsonl"
# The last blind part: labelled while the changes above were made, measured once after them.
FINAL = ROOT / "tests" / "data" / "routing_labelled_final.jsonl"


def _pr(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _binary(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    """``pairs`` of (label, predicted)."""
    tp = sum(1 for label, got in pairs if label and got)
    fp = sum(1 for label, got in pairs if got and not label)
    fn = sum(1 for label, got in pairs if label and not got)
    return _pr(tp, fp, fn)


def _grouping(rows: list[dict[str, Any]], group_of: dict[str, int | None]) -> dict[str, Any]:
    tp = fp = fn = 0
    for a, b in combinations(rows, 2):
        same_label = bool(a["group"]) and a["group"] == b["group"]
        ga, gb = group_of.get(a["id"]), group_of.get(b["id"])
        grouped = ga is not None and ga == gb
        tp += same_label and grouped
        fp += grouped and not same_label
        fn += same_label and not grouped
    return _pr(tp, fp, fn)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)

    from helpdesk.models import Brand, Question, Source, XAccount
    from helpdesk.x.ingest import ingest_batch
    from helpdesk.x.normalize import parse_v2_response
    from tests.corpus_replay import corpus_companies, corpus_tweets

    brand = Brand.objects.create(name="Corpus", slug="corpus")
    care_ids = {}
    for n, company in enumerate(corpus_companies()):
        XAccount.objects.create(brand=brand, username=company[:15], x_user_id=str(7_000 + n))
        care_ids[company] = str(7_000 + n)
    tweets = sorted(corpus_tweets(care_ids), key=lambda t: int(t["id"]))
    for start in range(0, len(tweets), args.chunk):
        batch = parse_v2_response({"data": tweets[start : start + args.chunk]})
        ingest_batch(brand, batch, source=Source.FILE)

    outcome = {
        tweet_id: (state, priority, reason, group_id)
        for tweet_id, state, priority, reason, group_id in Question.objects.filter(
            brand=brand
        ).values_list("tweet_id", "state", "priority", "dismissed_reason", "group_id")
    }
    rows = [
        json.loads(line)
        for labelled in (LABELLED, FRESH, FINAL)
        for line in labelled.read_text(encoding="utf-8").splitlines()
    ]
    group_of: dict[str, int | None] = {r["id"]: outcome[r["id"]][3] for r in rows}
    figures: dict[str, Any] = {"bench": "routing_quality", "labelled": len(rows)}
    for part in ("all", "tuning", "held-out", "fresh", "final"):
        chosen = [r for r in rows if part in ("all", r["part"])]
        urgent = [(r["urgent"], outcome[r["id"]][1] <= 1) for r in chosen]
        urgent0 = [(r["urgent"], outcome[r["id"]][1] == 0) for r in chosen]
        noise = [(r["noise"], outcome[r["id"]][0] == "dismissed") for r in chosen]
        figures[part] = {
            "questions": len(chosen),
            "urgent": _binary(urgent),
            "urgent_p0_only": _binary(urgent0),
            "noise": _binary(noise),
            "grouping": _grouping(chosen, group_of),
        }
    priorities: dict[int, int] = defaultdict(int)
    for _, priority, _, _ in outcome.values():
        priorities[priority] += 1
    figures["corpus_questions"] = len(outcome)
    figures["corpus_priorities"] = dict(sorted(priorities.items()))
    figures["corpus_dismissed"] = sum(1 for o in outcome.values() if o[0] == "dismissed")
    # The corpus is English: any other language is a misguess (issue 15 item 5).
    languages: dict[str, int] = defaultdict(int)
    for lang in Question.objects.filter(brand=brand).values_list("lang", flat=True):
        languages[lang] += 1
    figures["corpus_languages"] = dict(sorted(languages.items()))
    if args.misses:
        for r in rows:
            state, priority, reason, group_id = outcome[r["id"]]
            text = r["text"].replace("\n", " ")[:140]
            if r["noise"] != (state == "dismissed"):
                print("NOISE", r["part"], r["noise"], reason, "|", text, file=sys.stderr)
            if r["urgent"] != (priority <= 1):
                print("URGENT", r["part"], r["urgent"], priority, "|", text, file=sys.stderr)
        members: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            found = group_of[r["id"]]
            if found is not None:
                members[found].append(r)
        for group_id, grouped in members.items():
            labels = {r["group"] for r in grouped}
            if len(grouped) > 1 and (len(labels) > 1 or "" in labels):
                for r in grouped:
                    label = r["group"] or "-"
                    print("GROUP", group_id, label, "|", r["text"][:100], file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
