"""The server runs on Linux and macOS: its own code touches no Linux-only interface, and Windows is refused clearly.

Process control goes through psutil; a scan of the server's source (the package
without the scripted model and the demo) keeps ``/proc`` and its kin out. The
README's commands and the tests' shell commands use only tools macOS has too.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import codex_subagents
from codex_subagents.commands.cli import main

PACKAGE = Path(codex_subagents.__file__).resolve().parent
PROJECT = Path(__file__).resolve().parents[2]
GNU_ONLY = re.compile(r"(?:^|[\s;&|(`$])(setsid|sha256sum|sha1sum|md5sum|nproc|stdbuf|readlink -f|stat -c)(?=\s|$)")
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


def shell_scripts() -> list[Path]:
    """The scripts behind the README's commands and CI's."""
    return [*sorted((PROJECT / "scripts").iterdir()), PROJECT / ".ci" / "run"]


def test_the_readmes_scripts_and_the_tests_shell_commands_use_only_tools_macos_has_too() -> None:
    """No GNU-only command (setsid, sha256sum, nproc, readlink -f, ...) in a script or a test's command."""
    found = [
        f"{path.relative_to(PROJECT)}:{number}: {line.strip()}"
        for path in shell_scripts()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if GNU_ONLY.search(line) and not line.lstrip().startswith("#")
    ]
    for path in sorted(set((PROJECT / "tests").rglob("*.py")) - {Path(__file__).resolve()}):
        found += [
            f"{path.relative_to(PROJECT)}:{node.lineno}: {node.value!r}"
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and GNU_ONLY.search(node.value)
        ]
    assert len(shell_scripts()) >= 4
    assert found == []


def test_the_gnu_only_check_finds_a_command_but_not_a_word_in_prose() -> None:
    """The check's own guard: a command after a separator is found; the same word inside a sentence's word is not."""
    assert [bool(GNU_ONLY.search(text)) for text in ("(setsid sleep 1 &)", "x | sha256sum", "a setsid-free run")] == [
        True,
        True,
        False,
    ]
