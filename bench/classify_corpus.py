"""Classification on the corpus: how many customer messages are recognised as questions, the
detector's language accuracy on English and French questions, and the time per question.

The English set is the first customer message of each of the corpus's conversations
(``helpdesk/x/sandbox/data/twitter-care-dev.json``), with the brand's mention replaced by a
demo care handle as the sandbox does; the French set is ``french_questions.json`` (questions
and follow-ups). Language is measured without X's ``lang`` (the detector decides) and with it
(X's value is taken as given). The brand has 200 rules (40 topics), as in the routing goal.
No database: the rules are compiled from rows in memory.

    .venv/bin/python bench/classify_corpus.py [--rounds N] [--misses K]

Prints its figures as one JSON line at the end.
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
os.environ.setdefault("SECRET_KEY", "bench-classify-corpus")

HANDLE = "DemoCare"
TOPIC_WORDS = [
    "order",
    "delivery",
    "refund",
    "account",
    "password",
    "login",
    "billing",
    "payment",
    "warranty",
    "repair",
    "store",
    "stock",
    "tv",
    "phone",
    "laptop",
    "tablet",
    "camera",
    "printer",
    "router",
    "wifi",
    "internet",
    "app",
    "update",
    "install",
    "subscription",
    "cancel",
    "return",
    "exchange",
    "price",
    "coupon",
    "gift",
    "card",
    "membership",
    "pickup",
    "install",
    "appointment",
    "tracking",
    "shipping",
    "invoice",
    "commande",
    "livraison",
    "remboursement",
    "garantie",
]


def demo_rules() -> list[tuple[Any, ...]]:
    """200 rules: 40 topics with keyword, phrase, hashtag and regex rules, priority and
    noise rules, and a handle rule, in the row shape of ``compile_rule_rows``."""
    rows: list[tuple[Any, ...]] = []
    pk = 0

    def add(name: str, kind: str, pattern: str, effect: str, topic: int | None) -> None:
        nonlocal pk
        pk += 1
        rows.append((pk, name, kind, pattern, effect, topic, 1, "", pk))

    for topic, word in enumerate(TOPIC_WORDS[:40], start=1):
        add(f"{word} keyword", "keyword", word, "topic", topic)
        add(f"{word} phrase", "phrase", f"my {word} is", "topic", topic)
        add(f"{word} hashtag", "hashtag", f"#{word}", "topic", topic)
        add(f"{word} regex", "regex", rf"\b{word}s?\s+(?:no|not|never)\b", "topic", topic)
    for n in range(20):
        add(f"urgent {n}", "keyword", f"urgentword{n}", "priority", None)
        add(f"noise {n}", "phrase", f"promo code {n}", "noise", None)
    del rows[199:]
    add("care handle", "handle", HANDLE, "priority", None)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the texts")
    parser.add_argument("--misses", type=int, default=8, help="misses to print on stderr")
    args = parser.parse_args()

    import django

    django.setup()
    from helpdesk.x.sandbox.traffic import (
        CHATTER,
        load_conversations,
        load_french_questions,
        retarget,
    )
    from routing.classify import classify
    from routing.classify.rules import compile_rule_rows

    compiled = compile_rule_rows(demo_rules(), brand_id=1, version="bench")
    handles = frozenset({HANDLE.lower()})
    english = [retarget(c.messages[0], c.company, HANDLE) for c in load_conversations()]
    french = [
        text.replace("{handle}", f"@{HANDLE}")
        for question in load_french_questions()
        for text in (question.text, *question.followups)
    ]
    french_questions = [q.text.replace("{handle}", f"@{HANDLE}") for q in load_french_questions()]

    def run(text: str, lang_hint: str = "") -> Any:
        return classify(text, lang_hint=lang_hint, mentioned_handles=handles, compiled=compiled)

    results = [run(text) for text in english]
    noise = [(text, r.noise_reason) for text, r in zip(english, results, strict=True) if r.is_noise]
    recognised = len(english) - len(noise)
    en_wrong = [
        (t, r.language) for t, r in zip(english, results, strict=True) if r.language != "en"
    ]
    fr_results = [run(text) for text in french]
    fr_wrong = [
        (t, r.language) for t, r in zip(french, fr_results, strict=True) if r.language != "fr"
    ]
    fr_noise = [(t, r.noise_reason) for t in french_questions if (r := run(t)).is_noise]
    chatter = [text.replace("{handle}", f"@{HANDLE}") for text in CHATTER]
    chatter_kept = [(t, "queued") for t in chatter if not run(t).is_noise]
    with_lang = [run(text, "en").language == "en" for text in english] + [
        run(text, "fr").language == "fr" for text in french
    ]

    texts = english + french
    timings: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            started = time.perf_counter_ns()
            run(text)
            timings.append((time.perf_counter_ns() - started) / 1e6)
    timings.sort()

    for title, rows in (
        ("not recognised as questions", noise),
        ("English not detected as en", en_wrong),
        ("French not detected as fr", fr_wrong),
        ("French questions taken for noise", fr_noise),
        ("sandbox chatter not dismissed", chatter_kept),
    ):
        print(f"# {title}: {len(rows)}", file=sys.stderr)
        for text, why in rows[: args.misses]:
            print(f"#   [{why}] {text[:140]!r}", file=sys.stderr)

    print(
        json.dumps(
            {
                "bench": "classify_corpus",
                "conversations": len(english),
                "recognised_as_questions": recognised,
                "question_share": round(recognised / len(english), 3),
                "french_texts": len(french),
                "french_questions_recognised": len(french_questions) - len(fr_noise),
                "sandbox_chatter": len(chatter),
                "sandbox_chatter_dismissed": len(chatter) - len(chatter_kept),
                "language_accuracy_en": round(1 - len(en_wrong) / len(english), 3),
                "language_accuracy_fr": round(1 - len(fr_wrong) / len(french), 3),
                "language_accuracy_with_x_lang": round(sum(with_lang) / len(with_lang), 3),
                "rules": len(compiled.rules),
                "classify_p50_ms": round(timings[len(timings) // 2], 3),
                "classify_p95_ms": round(timings[int(len(timings) * 0.95)], 3),
                "classify_max_ms": round(timings[-1], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
