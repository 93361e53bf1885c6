"""Simulated colleagues for the embedded demo: a few volunteers who claim and answer queued
questions at a human pace while the demo runs, so the desk looks like a working one (the
queue comes and goes instead of growing by thousands) and whoever tries the demo still finds
questions to take.

They are ordinary volunteers of the brand (``demo_data.COLLEAGUES``, mentors, no usable
password) and act only through the desk's own actions: ``start_shift``/``end_shift``,
``routing.placement.queue_for`` (the queue they are eligible for), ``claim_question`` and
``submit_reply``. So every invariant holds for them as for anyone: one winner per claim, the
gate on every reply, the audit log, and a sampled reply goes to the supervisor's review.

The pace: after claiming, a colleague "writes" for ``DRAFT_SECONDS``, submits, then pauses
for ``BREAK_SECONDS`` before looking at the queue again. One colleague is on shift while
the queue is short; another comes on for every ``WAITING_PER_COLLEAGUE`` questions waiting,
and they go off again, their hands empty, when it shrinks. :meth:`SimulatedColleagues.step`
does one round at the time it is given (the demo's poller calls it every few seconds; tests
drive it with their own clock). They take only what arrived since they started: the seeded
history's few open questions are old and not in the sandbox.
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.management.demo_data import COLLEAGUES
from helpdesk.models import Brand, Question
from helpdesk.replies import submit_reply
from helpdesk.replies.common import ReplyError
from helpdesk.states import QuestionState
from routing.claims import ClaimError, claim_question, release_question
from routing.placement import queue_for
from routing.presence import PresenceError, end_shift, open_shift, start_shift, touch

log = logging.getLogger(__name__)

DRAFT_SECONDS = (40.0, 150.0)
BREAK_SECONDS = (10.0, 45.0)
IDLE_LOOK_SECONDS = 20.0  # an empty queue: look again after this
WAITING_PER_COLLEAGUE = 5
HELD_STATES = (QuestionState.CLAIMED, QuestionState.DRAFTING)
# How many of their claims in a row may fail (another took it first, not eligible) before
# they pause: the queue they see can change under them.
CLAIM_TRIES = 3

REPLIES = {
    "en": (
        "{customer} Thanks for letting us know, and sorry for the trouble. Could you send us "
        "a DM with a few details so we can look into it with you? {signature}",
        "{customer} Hi, sorry to hear that! Send us a DM with what you see on your side and "
        "we will take it from there together. {signature}",
        "{customer} Thanks for reaching out. We would like to help: please DM us the "
        "details, and never share account numbers in public. {signature}",
    ),
    "fr": (
        "{customer} Merci de nous avoir écrit, et désolés pour le souci. Envoyez-nous un "
        "message privé avec quelques détails et nous regardons ça avec vous. {signature}",
        "{customer} Bonjour, désolés pour ce contretemps ! Écrivez-nous en message privé "
        "pour que nous puissions vérifier ensemble. {signature}",
    ),
}


@dataclass
class Colleague:
    user: User
    signature: str
    next_at: datetime | None = None  # when they act next; None: now


@dataclass
class StepResult:
    claimed: int = 0
    replied: int = 0
    on_shift: int = 0
    waiting: int = 0
    refused: list[str] = field(default_factory=list)


def reply_text(question: Question, signature: str, rng: random.Random) -> tuple[str, str]:
    """A short, linter-clean holding reply in the question's language: (text, language)."""
    language = "fr" if (question.lang or "").lower().startswith("fr") else "en"
    handle = f"@{question.customer.username}" if question.customer else ""
    template = rng.choice(REPLIES[language])
    return template.format(customer=handle, signature=signature).strip(), language


class SimulatedColleagues:
    """The demo brand's simulated colleagues; :meth:`step` does one round."""

    def __init__(self, brand: Brand, *, since: datetime | None = None, seed: int = 2009) -> None:
        self.brand = brand
        # Only what arrives from ``since`` on: the seeded history's open questions have no
        # tweet in the sandbox to reply to (a reply would fail and land on the supervisor).
        self.since = since or timezone.now()
        self.rng = random.Random(seed)
        users = get_user_model().objects.filter(
            username__in=[person.username for person in COLLEAGUES],
            volunteer__brand=brand,
        )
        by_name = {user.username: user for user in users.select_related("volunteer")}
        self.colleagues = [
            Colleague(by_name[person.username], person.signature)
            for person in COLLEAGUES
            if person.username in by_name
        ]

    def _seconds(self, bounds: tuple[float, float]) -> timedelta:
        return timedelta(seconds=self.rng.uniform(*bounds))

    def waiting(self) -> int:
        return Question.objects.filter(
            brand=self.brand, state=QuestionState.QUEUED, received_at__gte=self.since
        ).count()

    def step(self, now: datetime | None = None) -> StepResult:
        """One round at ``now``: the right number on shift, and each colleague whose moment
        has come either submits the reply they were writing or claims the next question."""
        now = now or timezone.now()
        result = StepResult(waiting=self.waiting())
        wanted = min(len(self.colleagues), 1 + result.waiting // WAITING_PER_COLLEAGUE)
        for n, colleague in enumerate(self.colleagues):
            held = (
                Question.objects.filter(claimed_by=colleague.user, state__in=HELD_STATES)
                .select_related("customer")
                .first()
            )
            if not self._on_shift(colleague, needed=n < wanted or held is not None, now=now):
                continue
            result.on_shift += 1
            if colleague.next_at is not None and now < colleague.next_at:
                continue
            if held is not None:
                self._reply(colleague, held, now, result)
            else:
                self._claim(colleague, now, result)
        return result

    def _on_shift(self, colleague: Colleague, *, needed: bool, now: datetime) -> bool:
        user = colleague.user
        if open_shift(user.pk, self.brand.pk) is not None:
            if needed:
                touch(user, self.brand.pk, now=now)
                return True
            end_shift(user, self.brand.pk, reason="simulated", now=now)
            return False
        if not needed:
            return False
        try:
            start_shift(user, self.brand.pk, now=now)
        except PresenceError as error:
            log.warning("simulated colleague %s cannot go on shift: %s", user.username, error)
            return False
        colleague.next_at = now + self._seconds(BREAK_SECONDS)
        return False  # they settle in first

    def _claim(self, colleague: Colleague, now: datetime, result: StepResult) -> None:
        queue = queue_for(colleague.user, self.brand.pk, now=now)
        candidates = list(queue.filter(received_at__gte=self.since)[:CLAIM_TRIES])
        for question in candidates:
            claim = claim_question(question.pk, colleague.user, now=now)
            if claim.won:
                result.claimed += 1
                colleague.next_at = now + self._seconds(DRAFT_SECONDS)
                return
            result.refused.append(claim.reason)
        colleague.next_at = now + timedelta(seconds=IDLE_LOOK_SECONDS)

    def _reply(
        self, colleague: Colleague, question: Question, now: datetime, result: StepResult
    ) -> None:
        text, language = reply_text(question, colleague.signature, self.rng)
        try:
            submit_reply(question, colleague.user, text, language=language)
        except ReplyError as error:
            # The gate or the linter said no (a lapsed lease, a rule the demo text breaks):
            # give the question back rather than sit on it.
            result.refused.append(error.code)
            log.warning("simulated reply refused (%s): %s", error.code, error)
            with contextlib.suppress(ClaimError):
                release_question(question.pk, colleague.user, now=now)
        else:
            result.replied += 1
        colleague.next_at = now + self._seconds(BREAK_SECONDS)
