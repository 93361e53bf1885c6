"""Every string the desk shows has a French translation: the catalog is rebuilt from the code
and templates (Django's makemessages, in a copy of the project) and no message may be left
untranslated or fuzzy; and the compiled catalog that ships matches the source catalog."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path("locale/fr/LC_MESSAGES/django.po")
SOURCES = ("helpdesk", "routing", "charter", "templates", "locale", "manage.py")


def _require_gettext() -> None:
    if shutil.which("xgettext") and shutil.which("msgmerge") and shutil.which("msgfmt"):
        return
    reason = "needs GNU gettext (xgettext, msgmerge, msgfmt): apt-get install gettext"
    if os.environ.get("HELPFORCE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required tool missing: {reason}")
    pytest.skip(reason)


def _entries(po: str) -> list[tuple[str, str, bool]]:
    """(msgid, every msgstr joined, fuzzy) of each entry except the header."""
    found = []
    for block in po.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid: list[str] = []
        msgstr: list[str] = []
        current: list[str] | None = None
        for line in lines:
            if line.startswith("msgid "):
                current = msgid
            elif line.startswith("msgid_plural"):
                current = None
            elif line.startswith("msgstr"):
                current = msgstr
                msgstr.append("|")  # each plural form starts a new part
            if current is not None and '"' in line:
                current.append(re.sub(r'^[^"]*"(.*)"$', r"\1", line))
        text = "".join(msgid)
        if text:
            found.append((text, "".join(msgstr), fuzzy))
    return found


def test_every_message_has_a_french_translation(tmp_path: Path) -> None:
    _require_gettext()
    # Given a copy of the project, so the real catalog is not rewritten
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)

    # When the French catalog is rebuilt from the code and the templates
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "fr",
            "--no-obsolete",
            "--ignore",
            "*/migrations/*",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr

    # Then every message has a translation that nobody left fuzzy
    entries = _entries((tmp_path / CATALOG).read_text(encoding="utf-8"))
    missing = [msgid for msgid, msgstr, _ in entries if "" in msgstr.split("|")[1:]]
    fuzzy = [msgid for msgid, _, is_fuzzy in entries if is_fuzzy]
    assert len(entries) > 400
    assert missing == [], f"{len(missing)} messages without French: {missing[:20]}"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy translations: {fuzzy[:20]}"


def test_the_compiled_catalog_is_up_to_date(tmp_path: Path) -> None:
    _require_gettext()
    compiled = tmp_path / "django.mo"

    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(ROOT / CATALOG)],
        check=True,
        capture_output=True,
        timeout=60,
    )

    shipped = (ROOT / CATALOG).with_suffix(".mo").read_bytes()
    assert compiled.read_bytes() == shipped, "run: manage.py compilemessages -l fr"
