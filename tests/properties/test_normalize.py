"""Properties of reading X's payloads (``helpdesk.x.normalize``): pure functions, no
database. Whatever X or a forger sends, a record is accepted or rejected with a reason,
never an unexpected exception; and a text comes back as its author wrote it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from charter.linter.text import unescape_x_text
from helpdesk.x.normalize import (
    RecordError,
    parse_any,
    parse_v2_response,
    parse_v2_tweet,
    parse_v11_payload,
)
from tests.properties.strategies import (
    awkward_text,
    bad_ids,
    hostile_v2_tweets,
    junk,
    printable_text,
    tweet_ids,
    v2_responses,
    v2_tweets,
    v11_statuses,
    x_escape,
)


def _json_round_trip(payload: Any) -> Any:
    """What the desk actually receives: a JSON document, decoded (lone surrogates survive
    ``json.loads`` of an escaped ``\\ud800``, as they would from a forger)."""
    return json.loads(json.dumps(payload))


@given(v2_responses(hostile=True))
def test_a_v2_response_is_split_into_accepted_and_rejected_records(payload: Any) -> None:
    batch = parse_v2_response(_json_round_trip(payload))

    data = payload.get("data")
    items = [] if data is None else data if isinstance(data, list) else [data]
    assert len(batch.tweets) + len(batch.rejected) == len(items)
    assert all(rejected.reason for rejected in batch.rejected)
    for tweet in batch.tweets:
        assert tweet.id.isascii() and tweet.id.isdigit() and 1 <= len(tweet.id) <= 20
        assert "\x00" not in json.dumps(tweet.raw, ensure_ascii=False)
        tweet.text.encode("utf-8")  # storable: no lone surrogate


@given(st.one_of(hostile_v2_tweets(), junk, st.dictionaries(st.text(max_size=5), junk)))
def test_any_document_is_parsed_or_refused_with_a_reason(payload: Any) -> None:
    try:
        _, batch = parse_any(_json_round_trip(payload))
    except RecordError as error:
        assert str(error)
    else:
        assert all(rejected.reason for rejected in batch.rejected)


@given(
    st.lists(v11_statuses(hostile=True), max_size=5),
    st.one_of(st.none(), tweet_ids, bad_ids),
)
def test_a_v11_payload_is_split_into_accepted_and_rejected_events(
    events: list[Any], for_user_id: Any
) -> None:
    payload = _json_round_trip({"for_user_id": for_user_id, "tweet_create_events": events})
    try:
        user_id, batch = parse_v11_payload(payload)
    except RecordError as error:
        # Only the envelope's own id may refuse the whole payload.
        assert "for_user_id" in str(error)
        return
    assert len(batch.tweets) + len(batch.rejected) == len(events)
    assert user_id is None or user_id.isdigit()
    assert all(rejected.reason for rejected in batch.rejected)


@given(bad_ids)
def test_an_id_x_never_sends_is_refused(tweet_id: Any) -> None:
    payload = _json_round_trip({"id": tweet_id, "text": "hello", "edit_history_tweet_ids": []})

    batch = parse_v2_response({"data": [payload]})

    assert batch.tweets == []
    assert [r.position for r in batch.rejected] == [0]


@given(tweet_ids)
def test_an_id_x_may_send_is_kept_as_written(tweet_id: str) -> None:
    tweet = parse_v2_tweet({"id": tweet_id, "text": "hi", "edit_history_tweet_ids": [tweet_id]})

    assert tweet.id == tweet_id  # kept as written, not an int


@given(printable_text)
def test_a_v2_text_is_unescaped_exactly_once(written: str) -> None:
    # Given what the customer wrote, escaped by X
    sent = {"id": "1", "text": x_escape(written), "edit_history_tweet_ids": ["1"]}

    # When it is read
    tweet = parse_v2_tweet(_json_round_trip(sent))

    # Then it is what they wrote, and the raw payload is what X sent
    assert tweet.text == written
    assert tweet.raw["text"] == x_escape(written)


@given(printable_text, st.booleans())
def test_a_v11_text_is_unescaped_exactly_once(written: str, extended: bool) -> None:
    status: dict[str, Any] = {"id_str": "7", "text": x_escape(written[:140])}
    if extended:
        status["extended_tweet"] = {"full_text": x_escape(written)}

    _, batch = parse_v11_payload({"for_user_id": "1", "tweet_create_events": [status]})

    assert [t.text for t in batch.tweets] == [written if extended else written[:140]]


@given(awkward_text)
def test_unescaping_undoes_escaping_and_nothing_else(written: str) -> None:
    assert unescape_x_text(x_escape(written)) == written
    if "&" not in written:
        assert unescape_x_text(written) == written


@given(v2_tweets())
def test_parsing_is_deterministic(obj: dict[str, Any]) -> None:
    try:
        first = parse_v2_tweet(_json_round_trip(obj))
    except RecordError as error:
        assert str(error)
        return
    assert parse_v2_tweet(_json_round_trip(obj)) == first
