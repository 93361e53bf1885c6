"""Every change of state goes through ``helpdesk.moves`` and every audit row through
``helpdesk.audit``: the code of the three apps is read for anything that goes around them,
and the core itself is tried for what it promises (the table, the row count that decides,
the audit row only for a move that happened, the announcement only after commit)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from helpdesk.audit import events
from helpdesk.models import AuditEvent, Question
from helpdesk.moves import move_question, move_questions
from helpdesk.states import ForbiddenTransition, QuestionState
from routing.claims import expire_leases
from tests.factories import make_brand, make_volunteer
from tests.reports.factories import make_question

ROOT = Path(__file__).resolve().parents[1]
APPS = ("helpdesk", "routing", "charter")
CORE = {"helpdesk/moves.py"}
AUDIT_WRITER = {"helpdesk/audit.py"}
# Routing decides a new question's state in memory before ``settle_routed`` (or ingestion's
# insert) writes it.
# The demo's history builds its rows in their final state before inserting them.
IN_MEMORY_DECISIONS = {
    ("routing/actions.py", "_classify_for_brand"),
    ("helpdesk/reports/demo_history/outcomes.py", "make_replies"),
}
STATEFUL = {"Question", "Reply"}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative:
                continue
            yield relative, ast.parse(path.read_text(), filename=relative)


def _functions(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node's enclosing function name."""
    owner: dict[ast.AST, str] = {}
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                owner.setdefault(node, function.name)
    return owner


def _literal_strings(node: ast.AST) -> set[str]:
    return {
        item.value
        for item in ast.walk(node)
        if isinstance(item, ast.Constant) and isinstance(item.value, str)
    }


def _may_hold_state(method: ast.Attribute) -> bool:
    """False only for a model known to have no state (``Customer.objects.bulk_update``)."""
    root: ast.AST = method.value
    while isinstance(root, ast.Attribute | ast.Call):
        root = root.value if isinstance(root, ast.Attribute) else root.func
    return not (isinstance(root, ast.Name) and root.id[:1].isupper() and root.id not in STATEFUL)


def bypasses(relative: str, tree: ast.Module) -> list[str]:
    """The places in one module that change a state or write the audit log themselves."""
    found = []
    owner = _functions(tree)
    for node in ast.walk(tree):
        where = f"{relative}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            keywords = {keyword.arg for keyword in node.keywords}
            if method == "update" and "state" in keywords and relative not in CORE:
                found.append(f"{where}: .update(state=...)")
            if method == "bulk_update" and relative not in CORE and _may_hold_state(node.func):
                fields = node.args[1] if len(node.args) > 1 else None
                if fields is None or not isinstance(fields, ast.List | ast.Tuple):
                    found.append(f"{where}: .bulk_update() with fields it cannot read")
                elif "state" in _literal_strings(fields):
                    found.append(f"{where}: .bulk_update(..., ['state', ...])")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
            and node.value.id == "AuditEvent"
            and relative not in AUDIT_WRITER
        ):
            found.append(f"{where}: AuditEvent.objects")
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "state"
                    and relative not in CORE
                    and (relative, owner.get(node, "")) not in IN_MEMORY_DECISIONS
                ):
                    found.append(f"{where}: .state = ...")
    return found


def test_nothing_changes_a_state_or_writes_the_audit_log_around_the_core() -> None:
    found = [line for relative, tree in _modules() for line in bypasses(relative, tree)]

    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "Question.objects.filter(pk=1).update(state='queued')",
        "Reply.objects.filter(pk=1).update(state='sent', sent_at=now)",
        "AuditEvent.objects.create(kind='question.claimed')",
        "AuditEvent.objects.bulk_create(rows)",
        "Question.objects.bulk_update(rows, ['state', 'priority'])",
        "Question.objects.bulk_update(rows, FIELDS)",
        "Reply.objects.filter(state='queued').bulk_update(rows, FIELDS)",
        "question.state = 'queued'",
    ],
)
def test_the_reader_finds_each_way_around(source: str) -> None:
    assert bypasses("routing/elsewhere.py", ast.parse(source))


def test_the_reader_lets_other_writes_be() -> None:
    source = (
        "Shift.objects.bulk_update(shifts, ['ended_at'])\n"
        "Customer.objects.bulk_update(changed, list(fields))\n"
        "q.update(priority=1)\n"
    )

    assert bypasses("routing/elsewhere.py", ast.parse(source)) == []


# --- what the core promises ------------------------------------------------------------------


@pytest.fixture
def queued(db: Any) -> Question:
    brand = make_brand()
    return make_question(brand, received_at=timezone.now(), state=QuestionState.QUEUED)


def test_a_move_the_table_forbids_writes_nothing(queued: Question) -> None:
    with pytest.raises(ForbiddenTransition):
        move_question(queued, QuestionState.ANSWERED)

    queued.refresh_from_db()
    assert queued.state == QuestionState.QUEUED
    assert not events().filter(question=queued).exists()


def test_the_row_count_decides_and_only_a_move_is_audited(
    queued: Question, django_capture_on_commit_callbacks: Any
) -> None:
    holder = make_volunteer(queued.brand).user
    stale = Question.objects.get(pk=queued.pk)
    with django_capture_on_commit_callbacks() as announced:
        first = move_question(
            queued, QuestionState.CLAIMED, actor=holder, fields={"claimed_by": holder}
        )
        second = move_question(stale, QuestionState.CLAIMED, actor=holder)

    assert (first, second) == (True, False)
    assert list(events().filter(question=queued).values_list("kind", "from_state", "to_state")) == [
        ("question.claimed", QuestionState.QUEUED, QuestionState.CLAIMED)
    ]
    assert len(announced) == 1
    assert queued.state == QuestionState.CLAIMED and queued.claimed_by_id == holder.pk
    assert stale.state == QuestionState.QUEUED


def test_a_condition_that_no_longer_holds_is_no_move(queued: Question) -> None:
    moved = move_question(queued, QuestionState.CLAIMED, where=Q(offered_to__isnull=False))

    assert moved is False
    assert Question.objects.get(pk=queued.pk).state == QuestionState.QUEUED
    assert not events().filter(question=queued).exists()


def test_nothing_is_announced_when_the_transaction_rolls_back(
    queued: Question, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks() as announced,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        move_question(queued, QuestionState.DISMISSED, data={"reason": "spam"})
        raise RuntimeError("the caller failed after the move")

    assert announced == []
    assert Question.objects.get(pk=queued.pk).state == QuestionState.QUEUED
    assert not AuditEvent.objects.filter(question=queued).exists()


def test_the_bulk_form_moves_what_is_still_there(queued: Question) -> None:
    other = make_question(queued.brand, received_at=timezone.now(), state=QuestionState.DISMISSED)

    moved = move_questions(
        [queued.pk, other.pk],
        QuestionState.QUEUED,
        QuestionState.DISMISSED,
        kind="question.dismissed",
        actor_label="system:test",
        data={queued.pk: {"reason": "duplicate"}},
    )

    assert moved == [queued.pk]
    assert list(events().values_list("question_id", "data")) == [
        (queued.pk, {"reason": "duplicate"})
    ]


def test_an_entry_point_is_its_own_transaction(queued: Question) -> None:
    """Entry points open a durable transaction: run inside someone else's, their
    announcements and locks would wait for a commit they do not control."""
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        expire_leases()

    assert Question.objects.get(pk=queued.pk).state == QuestionState.QUEUED
