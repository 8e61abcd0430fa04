"""The house's rules, read from the package's own source: SQL only behind the store's door,
no import cycle, and each layer importing only what lies below it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "worker"
_SQL_CALL = re.compile(r"\bsql\(")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imported_names(tree: ast.AST) -> Iterator[str]:
    """Every module a module imports when it runs (at its top or inside functions); what
    it imports only for type checking (``if TYPE_CHECKING:``) is not an import."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (name for child in node.orelse for name in _imported_names(child))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        yield from _imported_names(node)


@cache
def _graph() -> dict[str, frozenset[str]]:
    modules = _modules()
    return {
        name: frozenset(
            imported
            for imported in _imported_names(ast.parse(path.read_text(encoding="utf-8")))
            if imported in modules and imported != name
        )
        for name, path in modules.items()
    }


def _in(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {imported}"
        for module, imports in sorted(_graph().items())
        if _in(module, *importers)
        for imported in sorted(imports)
        if _in(imported, *forbidden)
    ]


def test_the_scan_sees_the_package() -> None:
    graph = _graph()
    assert "worker.daemon" in graph and "worker.store.jobs" in graph["worker.daemon"]
    assert "worker.model" in graph["worker.router"]


def test_only_the_store_runs_sql() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for name, path in _modules().items()
        if not _in(name, "worker.store")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _SQL_CALL.search(line)
    ]
    assert outside == [], "SQL belongs in worker/store/: " + ", ".join(outside)


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


def test_the_model_is_the_bottom_of_the_house() -> None:
    graph = _graph()
    escapes = [
        f"{module} imports {imported}"
        for module, imports in sorted(graph.items())
        if _in(module, "worker.model")
        for imported in sorted(imports)
        if not _in(imported, "worker.model")
    ]
    assert escapes == []


def test_the_store_does_not_reach_up() -> None:
    assert (
        _violations(("worker.store",), ("worker.sources", "worker.validation", "worker.flows"))
        == []
    )


def test_nothing_below_the_daemon_imports_the_cli_the_producer_api_or_the_daemon() -> None:
    below = (
        "worker.flows",
        "worker.sources",
        "worker.validation",
        "worker.store",
        "worker.model",
        "worker.router",
        "worker.messages",
        "worker.options",
        "worker.retry",
        "worker.intake",
        "worker.sqs",
    )
    assert _violations(below, ("worker.cli", "worker.producer", "worker.daemon")) == []
    # Only the command line (and `python -m worker`, which is it) imports the command line.
    outside = [
        f"{module} imports {imported}"
        for module, imports in sorted(_graph().items())
        if not _in(module, "worker.cli")
        for imported in sorted(imports)
        if _in(imported, "worker.cli")
    ]
    assert outside == ["worker.__main__ imports worker.cli.main"]
