"""The state tables are the only way a state changes."""

from __future__ import annotations

import itertools

import pytest

from helpdesk.states import (
    QUESTION_TRANSITIONS,
    REPLY_TRANSITIONS,
    ForbiddenTransition,
    QuestionState,
    ReplyState,
    check_question_transition,
    check_reply_transition,
)


def test_every_state_has_a_row_and_every_target_is_a_state() -> None:
    assert set(QUESTION_TRANSITIONS) == set(QuestionState.values)
    assert set(REPLY_TRANSITIONS) == set(ReplyState.values)
    for targets in QUESTION_TRANSITIONS.values():
        assert targets <= set(QuestionState.values)
    for targets in REPLY_TRANSITIONS.values():
        assert targets <= set(ReplyState.values)


@pytest.mark.parametrize(
    ("from_state", "to_state"),
    [
        (QuestionState.NEW, QuestionState.CLAIMED),
        (QuestionState.QUEUED, QuestionState.ANSWERED),
        (QuestionState.ANSWERED, QuestionState.CLAIMED),
        (QuestionState.APPROVED, QuestionState.ANSWERED),
    ],
)
def test_forbidden_question_moves_raise(from_state: str, to_state: str) -> None:
    with pytest.raises(ForbiddenTransition, match=f"from '{from_state}' to '{to_state}'"):
        check_question_transition(from_state, to_state)


def test_the_happy_path_is_allowed_end_to_end() -> None:
    path = ["new", "queued", "claimed", "drafting", "in_review", "approved", "sending", "answered"]
    for from_state, to_state in itertools.pairwise(path):
        check_question_transition(from_state, to_state)
    reply_path = ["draft", "pending_review", "approved", "queued", "sent", "deleted"]
    for from_state, to_state in itertools.pairwise(reply_path):
        check_reply_transition(from_state, to_state)


def test_a_sent_reply_cannot_be_sent_again() -> None:
    with pytest.raises(ForbiddenTransition):
        check_reply_transition(ReplyState.SENT, ReplyState.QUEUED)
