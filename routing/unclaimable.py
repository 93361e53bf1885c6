"""Questions nobody may claim: in a language that no one on the brand's desk speaks, on shift
or not (issue 15 item 5). They would wait in the queue for ever with no one seeing them, so
routing says so at once: an audit row per question (``question.unclaimable``) and an
announcement to the brand's monitoring screens, which supervisors watch.

A brand with nobody on its desk yet is not alerted: every question is unclaimable there, and
that is a brand being set up, not a question in trouble.
"""

from __future__ import annotations

from collections.abc import Sequence

from helpdesk.audit import Event, record_many
from helpdesk.events import announce, monitoring_group
from helpdesk.models import Question, Volunteer
from helpdesk.permissions import DESK_ROLES
from routing.eligibility import DEFAULT_LANGUAGES, primary_language

UNCLAIMABLE = "question.unclaimable"


def desk_languages(brand_id: int) -> set[str] | None:
    """The languages someone on the brand's desk speaks (primary tags); None when the desk
    has nobody."""
    rows = Volunteer.objects.filter(
        brand_id=brand_id, role__in=DESK_ROLES, user__is_active=True
    ).values_list("languages", flat=True)
    found: set[str] | None = None
    for languages in rows:
        found = found or set()
        found.update(primary_language(str(tag)) for tag in (languages or DEFAULT_LANGUAGES))
    return found


def alert_unclaimable(
    brand_id: int, queued: Sequence[Question], *, actor_label: str
) -> list[Question]:
    """Audit and announce the queued questions (one brand, saved) whose language nobody on
    the desk speaks; return them. Runs inside the caller's transaction; the announcement
    goes out after it commits."""
    wanted = {primary_language(q.lang) for q in queued} - {""}
    if not wanted:
        return []
    spoken = desk_languages(brand_id)
    if spoken is None:
        return []
    stranded = [q for q in queued if primary_language(q.lang) in wanted - spoken]
    if not stranded:
        return []
    record_many(
        Event(
            UNCLAIMABLE,
            actor_label,
            brand_id,
            question_id=q.pk,
            data={"reason": "language", "language": primary_language(q.lang)},
        )
        for q in stranded
    )
    announce(
        [monitoring_group(brand_id)],
        "questions.unclaimable",
        {
            "brand_id": brand_id,
            "question_ids": [q.pk for q in stranded],
            "languages": sorted({primary_language(q.lang) for q in stranded}),
        },
    )
    return stranded
