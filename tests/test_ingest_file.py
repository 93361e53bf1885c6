"""``manage.py ingest_file``: recorded X responses, JSON Lines with bad lines, replays, v1.1
payloads, brand choice, and files that cannot be read (DESIGN invariants 1 and 9)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from helpdesk.models import AuditEvent, Conversation, Customer, Question, Source
from helpdesk.states import QuestionState
from tests.factories import make_account, make_brand

RECORDED = Path(__file__).parent / "fixtures" / "x-recorded"
BASE_ID = 1_900_000_000_000_000_000


def recorded_tweets(path: Path) -> list[dict[str, Any]]:
    """The tweet objects in a recorded response: items of ``data`` with ``id`` and ``text``."""
    data = json.loads(path.read_text(encoding="utf-8"))["response"].get("data")
    items = data if isinstance(data, list) else [data]
    return [i for i in items if isinstance(i, dict) and "id" in i and "text" in i]


RECORDED_FILES = sorted(RECORDED.glob("*.json"))
TWEET_FILES = [path for path in RECORDED_FILES if recorded_tweets(path)]
OTHER_FILES = [path for path in RECORDED_FILES if not recorded_tweets(path)]


def as_written(x_text: str) -> str:
    """What the author typed, for texts where X's three entities are not nested."""
    return x_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def v2_tweet(n: int, **fields: Any) -> dict[str, Any]:
    tweet_id = str(BASE_ID + n)
    body: dict[str, Any] = {
        "id": tweet_id,
        "text": f"@CareDesk my order {n} has not arrived",
        "edit_history_tweet_ids": [tweet_id],
    }
    body.update(fields)
    return body


def v11_status(n: int, author: str = "4242", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": BASE_ID + n,
        "id_str": str(BASE_ID + n),
        "text": f"@CareDesk where is parcel {n}?",
        "in_reply_to_status_id_str": None,
        "user": {
            "id": int(author),
            "id_str": author,
            "name": "Ada Customer",
            "screen_name": "ada_c",
            "description": "I buy things",
        },
        "lang": "en",
    }
    body.update(fields)
    return body


def write_json(tmp_path: Path, value: Any, name: str = "input.json", indent: int = 2) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(value, indent=indent), encoding="utf-8")
    return path


