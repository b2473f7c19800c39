"""The server's code stays in rooms small enough to read in one sitting, with imports in one direction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reference_impl" / "codex_subagents"
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "demo.py")
MAX_MODULE_LINES = 300
MAX_BODY_LINES = 80


def _imports(module: Path) -> set[str]:
    """The sibling modules ``module`` imports at run time (``from . import x``, ``from .x import y``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found - {"scripted_model"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_every_module_of_the_server_fits_in_one_sitting(module: Path) -> None:
    """No module of the server is longer than 300 lines."""
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.name} has {lines} lines"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_no_function_or_class_body_is_longer_than_80_lines(module: Path) -> None:
    """Each function and class reads at a glance."""
    tree = ast.parse(module.read_text())
    long = [
        f"{node.name} ({(node.end_lineno or node.lineno) - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_BODY_LINES
    ]
    assert long == []


def test_imports_between_modules_go_one_way() -> None:
    """The modules' imports form no cycle, so each can be read and tested below the ones that use it."""
    graph = {module.stem: _imports(module) & {m.stem for m in MODULES} for module in MODULES}
    done: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        assert name not in trail, f"import cycle: {' -> '.join((*trail, name))}"
        if name in done:
            return
        for other in sorted(graph[name]):
            visit(other, (*trail, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
