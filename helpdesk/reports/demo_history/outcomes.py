"""What became of the made-up questions: some dismissed as noise, escalated or still open;
the rest answered after minutes to hours (slower at night and at weekends, a long tail),
trainees' replies reviewed (some rejected and answered again, some edited), and linter
findings that sent replies to review."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from charter.models import Level
from helpdesk.models import Question, Reply, Volunteer
from helpdesk.reports.demo_history.moments import REPLY_SEQUENCE, snowflake
from helpdesk.states import QuestionState, ReplyState

DISMISSALS = (
    ("spam or ad: many hashtags", 3),
    ("chatter: reactions only", 3),
    ("chatter: no question or problem", 4),
    ("a reply to another customer", 2),
    ("spam or ad: links only", 1),
)
REVIEW_FINDINGS = ("promise", "price", "legal_safety", "other_customer")


def _response_delay(rng: random.Random, local: datetime, priority: int) -> float:
    """Seconds to a first response: a few minutes to hours, slower outside the day and at
    weekends, a long tail."""
    median = {0: 8.0, 1: 18.0, 2: 35.0, 3: 90.0}[priority] * 60
    if local.weekday() >= 5:
        median *= 1.6
    delay = rng.lognormvariate(math.log(median), 0.9)
    if local.hour < 7 or local.hour >= 22:  # the night: waits for the morning shift
        morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
        if local.hour >= 22:
            morning += timedelta(days=1)
        delay += (morning - local).total_seconds() * rng.uniform(0.6, 1.0)
    return min(delay, 5 * 86400)


def make_replies(
    questions: list[Question],
    plans: list[dict[str, object]],
    *,
    english_people: list[Volunteer],
    french_people: list[Volunteer],
    levels: dict[int, str],
    reviewers: list[User],
    rng: random.Random,
    now: datetime,
) -> tuple[list[Reply], list[tuple[int, int]]]:
    """Each question's outcome, set on it, and the replies (unsaved), with the (question
    index, reply index) of every first response."""
    replies: list[Reply] = []
    firsts: list[tuple[int, int]] = []  # (question index, reply index)
    for i, (question, plan) in enumerate(zip(questions, plans, strict=True)):
        received = question.received_at
        age = (now - received).total_seconds()
        roll = rng.random()
        if roll < 0.09:
            question.state = QuestionState.DISMISSED
            question.dismissed_reason = rng.choices(
                [r for r, _w in DISMISSALS], [w for _r, w in DISMISSALS]
            )[0]
            question.state_changed_at = received + timedelta(seconds=1)
            question.sla_due_at = question.sla_priority = None
            continue
        if roll < 0.11:
            question.state = QuestionState.ESCALATED
            question.state_changed_at = received + timedelta(minutes=rng.uniform(5, 90))
            continue
        delay = _response_delay(rng, plan["local"], question.priority)  # type: ignore[arg-type]
        if delay >= age or roll < 0.115:
            question.state = QuestionState.QUEUED
            if question.sla_due_at is not None and question.sla_due_at < now:
                question.priority = max(question.priority - 1, 0)  # raised by the SLA sweep
            continue
        pool = french_people if plan["french"] and french_people else english_people
        author = rng.choice(pool)
        sent = received + timedelta(seconds=delay)
        is_trainee = levels.get(author.user_id) == Level.TRAINEE
        needs_review = is_trainee or rng.random() < 0.12
        findings = []
        if needs_review and not is_trainee:
            findings = [
                {
                    "rule": rng.choice(REVIEW_FINDINGS),
                    "severity": "review",
                    "start": 0,
                    "end": 5,
                    "message": "",
                }
            ]
        if rng.random() < 0.2:
            findings.append(
                {
                    "rule": "missing_signature",
                    "severity": "advice",
                    "start": 0,
                    "end": 0,
                    "message": "",
                }
            )
        base = {
            "question": question,
            "author": author.user,
            "account": question.account,
            "store": author.store,
            "language": question.lang,
            "needs_review": needs_review,
            "lint": {"verdict": "review" if findings else "ok", "findings": findings},
            "priority": question.priority,
        }
        if needs_review and reviewers and rng.random() < 0.12:
            # Rejected first, then answered again after the feedback.
            submitted = received + timedelta(seconds=delay * 0.3)
            reviewed = submitted + timedelta(minutes=rng.uniform(3, 40))
            replies.append(
                Reply(
                    **base,
                    text="(rejected draft)",
                    state=ReplyState.REJECTED,
                    created_at=submitted,
                    state_changed_at=reviewed,
                    submitted_at=submitted,
                    reviewed_by=rng.choice(reviewers),
                    reviewed_at=reviewed,
                    review_feedback="Please add a qualifier and your signature.",
                )
            )
        review_time = timedelta(minutes=rng.lognormvariate(math.log(12), 0.8))
        submitted = sent - (review_time if needs_review else timedelta(seconds=rng.uniform(5, 60)))
        submitted = max(submitted, received + timedelta(seconds=30))
        reviewed_at = sent - timedelta(seconds=10) if needs_review and reviewers else None
        edited = bool(reviewed_at) and rng.random() < 0.2
        replies.append(
            Reply(
                **base,
                text=("Merci de nous avoir écrit ! " if plan["french"] else "Thanks for asking! ")
                + (author.signature or ""),
                state=ReplyState.SENT,
                created_at=submitted,
                state_changed_at=sent,
                submitted_at=submitted,
                reviewed_by=rng.choice(reviewers) if reviewed_at else None,
                reviewed_at=reviewed_at,
                edited_by_reviewer=edited,
                original_text="(the author's draft)" if edited else "",
                queued_at=reviewed_at or submitted,
                scheduled_for=reviewed_at or submitted,
                tweet_id=snowflake(sent, REPLY_SEQUENCE + len(replies)),
                sent_at=sent,
                send_attempts=1,
                last_attempt_at=sent,
            )
        )
        question.state_changed_at = sent
        question.first_response_at = sent
        firsts.append((i, len(replies) - 1))

    return replies, firsts
