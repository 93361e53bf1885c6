"""The layering of ``docs/architecture.md``, read from the code: every import of the three
apps (at the top of a module or inside a function) is an edge; there is no cycle between
modules, no lower layer imports a higher one, and ``charter`` imports neither of the others.

Layers, lowest first:

1. ``charter``: the usage charter, the training gate and the linter; Django and the user
   model only.
2. the desk's core (:data:`CORE`): states, models, the audit log, the announcements, the
   one path for state changes, and who is what.
3. ``routing``: classification, eligibility, claims, placement, presence, SLA.
4. the rest of ``helpdesk``: X ingestion and sending, replies, pages, consumers, tasks,
   commands, and the reports (which read everything and write nothing).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("charter", "helpdesk", "routing")
# The package itself is not in it: its ``__init__`` starts the project's Celery app.
CORE = frozenset(
    {
        "helpdesk.apps",
        "helpdesk.audit",
        "helpdesk.crypto",
        "helpdesk.events",
        "helpdesk.fields",
        "helpdesk.models",
        "helpdesk.moves",
        "helpdesk.on_loop",
        "helpdesk.people",
        "helpdesk.permissions",
        "helpdesk.sequence",
        "helpdesk.states",
    }
)


def layer(module: str) -> int:
    if module.split(".")[0] == "charter":
        return 1
    if any(module == core or module.startswith(f"{core}.") for core in CORE):
        return 2
    if module.split(".")[0] == "routing":
        return 3
    return 4


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _owner(name: str, modules: dict[str, Path]) -> str:
    """The module of ours that ``name`` (a module or a name in one) lives in."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _imports(tree: ast.Module, modules: dict[str, Path]) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in APPS:
                yield node.lineno, _owner(name, modules)


def import_graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` for the modules of the three apps."""
    modules = _modules(root)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for line, target in _imports(ast.parse(path.read_text(), filename=str(path)), modules):
            if target and target != name and not name.startswith(f"{target}."):
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward(graph: dict[str, dict[str, int]]) -> list[str]:
    """Imports of a higher layer, and any import of the desk or routing from ``charter``."""
    return [
        f"{module}:{line} imports {target} (layer {layer(target)} from layer {layer(module)})"
        for module, edges in sorted(graph.items())
        for target, line in sorted(edges.items())
        if layer(target) > layer(module)
        or (layer(module) == 1 and target.split(".")[0] != "charter")
    ]


def test_there_is_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_no_lower_layer_imports_a_higher_one() -> None:
    found = upward(import_graph())

    assert found == [], "\n".join(found)


def test_the_graph_is_read_from_the_code() -> None:
    graph = import_graph()

    assert "helpdesk.moves" in graph["routing.claims"]
    assert "routing.claims" in graph["helpdesk.replies.submit"]
    assert "charter.gate" in graph["helpdesk.replies.submit"]
    assert "helpdesk.replies.submit" in graph["helpdesk.replies"]
    assert all(name.split(".")[0] in APPS for edges in graph.values() for name in edges)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for app in APPS:
        (root / app).mkdir(exist_ok=True)
        (root / app / "__init__.py").touch()
    return root


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "helpdesk/x/posting.py": "def f():\n    from helpdesk.tasks import send\n",
            "helpdesk/tasks.py": "from helpdesk.x import posting\n",
        },
    )

    assert cycles(import_graph(root)) == [["helpdesk.tasks", "helpdesk.x.posting"]]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("charter/gate.py", "from helpdesk.models import Brand\n"),
        ("charter/gate.py", "import routing.models\n"),
        ("helpdesk/models.py", "from routing.models import Topic\n"),
        ("helpdesk/moves.py", "from helpdesk.replies import ReplyError\n"),
        ("routing/claims.py", "def f():\n    from helpdesk.replies import submit_reply\n"),
    ],
)
def test_an_upward_import_is_found(tmp_path: Path, module: str, source: str) -> None:
    files = {"helpdesk/models.py": "", "helpdesk/replies.py": "", "routing/models.py": ""}
    root = _write(tmp_path, {**files, module: source})

    assert len(upward(import_graph(root))) == 1
