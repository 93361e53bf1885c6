"""Placement of queued questions: pool, offer or sticky (being written)."""

from __future__ import annotations

from collections.abc import Sequence

from helpdesk.models import Question


def place_queued(questions: Sequence[Question]) -> None:
    """Offer or hand back freshly queued questions where their topic says so; pool
    questions need nothing. Runs inside the caller's transaction."""
    return None
