"""A repository with every kind of file a baseline must get right, and the kinds of change a worker can make to it,
for the tests that check a quick way (git's answer) against a full listing of the worktree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unit.repos import committed, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with CRLF rules, a clean filter, ignored files and directories, and a file tracked in one."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "filter.upper.clean", "tr a-z A-Z")
    (root / ".gitattributes").write_text("*.txt text eol=crlf\n*.up filter=upper\n")
    (root / ".gitignore").write_text("*.log\n.env\nbuild/\nout/\n")
    (root / "a.txt").write_bytes(b"one\r\ntwo\r\n")
    (root / "b.up").write_text("lower\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "key").write_text("secret\n")
    (root / "key").chmod(0o600)
    (root / "tab\tin name.md").write_text("git separates its fields by tabs\n")
    (root / "link").symlink_to("a.txt")
    (root / "build").mkdir()
    (root / "build" / "kept.txt").write_text("tracked in an ignored directory\n")
    git(root, "add", "-A")
    git(root, "add", "-f", "build/kept.txt")
    git(root, "commit", "-qm", "start")
    (root / "notes.md").write_text("untracked\n")
    (root / "debug.log").write_text("ignored\n")
    (root / ".env").write_text("TOKEN=1\n")
    (root / "build" / "out.o").write_bytes(b"\x7fELF")
    (root / "later").mkdir()
    (root / "later" / "draft.md").write_text("untracked, later ignored\n")
    return root.resolve()


def line_endings_changed(repo: Path) -> None:
    (repo / "a.txt").write_bytes(b"one\ntwo\n")


def filtered_file_edited(repo: Path) -> None:
    (repo / "b.up").write_text("LOWER\n")


def modes_changed(repo: Path) -> None:
    (repo / "key").chmod(0o644)
    (repo / "run.sh").chmod(0o700)
    (repo / "notes.md").chmod(0o640)


def links_changed(repo: Path) -> None:
    (repo / "link").unlink()
    (repo / "link").symlink_to("run.sh")
    (repo / "notes.md").unlink()
    (repo / "notes.md").symlink_to("key")


def files_removed(repo: Path) -> None:
    (repo / "tab\tin name.md").unlink()
    (repo / "run.sh").unlink()
    (repo / "notes.md").unlink()
    (repo / ".env").unlink()


def files_added(repo: Path) -> None:
    (repo / "new.md").write_text("new\n")
    (repo / "deep" / "er").mkdir(parents=True)
    (repo / "deep" / "er" / "file.txt").write_bytes(b"crlf\r\n")
    (repo / "trace.log").write_text("new ignored\n")
    os.mkfifo(repo / "pipe")


def a_file_became_a_directory(repo: Path) -> None:
    (repo / "notes.md").unlink()
    (repo / "notes.md").mkdir()
    (repo / "notes.md" / "inside.md").write_text("inside\n")


def a_directory_became_ignored(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n.env\nbuild/\nout/\nlater/\n")


def a_file_became_tracked_and_the_rule_ignores_it(repo: Path) -> None:
    (repo / "build" / "kept.txt").unlink()
    (repo / "kept.log").write_text("tracked, ignored by its name\n")
    git(repo, "add", "-f", "kept.log")
    (repo / "build" / "kept.txt").write_text("back\n")


def an_ignored_file_grew_past_the_limit(repo: Path) -> None:
    (repo / ".env").write_text("TOKEN=" + "x" * 100 + "\n")


def small_ignored_files_crowd_out_an_older_one(repo: Path) -> None:
    for number in range(4):
        (repo / f"x{number}.log").write_text("small\n")


def a_nested_repository_appeared(repo: Path) -> None:
    nested = repo / "vendor" / "lib"
    nested.mkdir(parents=True)
    git(nested, "init", "-q")
    (nested / "lib.c").write_text("int x;\n")


def a_submodule_was_added(repo: Path) -> None:
    committed(repo / "module", {"m.c": "int m;\n"})
    git(repo, "add", "module")


def a_tracked_file_appeared_in_a_directory_the_previous_baseline_held_nothing_of(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.log\n.env\nbuild/\nout/\ncache/\n")
    (repo / "cache").mkdir()
    (repo / "cache" / "tracked.txt").write_text("force-added\n")
    git(repo, "add", "-f", "cache/tracked.txt")


CHANGES = [
    line_endings_changed,
    filtered_file_edited,
    modes_changed,
    links_changed,
    files_removed,
    files_added,
    a_file_became_a_directory,
    a_directory_became_ignored,
    a_file_became_tracked_and_the_rule_ignores_it,
    an_ignored_file_grew_past_the_limit,
    small_ignored_files_crowd_out_an_older_one,
    a_nested_repository_appeared,
    a_submodule_was_added,
    a_tracked_file_appeared_in_a_directory_the_previous_baseline_held_nothing_of,
]
NEEDS_A_FULL_LISTING = {
    a_nested_repository_appeared,
    a_submodule_was_added,
    a_tracked_file_appeared_in_a_directory_the_previous_baseline_held_nothing_of,
}
