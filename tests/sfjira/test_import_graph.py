"""The import graph of plugins/sfjira has no cycle.

Every `import` of an sfjira module counts, at module level or inside a function (a cycle hidden behind a
function-local import is still a cycle), except under `if TYPE_CHECKING:`. Importing `a.b.c` first runs
the packages `a.b` and `a`, so those count as edges too (except the importer's own packages).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "plugins"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in (ROOT / "sfjira").rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The module `name` names, or the nearest package holding it (for `from pkg import name`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(filter(None, (_resolve(a.name) for a in child.names if a.name.startswith("sfjira"))))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                if base.startswith("sfjira"):
                    found.update(filter(None, (_resolve(f"{base}.{a.name}") for a in child.names)))
            visit(child)

    visit(ast.parse(path.read_text()))
    for target in list(found):
        parent = target.rpartition(".")[0]
        while parent and parent != "sfjira":
            if parent in MODULES and not f"{module}.".startswith(f"{parent}."):
                found.add(parent)
            parent = parent.rpartition(".")[0]
    found.discard(module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_the_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_plugins_sfjira_has_no_import_cycle() -> None:
    graph = {module: _imported(module, path) for module, path in MODULES.items()}
    assert "sfjira.transform" in graph["sfjira.sync.plan"]  # the walk sees real edges
    cycles = _cycles(graph)
    detail = [f"{' <-> '.join(c)}: " + "; ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a]) if b in c)
              for c in cycles]
    assert cycles == [], "\n".join(detail)
