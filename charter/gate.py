"""The gate: the one place that answers whether a person may claim, may send this draft
now, and whether it needs a supervisor's review — always with the reasons.

Every entry point (views, websocket, API, tasks, admin actions) asks here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from charter.acceptance import accepted_number, binding_version, current_version
from charter.linter import LintConfig, LintResult, Severity, lint
from charter.models import Level, LinterSettings, Standing
from charter.standing import is_sampled, policy_for, standing_for


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Decision:
    """``allowed``: may go ahead. ``needs_review``: only through a supervisor's approval.
    ``reasons`` explain a refusal or a review; ``notices`` are for information only."""

    allowed: bool
    needs_review: bool = False
    reasons: tuple[Reason, ...] = ()
    notices: tuple[Reason, ...] = ()
    lint: LintResult | None = field(default=None, compare=False)
    # The person's level in the programme ("" without a standing): crisis mode reads it.
    level: str = field(default="", compare=False)

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def _standing_refusals(
    user: User | AnonymousUser, brand_id: int, now: datetime
) -> tuple[Standing | None, list[Reason], list[Reason]]:
    refusals: list[Reason] = []
    notices: list[Reason] = []
    if not user.is_authenticated or not user.is_active:
        refusals.append(Reason("not_signed_in", str(_("Sign in first."))))
        return None, refusals, notices
    user_id = user.pk
    standing = standing_for(user_id, brand_id)
    if standing is None:
        refusals.append(Reason("not_enrolled", str(_("You are not enrolled in this programme."))))
        return None, refusals, notices
    if standing.is_suspended:
        refusals.append(
            Reason(
                "suspended",
                str(_("You are suspended: %(reason)s")) % {"reason": standing.suspended_reason},
            )
        )
    binding = binding_version(brand_id, now)
    accepted = accepted_number(user_id, brand_id)
    if binding is None:
        refusals.append(
            Reason("no_charter", str(_("The brand has not published its usage charter yet.")))
        )
    elif accepted is None or accepted < binding.number:
        refusals.append(
            Reason(
                "charter_not_accepted",
                str(_("Read and accept the usage charter (version %(number)s) first."))
                % {"number": binding.number},
            )
        )
    else:
        current = current_version(brand_id, now)
        if current is not None and current.number > accepted:
            notices.append(
                Reason(
                    "charter_updated",
                    str(_("The charter changed slightly (version %(number)s): have a look."))
                    % {"number": current.number},
                )
            )
    if standing.level == Level.ENROLLED or standing.trained_at is None:
        refusals.append(
            Reason("training_incomplete", str(_("Complete the required training first.")))
        )
    elif standing.training_expires_at is not None and standing.training_expires_at <= now:
        refusals.append(
            Reason(
                "training_expired",
                str(_("Your certification expired: take the refresher training.")),
            )
        )
    return standing, refusals, notices


# Under crisis mode only these levels claim the affected questions.
CRISIS_LEVELS = frozenset({Level.CERTIFIED, Level.MENTOR})


def may_claim(
    user: User | AnonymousUser, brand_id: int, *, crisis: bool = False, now: datetime | None = None
) -> Decision:
    """May this person claim a question of this brand now? With ``crisis`` (the question
    is under crisis mode), only a certified volunteer or a mentor may."""
    standing, refusals, notices = _standing_refusals(user, brand_id, now or timezone.now())
    level = standing.level if standing is not None else ""
    if crisis and not refusals and not clears_crisis(level):
        refusals.append(crisis_refusal())
    return Decision(
        allowed=not refusals, reasons=tuple(refusals), notices=tuple(notices), level=level
    )


def may_claim_sql(
    user_id: int | None, brand_column: str, now: datetime, *, user_column: str = ""
) -> tuple[str, list[Any]]:
    """The claim gate of :func:`may_claim` (without crisis) as an SQL condition on a row
    whose brand is ``brand_column`` (a quoted column of the caller's statement), so a claim
    can decide in the statement that takes the question. It reads what ``may_claim`` reads,
    at the statement's snapshot: the account active; a standing in the brand, not
    suspended, trained (not ``enrolled``) and not expired; a binding charter version, and an
    accepted version at least as recent. ``tests/properties/test_claim_sql.py`` holds the two
    to the same answers. Returns the SQL (``%s`` placeholders) and its parameters. With
    ``user_column`` the person is that column of the caller's statement (a statement that
    checks many people at once), not ``user_id``."""
    when = connection.ops.adapt_datetimefield_value(now)
    user = user_column or "%s"
    ids = [] if user_column else [user_id]
    sql = f"""
        EXISTS (SELECT 1 FROM auth_user gate_u WHERE gate_u.id = {user} AND gate_u.is_active)
        AND EXISTS (
            SELECT 1 FROM charter_standing gate_s
            WHERE gate_s.user_id = {user} AND gate_s.brand_id = {brand_column}
              AND NOT gate_s.is_suspended
              AND gate_s.level <> %s AND gate_s.trained_at IS NOT NULL
              AND (gate_s.training_expires_at IS NULL OR gate_s.training_expires_at > %s)
        )
        AND (
            SELECT MAX(gate_v.number) FROM charter_charteracceptance gate_a
            JOIN charter_charterversion gate_v ON gate_v.id = gate_a.version_id
            WHERE gate_a.user_id = {user} AND gate_v.brand_id = {brand_column}
        ) >= (
            SELECT MAX(gate_b.number) FROM charter_charterversion gate_b
            WHERE gate_b.brand_id = {brand_column} AND gate_b.is_material
              AND gate_b.effective_at <= %s
        )"""  # noqa: S608 - our tables; every value is a parameter
    return sql, [*ids, *ids, Level.ENROLLED.value, when, *ids, when]


def clears_crisis_sql(user_id: int, brand_column: str) -> tuple[str, list[Any]]:
    """:func:`clears_crisis` as an SQL condition: the person's standing in the brand of
    ``brand_column`` is one of ``CRISIS_LEVELS``."""
    levels = sorted(level.value for level in CRISIS_LEVELS)
    sql = f"""EXISTS (
            SELECT 1 FROM charter_standing crisis_s
            WHERE crisis_s.user_id = %s AND crisis_s.brand_id = {brand_column}
              AND crisis_s.level IN ({", ".join(["%s"] * len(levels))})
        )"""  # noqa: S608 - our table; every value is a parameter
    return sql, [user_id, *levels]


def clears_crisis(level: str) -> bool:
    """Whether a person of ``level`` may claim questions under crisis mode."""
    return level in CRISIS_LEVELS


def crisis_refusal() -> Reason:
    """Why someone below ``CRISIS_LEVELS`` may not claim a question under crisis mode."""
    return Reason(
        "crisis_mode",
        str(_("Crisis mode: only certified volunteers and mentors may claim these questions.")),
    )


def lint_config_for(
    brand_id: int, *, customer_handle: str = "", brand_handles: tuple[str, ...] = ()
) -> LintConfig:
    """The brand's linter configuration for a reply to ``customer_handle``. The caller names
    the brand's own handles (charter does not read the desk's accounts)."""
    settings = LinterSettings.objects.filter(brand_id=brand_id).first()
    return LintConfig.from_settings(
        settings, brand_handles=brand_handles, customer_handle=customer_handle
    )


def may_send(
    user: User | AnonymousUser,
    brand_id: int,
    text: str,
    *,
    reply_key: str,
    signature: str = "",
    customer_handle: str = "",
    brand_handles: tuple[str, ...] = (),
    language: str = "en",
    crisis_review: bool = False,
    now: datetime | None = None,
) -> Decision:
    """May this person send this draft now, and does it need review first?

    ``reply_key`` names the reply for sampling, so asking again for the same reply gives
    the same answer. ``crisis_review``: the question is under a crisis mode that sends
    every reply to review.
    """
    now = now or timezone.now()
    standing, refusals, notices = _standing_refusals(user, brand_id, now)
    result = lint(
        text,
        lint_config_for(brand_id, customer_handle=customer_handle, brand_handles=brand_handles),
        language=language,
        signature=signature,
    )
    if result.verdict == Severity.BLOCK:
        # Name what blocks it: the refusal is often all the volunteer reads.
        blocking = " ".join(f.message for f in result.findings if f.severity == Severity.BLOCK)
        refusals.append(
            Reason(
                "draft_blocked",
                str(_("The draft breaks a rule that cannot be approved: %(findings)s"))
                % {"findings": blocking},
            )
        )
    if refusals or standing is None:
        return Decision(allowed=False, reasons=tuple(refusals), notices=tuple(notices), lint=result)
    review: list[Reason] = []
    if crisis_review:
        review.append(
            Reason(
                "crisis_review",
                str(_("Crisis mode: every reply is approved by a supervisor before it goes.")),
            )
        )
    if result.verdict == Severity.REVIEW:
        review.append(
            Reason("finding_requires_review", str(_("The draft needs a supervisor's approval.")))
        )
    policy = policy_for(brand_id)
    if standing.level == Level.TRAINEE:
        review.append(
            Reason(
                "trainee_review",
                str(_("As a trainee, every reply is approved by a supervisor before it goes.")),
            )
        )
    else:
        rate = (
            policy.mentor_sample_rate
            if standing.level == Level.MENTOR
            else policy.certified_sample_rate
        )
        if is_sampled(policy.sample_seed, reply_key, rate):
            review.append(
                Reason("sampled", str(_("This reply was picked at random for a quality check.")))
            )
    return Decision(
        allowed=True,
        needs_review=bool(review),
        reasons=tuple(review),
        notices=tuple(notices),
        lint=result,
        level=standing.level,
    )
