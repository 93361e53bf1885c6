"""What a refused request must leave unchanged: the rows of the programme's tables."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Sum

from charter.models import CharterAcceptance, CharterEvent, LinkedXAccount, Standing
from helpdesk.models import AuditEvent, Enrolment, InvitationCode, Volunteer


def programme_rows() -> dict[str, object]:
    """Counts of every table a programme action writes, and the state that can change in
    place (enrolment statuses, standings, invitation uses)."""
    return {
        "users": get_user_model().objects.count(),
        "enrolments": sorted(Enrolment.objects.values_list("pk", "status")),
        "volunteers": Volunteer.objects.count(),
        "standings": sorted(
            Standing.objects.values_list("pk", "level", "is_suspended", "suspended_reason")
        ),
        "acceptances": CharterAcceptance.objects.count(),
        "charter_events": CharterEvent.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        "invitations": InvitationCode.objects.count(),
        "invitation_uses": InvitationCode.objects.aggregate(total=Sum("uses"))["total"],
        "linked_accounts": sorted(
            LinkedXAccount.objects.values_list(
                "pk", "access_token_encrypted", "refresh_token_encrypted"
            )
        ),
    }
