"""The fault suite's figures, repeated at the end of pytest's output (captured or not)."""

from __future__ import annotations

from typing import Any

from tests.faults.common import ARTIFACT, PRINTED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not PRINTED:
        return
    terminalreporter.section("fault suite figures")
    for line in PRINTED:
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(also appended to {ARTIFACT})")
