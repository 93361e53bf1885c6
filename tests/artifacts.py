"""Where tests keep what people look at afterwards (screenshots, figures).

``test-artifacts/`` at the top of the checkout, or the directory ``HELPFORCE_ARTIFACTS`` names:
CI's two passes run side by side in one checkout, and each pass keeps its own, so that one
pass clearing its screenshots never removes the other's.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS_ROOT = Path(os.environ.get("HELPFORCE_ARTIFACTS") or ROOT / "test-artifacts")
if not ARTIFACTS_ROOT.is_absolute():
    ARTIFACTS_ROOT = ROOT / ARTIFACTS_ROOT
