"""The package shows its parts: each a folder that says what it owns, imports running one way between them, and
every module, the demo and the scripted model included, small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reference_impl" / "codex_subagents"
PARTS = (
    "core",
    "worktree",
    "codex_home",
    "jobs",
    "observe",
    "live",
    "coordination",
    "supervision",
    "server",
    "commands",
)
"""The parts from the bottom up: a part imports only from the parts before it (and from itself)."""
BESIDE = "scripted_model"
"""The test tool beside the server: it imports no part, and only the commands (the demo) import it."""
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 300
MAX_BODY_LINES = 80


def dotted(module: Path) -> tuple[str, ...]:
    """The module's name below the package: ``("worktree", "snapshot")``; a package's ``__init__`` is the package."""
    parts = module.relative_to(PACKAGE).with_suffix("").parts
    return parts[:-1] if parts[-1] == "__init__" else parts


def imported(module: Path) -> set[tuple[str, ...]]:
    """The package's modules (or packages) that ``module`` imports, as names below the package."""
    name = dotted(module)
    package = name if module.name == "__init__.py" else name[:-1]
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = (*base, *node.module.split(".")) if node.module else base
            found.update({target} if node.module else {(*target, alias.name) for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("codex_subagents."):
            found.add(tuple(str(node.module).split(".")[1:]))
    return found


def part_of(name: tuple[str, ...]) -> str | None:
    """The part a module belongs to; None for the package's own ``__init__`` and ``__main__``."""
    return name[0] if len(name) > 1 or (name and name[0] in (*PARTS, BESIDE)) else None


def test_every_part_is_a_folder_that_says_what_it_owns() -> None:
    """Each part has a package docstring, and no module of the server sits outside a part."""
    for part in (*PARTS, BESIDE):
        docstring = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text()))
        assert docstring and len(docstring) > 40, f"{part}/__init__.py should say what the part owns"
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py", "__main__.py"})
    assert loose == []
    assert sorted(
        p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__" and p.name != "skill"
    ) == sorted((*PARTS, BESIDE))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_part_imports_only_the_parts_below_it(module: Path) -> None:
    """Imports run one way between the parts; the scripted model is used by the demo alone and uses no part."""
    here = part_of(dotted(module))
    for target in imported(module):
        there = part_of(target)
        if here is None or there is None or there == here:
            continue
        if BESIDE in (here, there):
            assert (here, there) == ("commands", BESIDE), f"{dotted(module)} imports {target}"
            continue
        assert PARTS.index(there) < PARTS.index(here), f"{'.'.join(dotted(module))} imports {'.'.join(target)}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_fits_in_one_sitting(module: Path) -> None:
    """No module of the package is longer than 300 lines."""
    lines = len(module.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module.name} has {lines} lines"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
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
    graph = {dotted(module): imported(module) for module in MODULES}
    done: set[tuple[str, ...]] = set()

    def visit(name: tuple[str, ...], trail: tuple[tuple[str, ...], ...]) -> None:
        assert name not in trail, f"import cycle: {' -> '.join('.'.join(n) for n in (*trail, name))}"
        if name in done:
            return
        for other in sorted(graph.get(name, set()) - {name[:-1], ()}):
            visit(other, (*trail, name))
        done.add(name)

    for name in sorted(graph):
        visit(name, ())
