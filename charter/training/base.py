"""What quizzes and practice share: the errors a person reads, and the lock on their
standing that makes one person's training actions run one at a time."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from charter.models import Standing


class TrainingError(ValueError):
    """A training action that does not apply; the message is meant for the person."""


class CooldownActive(TrainingError):
    """A retake asked for before the cool-down after a failed attempt ends."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(_("You can retake this quiz after the cool-down ends."))


class AlreadySubmitted(TrainingError):
    """The attempt was submitted already; it is never scored twice."""


def locked_standing(user_id: int, brand_id: int) -> Standing:
    """The person's standing row, locked for the transaction; TrainingError without one."""
    standing = (
        Standing.objects.select_for_update().filter(user_id=user_id, brand_id=brand_id).first()
    )
    if standing is None:
        raise TrainingError(_("You are not enrolled in this programme."))
    return standing
