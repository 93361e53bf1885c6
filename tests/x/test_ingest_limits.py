"""Issue 15, item 6: ingestion refuses, with a reason, what X can never send (ids outside its
64-bit range or not in canonical form, empty or blank text, text over its longest post, a
record far larger than a tweet), keeps the good records around it, and ``ingest_file`` on an
unmigrated database says to run ``migrate`` (DESIGN invariant 9)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from helpdesk.models import AuditEvent, Question
from helpdesk.x.normalize import MAX_TEXT_CHARS, parse_any

GOOD_ID = "1900000000000000001"


def v2(tweet_id: Any = GOOD_ID, text: Any = "@CareDesk my order has not arrived") -> dict[str, Any]:
    return {"data": [{"id": tweet_id, "text": text, "edit_history_tweet_ids": [str(tweet_id)]}]}


def rejected_reasons(payload: dict[str, Any]) -> list[str]:
    _, batch = parse_any(payload)
    return [r.reason for r in batch.rejected]


@pytest.mark.parametrize(
    ("tweet_id", "reason"),
    [
        (str(2**63), "'9223372036854775808' is outside X's 64-bit id range"),
        ("99999999999999999999", "'99999999999999999999' is outside X's 64-bit id range"),
        ("0", "'0' has a leading zero, which X never sends"),
        ("017", "'017' has a leading zero, which X never sends"),
        ("-17", "must be a string of digits, not '-17'"),
        ("\uff11\uff17", "must be a string of digits, not '\uff11\uff17'"),  # full-width
        ("\u0661\u0667", "must be a string of digits, not '\u0661\u0667'"),  # Arabic-Indic
    ],
)
def test_ids_x_cannot_send_are_rejected_with_the_reason(tweet_id: str, reason: str) -> None:
    assert rejected_reasons(v2(tweet_id)) == [f"id {reason}"]


def test_the_largest_and_smallest_ids_x_can_send_are_accepted() -> None:
    _, batch = parse_any({"data": [v2("1")["data"][0], v2(str(2**63 - 1))["data"][0]]})
    assert [t.id for t in batch.tweets] == ["1", str(2**63 - 1)]
    assert batch.rejected == []


def test_a_v11_integer_id_beyond_64_bits_is_rejected() -> None:
    status = {"id": 2**64, "text": "@CareDesk hello?", "user": {"id_str": "42"}}
    _, batch = parse_any({"for_user_id": "777", "tweet_create_events": [status]})
    assert [r.reason for r in batch.rejected] == [
        "id_str '18446744073709551616' is outside X's 64-bit id range"
    ]


def test_a_reply_to_a_non_canonical_parent_id_is_rejected() -> None:
    payload = v2()
    payload["data"][0]["referenced_tweets"] = [{"type": "replied_to", "id": "0042"}]
    assert rejected_reasons(payload) == [
        "referenced_tweets.id '0042' has a leading zero, which X never sends"
    ]


@pytest.mark.parametrize("text", ["", " ", "\n\t  ", "\u200b", " \u200b\ufeff \u00a0"])
def test_empty_or_blank_text_is_rejected(text: str) -> None:
    assert rejected_reasons(v2(text=text)) == ["text is empty or blank"]


def test_text_up_to_x_longest_post_is_kept_and_one_more_character_is_rejected() -> None:
    longest = "a" * MAX_TEXT_CHARS
    _, batch = parse_any({"data": [v2(text=longest)["data"][0]]})
    assert [len(t.text) for t in batch.tweets] == [25_000]
    assert rejected_reasons(v2(text=longest + "b")) == [
        "text is 25,001 characters, over X's longest post (25,000)"
    ]


def test_the_limit_counts_the_text_as_written_not_x_escapes() -> None:
    # 25,000 "&" arrive as 125,000 characters of "&amp;": the author wrote 25,000.
    _, batch = parse_any(v2(text="&amp;" * MAX_TEXT_CHARS))
    assert [len(t.text) for t in batch.tweets] == [MAX_TEXT_CHARS]


def test_a_fifty_megabyte_text_is_rejected() -> None:
    assert rejected_reasons(v2(text="x" * 50_000_000)) == [
        "text is 50,000,000 characters, over X's longest post (25,000)"
    ]


def test_a_record_far_larger_than_a_tweet_is_rejected_even_with_a_short_text() -> None:
    payload = v2()
    payload["data"][0]["padding"] = "y" * 2_000_000
    (reason,) = rejected_reasons(payload)
    assert reason.startswith("the record is 2,000,")
    assert reason.endswith("bytes, over 1,048,576: not a tweet X sends")


def run_ingest_file(path: Path) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest_file", str(path), stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


@pytest.mark.django_db
def test_ingest_file_stores_the_good_records_and_names_each_refused_one(
    brand: Any, tmp_path: Path
) -> None:
    # Given a file where X's impossible records sit among good ones
    lines = [
        v2("17", "@CareDesk first"),
        v2("017", "@CareDesk the same id written with a zero"),
        v2(str(2**63), "@CareDesk too big"),
        v2("18", "   "),
        v2("19", "z" * (MAX_TEXT_CHARS + 1)),
        v2("20", "@CareDesk last"),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    # When it is ingested
    out, err, error = run_ingest_file(path)

    # Then the good ones are questions, each bad one is named with its reason, and "017" did
    # not become a second question 17
    assert sorted(Question.objects.values_list("tweet_id", "text")) == [
        ("17", "@CareDesk first"),
        ("20", "@CareDesk last"),
    ]
    assert err.splitlines() == [
        "line 2, data[0] (tweet 017): id '017' has a leading zero, which X never sends",
        "line 3, data[0] (tweet 9223372036854775808): "
        "id '9223372036854775808' is outside X's 64-bit id range",
        "line 4, data[0] (tweet 18): text is empty or blank",
        "line 5, data[0] (tweet 19): text is 25,001 characters, over X's longest post (25,000)",
    ]
    assert out.splitlines()[-1] == "ingested: 2 new, 0 duplicate, 0 skipped, 4 rejected"
    assert str(error) == "4 record(s) rejected; see the reasons above"


@pytest.mark.django_db(transaction=True)
def test_ingest_file_on_an_unmigrated_database_says_to_run_migrate(tmp_path: Path) -> None:
    # Given a database whose last migration of the desk is not applied
    path = tmp_path / "one.json"
    path.write_text(json.dumps(v2()), encoding="utf-8")
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    (last,) = graph.leaf_nodes("helpdesk")
    (before,) = [parent for parent in graph.node_map[last].parents if parent[0] == "helpdesk"]
    applied = MigrationRecorder(connection).migration_qs
    count = applied.count()
    # (the other apps' migrations that came after it are unapplied with it)
    call_command("migrate", "helpdesk", before[1], verbosity=0)
    unapplied = count - applied.count()
    try:
        # When a file is ingested
        out, err, error = run_ingest_file(path)
    finally:
        call_command("migrate", verbosity=0)

    # Then the command refuses with what to do, and wrote nothing
    assert unapplied >= 1
    assert error is not None
    assert str(error) == (
        f"the database is not migrated ({unapplied} migration(s) not applied): "
        "run `python manage.py migrate` first, then ingest again"
    )
    assert (out, err) == ("", "")
    assert Question.objects.count() == 0
    assert AuditEvent.objects.count() == 0
