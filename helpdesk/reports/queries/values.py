"""The figures' values: durations (exact percentiles), volumes, SLA, and a group's
figures. Plain data, as the pages, exports and API read them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from helpdesk.reports.percentiles import (
    FRACTIONS,
    percentiles,
)

# --- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Durations:
    """Exact percentiles (seconds) of ``count`` durations; ``None`` when there are none."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None

    @classmethod
    def of(cls, count: int, values: list[float] | None) -> Durations:
        if not values or count == 0:
            return cls(count, None, None, None)
        p50, p90, p95 = values
        return cls(count, p50, p90, p95)

    @classmethod
    def from_values(cls, values: list[float]) -> Durations:
        return cls.of(len(values), percentiles(values, FRACTIONS))

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "p50": self.p50, "p90": self.p90, "p95": self.p95}


# No durations to count.
EMPTY = Durations(0, None, None, None)


@dataclass(frozen=True)
class Volumes:
    received: int
    answered: int
    dismissed: int
    escalated: int

    @property
    def open(self) -> int:
        return self.received - self.answered - self.dismissed - self.escalated

    @property
    def answer_rate(self) -> float | None:
        """Answered over received less dismissed (noise is not a question to answer)."""
        to_answer = self.received - self.dismissed
        return self.answered / to_answer if to_answer else None

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "answered": self.answered,
            "dismissed": self.dismissed,
            "escalated": self.escalated,
            "open": self.open,
            "answer_rate": self.answer_rate,
        }


@dataclass(frozen=True)
class Sla:
    """First responses within the deadline (``met``), after it or still missing past it
    (``breached``), and still within it (``pending``, not counted in the compliance)."""

    met: int
    breached: int
    pending: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "compliance": self.compliance,
        }


@dataclass(frozen=True)
class Figures:
    """The figures of one group of questions (or of all of them)."""

    volumes: Volumes
    first_response: Durations
    desk_response: Durations
    sla: Sla

    def as_json(self) -> dict[str, Any]:
        return {
            **self.volumes.as_json(),
            "first_response": self.first_response.as_json(),
            "desk_response": self.desk_response.as_json(),
            "sla": self.sla.as_json(),
        }
