"""Negative sentiment measured: precision and recall of ``routing.classify.sentiment`` on the
hand-labelled questions in ``tests/data/sentiment_labelled.jsonl`` (see
``tests/data/README.md`` for how they were labelled), overall, per language, and on the
``tuning`` and ``held-out`` parts (the lexicon's choices were made looking at the first only).

The language is the label's (the detector's own accuracy is ``bench/classify_corpus.py``'s).

    .venv/bin/python bench/sentiment.py [--errors]

``--errors`` lists the false positives and false negatives on stderr. Prints its figures as
one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("SECRET_KEY", "bench-sentiment")
LABELLED = ROOT / "tests" / "data" / "sentiment_labelled.jsonl"


def _figures(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    tp = sum(1 for truth, guess in pairs if truth and guess)
    fp = sum(1 for truth, guess in pairs if guess and not truth)
    fn = sum(1 for truth, guess in pairs if truth and not guess)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision is not None and recall is not None and precision + recall
        else None
    )
    return {
        "n": len(pairs),
        "negative": sum(1 for truth, _ in pairs if truth),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": None if precision is None else round(precision, 3),
        "recall": None if recall is None else round(recall, 3),
        "f1": None if f1 is None else round(f1, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errors", action="store_true", help="list the misses on stderr")
    args = parser.parse_args()

    import django

    django.setup()
    from routing.classify.sentiment import sentiment_of, vader_compound
    from routing.classify.words import URGENCY_WORDS, words_of

    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    by_language: dict[str, list[tuple[bool, bool]]] = {}
    by_part: dict[str, list[tuple[bool, bool]]] = {}
    # What the detector improves on: VADER as shipped (its own "negative" cut, -0.05), and
    # the classifier's urgency words alone.
    vader_only: list[tuple[bool, bool]] = []
    urgency_only: list[tuple[bool, bool]] = []
    for row in rows:
        result = sentiment_of(row["text"], row["lang"])
        by_language.setdefault(row["lang"], []).append((row["negative"], result.negative))
        by_part.setdefault(row["part"], []).append((row["negative"], result.negative))
        if row["lang"] == "en":
            compound = vader_compound(row["text"])
            vader_only.append((row["negative"], compound <= -0.05))
        urgency_only.append((row["negative"], bool(set(words_of(row["text"])) & URGENCY_WORDS)))
        if args.errors and result.negative != row["negative"]:
            kind = "FP" if result.negative else "FN"
            print(kind, row["id"], result.score, result.cues, row["text"][:160], file=sys.stderr)
    # The cost per question, each call timed alone over 5 passes after the one above.
    timings = []
    for _ in range(5):
        for row in rows:
            start = time.perf_counter()
            sentiment_of(row["text"], row["lang"])
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    everything = [pair for pairs in by_language.values() for pair in pairs]
    print(
        json.dumps(
            {
                "bench": "sentiment",
                "file": str(LABELLED.relative_to(ROOT)),
                "overall": _figures(everything),
                **{lang: _figures(pairs) for lang, pairs in sorted(by_language.items())},
                **{part: _figures(pairs) for part, pairs in sorted(by_part.items())},
                "baseline_vader_as_shipped_en": _figures(vader_only),
                "baseline_urgency_words": _figures(urgency_only),
                "ms_p50": round(timings[len(timings) // 2], 3),
                "ms_p95": round(timings[int(len(timings) * 0.95)], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
