"""What a training module is made of: its quiz questions and the module's settings."""

from __future__ import annotations

from dataclasses import dataclass

from charter.models import QuestionKind

PASS_MARK_PERCENT = 80
QUESTIONS_PER_ATTEMPT = 5
RETAKE_COOLDOWN_MINUTES = 60


@dataclass(frozen=True)
class Q:
    prompt: str
    choices: tuple[str, ...]
    correct: tuple[int, ...]
    explanation: str

    @property
    def kind(self) -> str:
        return QuestionKind.SINGLE if len(self.correct) == 1 else QuestionKind.MULTIPLE


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    title: str
    content: str
    video_url: str
    questions: tuple[Q, ...]