def write_lines(tmp_path: Path, lines: list[str], name: str = "input.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def ingest_file(*args: str) -> tuple[str, str, CommandError | None]:
    """Run the command; return its stdout, stderr and the CommandError it ended with."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("ingest_file", *args, stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def row_counts() -> dict[str, int]:
    return {
        "questions": Question.objects.count(),
        "customers": Customer.objects.count(),
        "conversations": Conversation.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


NOTHING = {"questions": 0, "customers": 0, "conversations": 0, "audit_events": 0}


def test_the_recorded_fixtures_hold_the_expected_tweet_files() -> None:
    # Guards the parametrisation below against silently shrinking.
    assert [path.name for path in TWEET_FILES] == [
        "create_and_delete_tweet_0.json",
        "get_home_timeline_0.json",
        "get_tweet_0.json",
        "get_tweets_0.json",
        "get_users_mentions_0.json",
        "get_users_tweets_0.json",
        "search_recent_tweets_0.json",
    ]
    assert (RECORDED / "LICENSE-tweepy").is_file()


@pytest.mark.django_db
@pytest.mark.parametrize("recorded", TWEET_FILES, ids=lambda path: path.stem)
def test_every_recorded_tweet_response_ingests(recorded: Path, brand: Any, tmp_path: Path) -> None:
    # Given a real X response recorded without tweet.fields: no author_id, no created_at
    tweets = recorded_tweets(recorded)
    assert all("author_id" not in t and "created_at" not in t for t in tweets)
    retweets = [t for t in tweets if t["text"].startswith("RT @")]
    questions = [t for t in tweets if not t["text"].startswith("RT @")]
    response = json.loads(recorded.read_text(encoding="utf-8"))["response"]
    path = write_json(tmp_path, response)

    # When it is ingested
    out, err, error = ingest_file(str(path))

    # Then every tweet but the plain retweets is a queued question, as its author wrote it
    assert error is None
    assert err == ""
    assert out.splitlines()[-1] == (
        f"ingested: {len(questions)} new, 0 duplicate, {len(retweets)} skipped, 0 rejected"
    )
    stored = {q.tweet_id: q for q in Question.objects.select_related("conversation")}
    assert {tweet_id: q.text for tweet_id, q in stored.items()} == {
        t["id"]: as_written(t["text"]) for t in questions
    }
    assert {tweet_id: q.raw["text"] for tweet_id, q in stored.items()} == {
        t["id"]: t["text"] for t in questions
    }
    for question in stored.values():
        assert question.tweeted_at is None
        assert question.customer_id is None
        assert question.source == Source.FILE
        assert question.state == QuestionState.QUEUED
        assert question.conversation.x_conversation_id == question.tweet_id
    assert Customer.objects.count() == 0
    assert set(
        AuditEvent.objects.filter(kind="question.received").values_list("actor_label", flat=True)
    ) == ({"system:ingest_file"} if questions else set())


@pytest.mark.django_db
def test_a_recorded_tweet_with_an_ampersand_is_stored_unescaped_and_its_payload_kept(
    brand: Any, tmp_path: Path
) -> None:
    # Given X's recorded home timeline, where "&" comes as "&amp;"
    recorded = RECORDED / "get_home_timeline_0.json"
    response = json.loads(recorded.read_text(encoding="utf-8"))["response"]
    (sent,) = [t for t in response["data"] if t["text"].startswith("So @alanbenlee")]
    assert "@snowman &amp; I are" in sent["text"]

    # When the response is ingested
    _, _, error = ingest_file(str(write_json(tmp_path, response)))

    # Then the question reads "&" as the author wrote it, and the raw payload is X's own
    assert error is None
    question = Question.objects.get(tweet_id=sent["id"])
    assert question.text == sent["text"].replace("&amp;", "&")
    assert "@snowman & I are" in question.text and "&amp;" not in question.text
    assert question.raw == sent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("@CareDesk Q&amp;A: 4 &lt; 5 &gt; 3", "@CareDesk Q&A: 4 < 5 > 3"),
        ("@CareDesk typed &amp;lt;b&amp;gt; &amp;amp;", "@CareDesk typed &lt;b&gt; &amp;"),
        ("@CareDesk &quot;hi&quot; &#60;b&#62; &nbsp; &AMP;",) * 2,
        ("@CareDesk & < > unescaped already", "@CareDesk & < > unescaped already"),
    ],
    ids=["three-entities", "double-escaped", "other-entities-untouched", "bare"],
)
def test_x_entities_are_unescaped_exactly_once_in_v2_and_v11(
    sent: str, written: str, brand: Any, tmp_path: Path
) -> None:
    # Given the same text from X as a v2 tweet and as a v1.1 webhook status
    make_account(brand, username="CareDesk", x_user_id="777")
    v2 = v2_tweet(1, text=sent)
    v11 = {"for_user_id": "777", "tweet_create_events": [v11_status(2, text=sent)]}

    # When both are ingested
    for document in (v2, v11):
        _, _, error = ingest_file(str(write_json(tmp_path, document)))
        assert error is None

    # Then each is stored as its author wrote it: only &amp; &lt; &gt; undone, once
    assert Question.objects.get(tweet_id=v2["id"]).text == written
    assert Question.objects.get(tweet_id=str(BASE_ID + 2)).text == written


@pytest.mark.django_db
@pytest.mark.parametrize("recorded", OTHER_FILES, ids=lambda path: path.stem)
def test_recorded_responses_without_tweets_store_nothing(
    recorded: Path, brand: Any, tmp_path: Path
) -> None:
    # Given a recorded response about users, a deletion, a hidden reply or a retweet flag
    response = json.loads(recorded.read_text(encoding="utf-8"))["response"]
    data = response["data"]
    path = write_json(tmp_path, response)

    # When it is ingested
    out, err, error = ingest_file(str(path))

    # Then each object in data is reported as no tweet, and nothing is stored
    count = len(data) if isinstance(data, list) else 1
    assert out.splitlines()[-1] == f"ingested: 0 new, 0 duplicate, 0 skipped, {count} rejected"
    assert error is not None
    assert len(err.splitlines()) == count
    assert all(line.startswith("data") for line in err.splitlines())
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_jsonl_with_bad_lines_stores_the_good_ones_and_names_each_bad_line(
    brand: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    # Given JSON Lines mixing v2 tweets, a v2 response, a v1.1 status and bad lines
    path = write_lines(
        tmp_path,
        [
            json.dumps(v2_tweet(1)),
            json.dumps({"data": [v2_tweet(2), v2_tweet(3)], "meta": {"result_count": 2}}),
            '{"id": "1900000000000000004", "text": "cut off',
            json.dumps(v2_tweet(5, id="12ab")),
            json.dumps({"id": str(BASE_ID + 6), "edit_history_tweet_ids": []}),
            "",
            json.dumps(v11_status(7)),
            json.dumps({"data": [v2_tweet(8), v2_tweet(9, text=None)]}),
            '{"id": "1900000000000000010", "text": "x", "score": NaN}',
            "[1, 2]",
            json.dumps(v2_tweet(11)),
            json.dumps({"text": "a tweet without its id"}),
        ],
    )
    # run_from_argv closes connections when it finishes; keep the test's transaction open.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    # When it is ingested from the command line
    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "ingest_file", str(path)])

    # Then the good tweets are stored, each bad record is named with its line and reason,
    # the summary is the last line on stdout, and the exit status says something was refused
    out, err = capsys.readouterr()
    assert exited.value.code == 1
    assert out.splitlines()[-1] == "ingested: 6 new, 0 duplicate, 0 skipped, 8 rejected"
    assert err.splitlines() == [
        "line 3: not JSON: Unterminated string starting at (column 39)",
        "line 4: id must be a string of digits, not '12ab'",
        "line 5 (tweet 1900000000000000006): text is missing or not a string",
        "line 8, data[1] (tweet 1900000000000000009): text is missing or not a string",
        "line 9: not JSON: NaN is not a JSON value",
        "line 10, [0]: expected a JSON object",
        "line 10, [1]: expected a JSON object",
        "line 12: id is missing",
        "CommandError: 8 record(s) rejected; see the reasons above",
    ]
    assert sorted(Question.objects.values_list("tweet_id", flat=True)) == [
        str(BASE_ID + n) for n in (1, 2, 3, 7, 8, 11)
    ]
    assert Customer.objects.get().x_user_id == "4242"  # the v1.1 status's author


@pytest.mark.django_db
def test_running_the_same_file_twice_changes_nothing_the_second_time(
    brand: Any, tmp_path: Path
) -> None:
    # Given a file of 30 tweets by three customers, ingested once
    users = [{"id": str(700 + k), "username": f"cust{k}", "name": f"C {k}"} for k in range(3)]
    tweets = [
        v2_tweet(n, author_id=str(700 + n % 3), created_at="2026-11-20T10:00:00.000Z")
        for n in range(30)
    ]
    path = write_json(tmp_path, {"data": tweets, "includes": {"users": users}})
    first_out, _, first_error = ingest_file(str(path))
    after_first = row_counts()

    # When the same file is ingested again
    out, err, error = ingest_file(str(path))

    # Then the second run finds only duplicates and writes no row
    assert first_error is None
    assert first_out.splitlines()[-1] == "ingested: 30 new, 0 duplicate, 0 skipped, 0 rejected"
    assert error is None
    assert err == ""
    assert out.splitlines()[-1] == "ingested: 0 new, 30 duplicate, 0 skipped, 0 rejected"
    assert (
        row_counts()
        == after_first
        == {
            "questions": 30,
            "customers": 3,
            "conversations": 30,
            "audit_events": 60,
        }
    )


@pytest.mark.django_db
def test_jsonl_from_stdin_is_streamed_and_stored_in_chunks(brand: Any, monkeypatch: Any) -> None:
    # Given 1,050 JSON lines on stdin, with one tweet repeated far from its first copy
    lines = [json.dumps(v2_tweet(n)).encode() + b"\n" for n in range(1_050)]
    lines.append(json.dumps(v2_tweet(3)).encode() + b"\n")
    seen_when_line_401_was_read: list[int] = []

    class Stdin:
        """Hands out lines one by one and notes what was stored when line 401 was read."""

        def __init__(self) -> None:
            self.buffer = self

        def __iter__(self) -> Iterator[bytes]:
            for number, line in enumerate(lines, start=1):
                if number == 401:
                    seen_when_line_401_was_read.append(Question.objects.count())
                yield line

    monkeypatch.setattr("sys.stdin", Stdin())

    # When they are ingested from stdin 100 tweets per transaction
    out, err, error = ingest_file("-", "--chunk-size", "100")

    # Then every chunk was stored before the rest of the input was read, and nothing twice
    assert error is None
    assert err == ""
    assert out.splitlines()[-1] == "ingested: 1050 new, 1 duplicate, 0 skipped, 0 rejected"
    assert seen_when_line_401_was_read == [400]
    assert Question.objects.count() == 1_050


@pytest.mark.django_db
def test_a_json_array_of_responses_and_tweets_is_one_document(brand: Any, tmp_path: Path) -> None:
    # Given a pretty-printed JSON array holding a v2 response, a bare tweet and a bad tweet
    path = write_json(
        tmp_path,
        [
            {"data": [v2_tweet(1), v2_tweet(2, id="")], "meta": {"result_count": 2}},
            v2_tweet(3),
            v2_tweet(4, text=7),
        ],
    )

    # When it is ingested
    out, err, error = ingest_file(str(path))

    # Then bad records are named by their place in the array
    assert out.splitlines()[-1] == "ingested: 2 new, 0 duplicate, 0 skipped, 2 rejected"
    assert err.splitlines() == [
        "[0], data[1]: id is missing",
        "[2] (tweet 1900000000000000004): text is missing or not a string",
    ]
    assert error is not None
    assert sorted(Question.objects.values_list("tweet_id", flat=True)) == [
        str(BASE_ID + 1),
        str(BASE_ID + 3),
    ]


@pytest.mark.django_db
def test_a_single_response_names_bad_records_by_their_place_in_data(
    brand: Any, tmp_path: Path
) -> None:
    # Given one pretty-printed v2 response whose second and third tweets are unusable
    path = write_json(
        tmp_path,
        {"data": [v2_tweet(1), v2_tweet(2, text=None), v2_tweet(3, id="abc"), v2_tweet(4)]},
    )

    # When it is ingested
    out, err, error = ingest_file(str(path))

    # Then the good ones are stored and the bad ones are reported with their positions
    assert out.splitlines()[-1] == "ingested: 2 new, 0 duplicate, 0 skipped, 2 rejected"
    assert err.splitlines() == [
        "data[1] (tweet 1900000000000000002): text is missing or not a string",
        "data[2]: id must be a string of digits, not 'abc'",
    ]
    assert error is not None
    assert str(error) == "2 record(s) rejected; see the reasons above"
    assert Question.objects.count() == 2


@pytest.mark.django_db
def test_a_v11_payload_file_goes_to_the_account_its_for_user_id_names(tmp_path: Path) -> None:
    # Given two brands, and an Account Activity payload for one brand's care account
    make_brand(slug="other")
    brand = make_brand(slug="northwind")
    account = make_account(brand, username="NorthwindHelp", x_user_id="1600000000000000001")
    own = v11_status(3, author=account.x_user_id)
    retweet = v11_status(4, retweeted_status={"id_str": "1"})
    payload = {
        "for_user_id": account.x_user_id,
        "tweet_create_events": [
            v11_status(1),
            v11_status(2, in_reply_to_status_id_str=str(BASE_ID + 1)),
            own,
            retweet,
            v11_status(5, id_str="not-digits", id=None),
        ],
    }
    path = write_json(tmp_path, payload)

    # When it is ingested without --brand
    out, err, error = ingest_file(str(path))

    # Then for_user_id chose the brand and account, the reply joined the first tweet's thread,
    # the account's own tweet and the retweet were skipped, and the bad event was named
    assert out.splitlines()[-1] == "ingested: 2 new, 0 duplicate, 2 skipped, 1 rejected"
    assert err.splitlines() == [
        "tweet_create_events[4]: id_str must be a string of digits, not 'not-digits'"
    ]
    assert error is not None
    first, reply = Question.objects.order_by("tweet_id")
    assert (first.brand_id, first.account_id) == (brand.pk, account.pk)
    assert (reply.brand_id, reply.account_id) == (brand.pk, account.pk)
    assert reply.conversation_id == first.conversation_id
    assert reply.in_reply_to_tweet_id == first.tweet_id
    assert first.tweeted_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    customer = Customer.objects.get()
    assert (customer.x_user_id, customer.username, customer.name, customer.description) == (
        "4242",
        "ada_c",
        "Ada Customer",
        "I buy things",
    )
    assert first.customer_id == customer.pk


@pytest.mark.django_db
def test_without_brand_several_brands_is_an_error_that_lists_them(tmp_path: Path) -> None:
    # Given two brands and a v2 file that does not say which
    make_brand(slug="acme")
    make_brand(slug="globex")
    path = write_json(tmp_path, {"data": [v2_tweet(1)]})

    # When it is ingested without --brand
    out, _, error = ingest_file(str(path))

    # Then it is refused with the brands to choose from, and nothing is written
    assert error is not None
    assert str(error) == (
        "document: several brands exist (acme, globex); pass --brand. "
        "Nothing from here on was ingested; so far: "
        "ingested: 0 new, 0 duplicate, 0 skipped, 0 rejected"
    )
    assert out == ""
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_an_unknown_brand_slug_is_an_error_that_lists_the_brands(tmp_path: Path) -> None:
    make_brand(slug="acme")
    make_brand(slug="globex")
    path = write_json(tmp_path, {"data": [v2_tweet(1)]})

    _, _, error = ingest_file(str(path), "--brand", "initech")

    assert error is not None
    assert str(error) == "no brand 'initech'; brands: acme, globex"
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_brand_and_account_options_place_the_tweets(tmp_path: Path) -> None:
    # Given two brands, each with a care account
    make_account(make_brand(slug="acme"), username="AcmeHelp")
    globex = make_brand(slug="globex")
    account = make_account(globex, username="GlobexHelp")
    path = write_json(tmp_path, {"data": [v2_tweet(1), v2_tweet(2)]})

    # When the file is ingested for one brand's account
    out, _, error = ingest_file(str(path), "--brand", "globex", "--account", "@globexhelp")

    # Then the questions belong to that brand and account
    assert error is None
    assert out.splitlines()[-1] == "ingested: 2 new, 0 duplicate, 0 skipped, 0 rejected"
    assert set(Question.objects.values_list("brand_id", "account_id")) == {(globex.pk, account.pk)}


@pytest.mark.django_db
@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_an_empty_file_is_an_error(content: str, brand: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")

    out, _, error = ingest_file(str(path))

    assert error is not None
    assert str(error) == f"{path} is empty: there is nothing to ingest"
    assert out == ""
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_a_missing_file_is_an_error_with_a_non_zero_exit(
    brand: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    missing = tmp_path / "nope.json"
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "ingest_file", str(missing)])

    out, err = capsys.readouterr()
    assert exited.value.code == 1
    assert out == ""
    assert err == f"CommandError: {missing}: no such file\n"
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_a_directory_is_an_error(brand: Any, tmp_path: Path) -> None:
    _, _, error = ingest_file(str(tmp_path))

    assert error is not None
    assert str(error) == f"{tmp_path} is a directory, not a file"
    assert row_counts() == NOTHING


@pytest.mark.django_db
def test_a_broken_json_document_is_an_error_and_nothing_is_written(
    brand: Any, tmp_path: Path
) -> None:
    # Given a pretty-printed response cut off half way
    text = json.dumps({"data": [v2_tweet(1), v2_tweet(2)]}, indent=2)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")

    _, _, error = ingest_file(str(path))

    assert error is not None
    assert str(error).startswith(f"{path} is neither JSON nor JSON Lines: not JSON: ")
    assert row_counts() == NOTHING
