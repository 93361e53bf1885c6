"""What the composer shows, wherever it is drawn (its own page, or the inbox's right pane):
the starting draft, the saved replies, the sender choice, and the charter's feedback on the
draft (count, findings, the highlighted draft, what happens on submit).

Reads only; the views that use it check the claim first. The highlighted draft is built
from plain-text segments, rendered with auto-escaping only.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import get_language

from charter.gate import Decision, may_send
from charter.linter import Finding
from helpdesk.models import Question, Volunteer
from helpdesk.params import parse_id
from helpdesk.replies import ReplyError, account_for, brand_handles, linked_sender
from helpdesk.replies.common import next_reply_key
from helpdesk.saved_replies.queries import Choice, choices_for, may_use_saved_replies
from routing.crisis import crisis_for
from routing.models import CrisisMode


@dataclass(frozen=True)
class Segment:
    """A piece of the draft and the finding that covers it (None: nothing to say)."""

    text: str
    finding: Finding | None


def segments(text: str, findings: tuple[Finding, ...]) -> list[Segment]:
    """``text`` cut at every finding's edges; each piece carries the most severe finding
    covering it. Findings with an empty span (something missing) mark nothing."""
    spans = [f for f in findings if 0 <= f.start < f.end <= len(text)]
    edges = sorted({0, len(text), *(f.start for f in spans), *(f.end for f in spans)})
    pieces: list[Segment] = []
    for start, end in pairwise(edges):
        covering = [f for f in spans if f.start <= start and end <= f.end]
        worst = max(covering, key=lambda f: f.severity.rank) if covering else None
        if pieces and pieces[-1].finding is worst:
            pieces[-1] = Segment(pieces[-1].text + text[start:end], worst)
        else:
            pieces.append(Segment(text[start:end], worst))
    return pieces


def _decision(
    question: Question, user: User, volunteer: Volunteer, text: str, crisis: CrisisMode | None
) -> Decision:
    """What the gate would say if this draft were submitted now; the reply key is the one
    ``submit_reply`` will use, so a sampled review is predicted right."""
    return may_send(
        user,
        question.brand_id,
        text,
        reply_key=next_reply_key(question, user),
        signature=volunteer.signature,
        customer_handle=question.customer.username if question.customer else "",
        brand_handles=brand_handles(question.brand_id),
        language=get_language() or "en",
        crisis_review=crisis is not None and crisis.force_review,
    )


def lint_context(question: Question, user: User, volunteer: Volunteer, text: str) -> dict[str, Any]:
    """The context of ``desk/_lint.html`` for ``text``."""
    crisis = crisis_for(question.brand_id, question.topic_id)
    decision = _decision(question, user, volunteer, text, crisis)
    result = decision.lint
    return {
        "draft": text,
        "decision": decision,
        "result": result,
        "segments": segments(text, result.findings) if result else [],
        "limit": 280,
        "over_limit": result is not None and result.weighted_length > 280,
        "crises": [crisis] if crisis is not None else [],
        "crisis": crisis,
    }


def default_draft(question: Question, volunteer: Volunteer) -> str:
    """The draft a reply starts from: the customer's handle, room to write, the signature."""
    handle = question.customer.username if question.customer else ""
    draft = f"@{handle} " if handle else ""
    if volunteer.signature:
        draft += f" {volunteer.signature}"
    return draft


SavedChoices = tuple[bool, list[Choice], int | None]


def saved_choices(question: Question, volunteer: Volunteer) -> SavedChoices:
    """Whether the person may use saved replies, the ones offered for this question (the
    crisis's holding statement first), and the holding statement's id."""
    may_use = may_use_saved_replies(volunteer, question.brand_id)
    crisis = crisis_for(question.brand_id, question.topic_id)
    holding_id = crisis.holding_statement_id if crisis is not None else None
    choices = choices_for(question, volunteer, first=holding_id) if may_use else []
    return may_use, choices, holding_id


def composer_context(
    question: Question,
    user: User,
    volunteer: Volunteer,
    *,
    text: str,
    choices: SavedChoices,
    inserted: Choice | None = None,
    saved_used: str = "",
    from_linked: bool = False,
    posted: bool = False,
    errors: list[str] | None = None,
) -> dict[str, Any]:
    """The context of the composer's form (``desk/_composer.html``) and its lint."""
    may_use, saved, holding_id = choices
    linked = linked_sender(user, question.brand_id)
    care_account = None
    if linked is not None:
        with contextlib.suppress(ReplyError):  # no active care account: submitting says so
            care_account = account_for(question)
    return {
        "errors": errors or [],
        "care_account": care_account,
        "linked": linked,
        "send_from": "linked" if posted and from_linked else "care",
        "default_draft": default_draft(question, volunteer),
        "may_use_saved": may_use,
        "saved_choices": saved,
        "saved_inserted": inserted,
        "saved_used": saved_used if parse_id(saved_used) is not None else "",
        "picker_size": max(2, min(6, len(saved))),
        "holding": next((c for c in saved if c.saved.pk == holding_id), None),
        **lint_context(question, user, volunteer, text),
    }
