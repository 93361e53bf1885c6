"""The training modules every brand starts with (``seed_training``): the charter, answering
well, and safety, each with its quiz."""

from helpdesk.management.training_modules.answering import ANSWERING
from helpdesk.management.training_modules.charter import CHARTER
from helpdesk.management.training_modules.safety import SAFETY
from helpdesk.management.training_modules.spec import (
    PASS_MARK_PERCENT,
    QUESTIONS_PER_ATTEMPT,
    RETAKE_COOLDOWN_MINUTES,
    ModuleSpec,
    Q,
)

DEFAULT_MODULES: tuple[ModuleSpec, ...] = (CHARTER, ANSWERING, SAFETY)

__all__ = [
    "ANSWERING",
    "CHARTER",
    "DEFAULT_MODULES",
    "PASS_MARK_PERCENT",
    "QUESTIONS_PER_ATTEMPT",
    "RETAKE_COOLDOWN_MINUTES",
    "SAFETY",
    "ModuleSpec",
    "Q",
]
