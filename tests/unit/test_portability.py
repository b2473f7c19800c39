"""The server runs on Linux and macOS: its own code touches no Linux-only interface, and Windows is refused clearly.

Process control goes through psutil; a scan of the server's source (the package
without the scripted model and the demo) keeps ``/proc`` and its kin out.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import codex_subagents
from codex_subagents.cli import main

PACKAGE = Path(codex_subagents.__file__).resolve().parent
LINUX_ONLY = re.compile(
    r"/proc\b|/sys/|/dev/shm|\bprctl\b|\bpidfd|\binotify|\bepoll|\bsignalfd|sched_getaffinity|memfd_"
)


def server_sources() -> list[Path]:
    """Every module of the server: the package without the scripted model provider and the demo."""
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "scripted_model" not in path.relative_to(PACKAGE).parts and path.name != "demo.py"
    ]


def linux_only_blocks(source: str) -> set[int]:
    """The lines of ``source`` inside an ``if sys.platform == "linux":`` block, which no other platform runs."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "sys.platform == 'linux'":
            for statement in node.body:
                lines.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
    return lines


def test_the_server_touches_no_linux_only_interface_outside_a_linux_only_block() -> None:
    """No module of the server names /proc, /sys or a Linux-only call, except as an extra under a platform check."""
    found: list[str] = []
    for path in server_sources():
        source = path.read_text()
        guarded = linux_only_blocks(source)
        found += [
            f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
            for number, line in enumerate(source.splitlines(), 1)
            if LINUX_ONLY.search(line) and number not in guarded
        ]
    assert len(server_sources()) > 10
    assert found == []


def test_a_linux_only_block_is_found_and_nothing_else_counts_as_one() -> None:
    """The check's own guard: the body of the platform check is exempt, its neighbours are not."""
    source = "\n".join(
        [
            "import sys",
            'if sys.platform == "linux":',
            '    open("/proc/x")',
            'open("/proc/y")',
            "if sys.platform:",
            "    pass",
        ]
    )
    assert linux_only_blocks(source) == {3}


def test_serve_refuses_windows_with_the_supported_platforms(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On Windows, serve exits with a configuration error naming Linux and macOS before it starts anything."""
    monkeypatch.setattr(sys, "platform", "win32")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert "Linux and macOS" in error and "'win32'" in error
