"""``manage.py lint_draft``: plain and JSON Lines input, the brand's settings, brand choice,
bad lines and files (DESIGN invariant 9), and one run as a real process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from charter.linter import LintConfig, lint
from charter.linter.messages import MESSAGES
from charter.models import LinterSettings
from helpdesk.models import Brand
from tests.factories import make_account, make_brand

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind() -> Brand:
    brand = make_brand(name="Northwind", slug="northwind")
    make_account(brand, username="NorthwindHelp")
    make_account(brand, username="NorthwindAide")
    LinterSettings.objects.create(
        brand=brand, allowed_domains=["northwind.com"], blocked_terms=["stupid"]
    )
    return brand


def write_lines(tmp_path: Path, lines: list[str], name: str = "drafts.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def run(*args: str) -> tuple[list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("lint_draft", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def brand_config() -> LintConfig:
    return LintConfig(
        allowed_domains=("northwind.com",),
        blocked_terms=("stupid",),
        brand_handles=("NorthwindAide", "NorthwindHelp"),
    )


def test_plain_lines_give_one_exact_json_line_each(northwind: Brand, tmp_path: Path) -> None:
    drafts = [
        "Thanks for waiting, we're on it!",
        "See https://bit.ly/x or ask @NorthwindAide",
        "Un remboursement ? Écrivez à marie@orange.fr",
    ]
    path = write_lines(tmp_path, [drafts[0], "", "   ", drafts[1], drafts[2]])
    out = io.StringIO()

    call_command("lint_draft", str(path), "--brand", "northwind", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == (
        '{"text": "Thanks for waiting, we\'re on it!", "verdict": "ok", '
        '"weighted_length": 32, "findings": []}'
    )
    assert lines == [
        json.dumps(lint(text, brand_config()).as_json(), ensure_ascii=False) for text in drafts
    ]
    assert [json.loads(line)["verdict"] for line in lines] == ["ok", "block", "block"]
    third = json.loads(lines[2])
    assert [f["rule"] for f in third["findings"]] == ["promise", "email_address"]
    assert "Écrivez à" in lines[2]  # not \u00c9: ensure_ascii=False


def test_jsonl_fields_are_honoured(northwind: Brand, tmp_path: Path) -> None:
    records = [
        {"text": "Merci ! ^AB", "signature": "^AB", "language": "fr"},
        {"text": "Merci !", "signature": "^AB", "language": "fr"},
        {"text": "@ann_b @bob_c Thanks!", "customer_handle": "ann_b"},
        {"text": "@ann_b @bob_c Thanks!"},
    ]
    path = write_lines(tmp_path, [json.dumps(r, ensure_ascii=False) for r in records], "d.jsonl")

    results, err = run(str(path), "--brand", "@NorthwindHelp")

    assert err == ""
    assert [r["verdict"] for r in results] == ["ok", "advice", "review", "ok"]
    assert results[1]["findings"] == [
        {
            "rule": "missing_signature",
            "severity": "advice",
            "start": 7,
            "end": 7,
            "message": "Signez votre réponse avec ^AB pour que le client sache qui lui a répondu.",
        }
    ]
    assert [f["rule"] for f in results[2]["findings"]] == ["other_customer"]


def test_language_and_signature_options_apply_to_plain_lines(
    northwind: Brand, tmp_path: Path
) -> None:
    path = write_lines(tmp_path, ["Appelez le 06 12 34 56 78"])

    results, _ = run(str(path), "--language", "fr", "--signature", "^JD")

    assert [(f["rule"], f["message"]) for f in results[0]["findings"]] == [
        ("phone_number", MESSAGES["fr"]["phone_number"]),
        (
            "missing_signature",
            "Signez votre réponse avec ^JD pour que le client sache qui lui a répondu.",
        ),
    ]


@pytest.mark.parametrize(
    "wanted", ["NorthwindHelp", "@northwindhelp", "NORTHWINDAIDE", "northwind"]
)
def test_the_brand_is_found_by_handle_or_slug(
    northwind: Brand, tmp_path: Path, wanted: str
) -> None:
    other = make_brand(slug="contoso")
    make_account(other, username="ContosoCare")
    path = write_lines(tmp_path, ["Try https://bit.ly/x"])

    results, _ = run(str(path), "--brand", wanted)

    assert [f["rule"] for f in results[0]["findings"]] == ["link_domain", "link_cost"]
    contoso, _ = run(str(path), "--brand", "@ContosoCare")
    assert [f["rule"] for f in contoso[0]["findings"]] == ["link_cost"]  # no allowed list


def test_the_brand_may_be_left_out_only_when_there_is_one(northwind: Brand, tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["That was stupid"])
    results, _ = run(str(path))
    assert results[0]["verdict"] == "block"

    make_account(make_brand(slug="contoso"), username="ContosoCare")
    with pytest.raises(CommandError) as raised:
        run(str(path))
    assert str(raised.value) == (
        "several brands exist; pass --brand with one of: contoso (@ContosoCare); "
        "northwind (@NorthwindAide, @NorthwindHelp)"
    )


def test_an_unknown_or_missing_brand_is_a_clear_error(db: None, tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["Hello"])
    with pytest.raises(CommandError, match="there is no brand yet"):
        run(str(path))

    make_brand(slug="northwind")
    with pytest.raises(
        CommandError, match=r"no brand has the handle or slug '@nobody'; brands: northwind$"
    ):
        run(str(path), "--brand", "@nobody")


def test_a_brand_without_linter_settings_gets_the_defaults(db: None, tmp_path: Path) -> None:
    make_account(make_brand(slug="plain"), username="PlainCare")
    path = write_lines(tmp_path, ["Try https://bit.ly/x, ask @PlainCare"])

    results, _ = run(str(path), "--brand", "plain")

    assert results == [
        lint(
            "Try https://bit.ly/x, ask @PlainCare", LintConfig(brand_handles=("PlainCare",))
        ).as_json()
    ]
    assert [f["rule"] for f in results[0]["findings"]] == ["link_cost"]


def test_bad_lines_are_reported_and_the_others_still_linted(
    northwind: Brand, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b'{"text": "first"}\n'
        b'{"txt": "no text"}\n'
        b"{not json\n"
        b'{"text": 12}\n'
        b'{"text": "x", "language": "de"}\n'
        b'{"text": "x", "signature": ["^AB"]}\n'
        b"caf\xe9 in latin-1\n"
        b"[1, 2] is a plain draft\n"
        b'{"text": "last"}\n'
    )
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("lint_draft", str(path), stdout=out, stderr=err)

    assert [json.loads(line)["text"] for line in out.getvalue().splitlines()] == [
        "first",
        "[1, 2] is a plain draft",
        "last",
    ]
    assert err.getvalue().splitlines() == [
        'line 2: a JSON line needs a "text" string',
        "line 3: starts with { but is not a JSON object (Expecting property name enclosed in "
        "double quotes)",
        'line 4: "text" is not a string',
        'line 5: "language" must be one of en, fr',
        'line 6: "signature" is not a string',
        "line 7: not UTF-8 text (byte 4)",
    ]
    assert str(raised.value) == "6 line(s) could not be linted; see the reasons above"


def test_stdin_is_read_with_a_dash(northwind: Brand, monkeypatch: pytest.MonkeyPatch) -> None:
    data = "\ufeffHello there\r\n".encode() + b'{"text": "Bonjour"}\r\n'
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))

    results, _ = run("-")

    assert [r["text"] for r in results] == ["Hello there", "Bonjour"]


def test_a_missing_file_is_a_clear_error(northwind: Brand, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"nope\.txt: no such file"):
        run(str(tmp_path / "nope.txt"))
    with pytest.raises(CommandError, match="is a directory, not a file"):
        run(str(tmp_path))


def test_the_command_runs_as_a_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(HELPFORCE_VAR_DIR=str(tmp_path), SECRET_KEY="x", DEBUG="1")
    setup = (
        "from django.core.management import call_command\n"
        "from helpdesk.models import Brand, XAccount\n"
        "call_command('migrate', verbosity=0)\n"
        "brand = Brand.objects.create(name='Northwind', slug='northwind')\n"
        "XAccount.objects.create(brand=brand, username='NorthwindHelp', x_user_id='1')\n"
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "shell", "-c", setup],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    drafts = write_lines(
        tmp_path,
        ["Thanks! ^AB", '{"text": "Appelez le 06 12 34 56 78", "language": "fr"}', '{"nope": 1}'],
    )

    done = subprocess.run(
        [*manage, "lint_draft", "--brand", "@northwindhelp", str(drafts)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.stdout.splitlines() == [
        '{"text": "Thanks! ^AB", "verdict": "ok", "weighted_length": 11, "findings": []}',
        '{"text": "Appelez le 06 12 34 56 78", "verdict": "block", "weighted_length": 25, '
        '"findings": [{"rule": "phone_number", "severity": "block", "start": 11, "end": 25, '
        f'"message": "{MESSAGES["fr"]["phone_number"]}"}}]}}',
    ]
    assert done.stderr.splitlines() == [
        'line 3: a JSON line needs a "text" string',
        "CommandError: 1 line(s) could not be linted; see the reasons above",
    ]
    assert done.returncode == 1
