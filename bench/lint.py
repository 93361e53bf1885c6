"""Draft linter speed: drafts linted per second, and the latency of linting one draft.

The composer lints as the volunteer types, so what matters is one draft's latency (goal: p99
under 5 ms). The mix is every agent reply in the corpus (583, most with a link, about one in
ten over 280 characters) plus French, CJK, emoji, long and personal-data drafts, linted with
a fully configured brand (allowed domains, hashtag, order pattern, review and blocked terms,
signature). Each ``lint`` call is timed alone with ``perf_counter_ns`` after one warm-up pass.
No database and no Django settings are needed.

    .venv/bin/python bench/lint.py [--rounds N]

Also prints how the corpus's agent replies fare with the default rules (a figure to report,
not a target). Prints its figures as one JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from charter.linter import LintConfig, lint  # noqa: E402

CORPUS = ROOT / "helpdesk/x/sandbox/data/twitter-care-dev.json"

BRAND = LintConfig(
    allowed_domains=("northwind.com", "support.google.com", "helpx.adobe.com"),
    disclosure_hashtag="#NorthwindHelp",
    order_number_patterns=(r"\bNW-\d{8}\b",),
    extra_review_terms=("warranty claim", "garantie"),
    blocked_terms=("stupid", "idiot"),
    brand_handles=("NorthwindHelp",),
    customer_handle="ann_b",
)

EXTRA = [
    "@ann_b Votre remboursement sera effectué sous 5 jours ouvrés. Appelez le 06 12 34 56 78 "
    "ou écrivez à marie.dupont@orange.fr ^AB",
    "@ann_b Le délai est normalement de 3 à 5 jours. Plus d'infos : https://northwind.com/aide "
    "#NorthwindHelp ^AB",
    "@ann_b Un geste commercial de 15 € est possible, -20 % sur le rayon TV, commande n°48213 ^AB",
    "@ann_b ご迷惑をおかけして申し訳ございません。" * 6,
    "@ann_b 😀🙏🏽👨\u200d👩\u200d👧 Thanks for your patience! " * 8,
    "@ann_b We'll refund you: call (415) 555-2671, card 4111 1111 1111 1111, order NW-12345678, "
    "see https://bit.ly/3xYz and ask @bob_c ^AB",
    "@ann_b " + "This is a long reply that keeps going and going. " * 12,
    "@ann_b Delivery usually takes about 3 to 5 business days; it will ship tomorrow. ^AB",
    "@ann_b Is the battery at 20% when it stops? Did the charger smoke or catch fire? ^AB",
    "@ann_b Merci ! 一二三四五六七八九十 https://northwind.com/" + "x" * 200 + " ^AB",
]


def corpus_replies() -> list[tuple[str, str]]:
    """Every agent reply in the corpus, once: (brand handle, text)."""
    replies: dict[str, tuple[str, str]] = {}
    for dialog in json.loads(CORPUS.read_text(encoding="utf-8")):
        company = dialog["dialogHeader"]["company"]
        for turn in dialog["dialogContent"]:
            if "agent" in turn:
                replies[turn["tweet_ID"]] = (company, turn["message"])
        linked = dialog.get("agentURL")
        if linked:
            replies.setdefault(linked["tweet_ID"], (company, linked["url_utterance"]))
    return list(replies.values())


def percentile(sorted_ns: list[int], fraction: float) -> float:
    index = min(len(sorted_ns) - 1, round(fraction * (len(sorted_ns) - 1)))
    return sorted_ns[index] / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="Passes over the mix")
    args = parser.parse_args()

    replies = corpus_replies()
    mix = [(text, "en") for _, text in replies] + [
        (text, "fr" if index % 2 == 0 else "en") for index, text in enumerate(EXTRA)
    ]

    started = time.perf_counter_ns()
    lint("warm-up", LintConfig(blocked_terms=("a fresh configuration",)))
    compile_ms = (time.perf_counter_ns() - started) / 1e6

    for text, language in mix:  # warm-up: caches, compiled patterns, phone metadata
        lint(text, BRAND, language=language, signature="^AB")

    latencies: list[int] = []
    clock = time.perf_counter_ns
    run_started = clock()
    for _ in range(args.rounds):
        for text, language in mix:
            before = clock()
            lint(text, BRAND, language=language, signature="^AB")
            latencies.append(clock() - before)
    elapsed_s = (clock() - run_started) / 1e9
    latencies.sort()

    verdicts = Counter(
        lint(text, LintConfig(brand_handles=(company,))).verdict.value for company, text in replies
    )
    figures = {
        "bench": "lint",
        "drafts": len(latencies),
        "drafts_per_s": round(len(latencies) / elapsed_s, 1),
        "p50_ms": round(percentile(latencies, 0.50), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(latencies[-1] / 1e6, 3),
        "new_config_first_lint_ms": round(compile_ms, 3),
        "corpus_replies": len(replies),
        "corpus_verdicts": {v: verdicts.get(v, 0) for v in ("ok", "advice", "review", "block")},
    }
    print(
        f"{figures['drafts']} drafts in {elapsed_s:.2f} s: {figures['drafts_per_s']} drafts/s, "
        f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms (goal < 5 ms)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
