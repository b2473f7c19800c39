"""The server's git runs no program a repository's config names: no monitor, no hook, no filter."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from codex_subagents.core import git as server_git
from codex_subagents.live.watch import WorktreeWatch
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


def program(path: Path, marker: Path) -> str:
    """A script at ``path`` that leaves ``marker`` behind when anything runs it."""
    path.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def required_filter(repo: Path, driver: str, tmp_path: Path) -> Path:
    """Give ``repo`` the required filter ``driver``, whose clean command leaves a mark; return where the mark goes."""
    marker = tmp_path / "ran"
    git(repo, "config", f"filter.{driver}.clean", program(tmp_path / "clean", marker))
    git(repo, "config", f"filter.{driver}.required", "true")
    return marker


async def test_a_file_system_monitor_a_worker_configured_is_not_run_by_the_servers_status(tmp_path: Path) -> None:
    """A nested repository a sandboxed worker made may name any program as core.fsmonitor; git status runs none."""
    repo = committed(tmp_path / "repo", {"a.txt": "a\n"})
    marker = tmp_path / "ran"
    git(repo, "config", "core.fsmonitor", program(tmp_path / "monitor", marker))
    git(repo, "status", "--porcelain")
    assert marker.exists(), "git itself runs the monitor, so the test can see a run"
    marker.unlink()
    await server_git.run(repo, "status", "--porcelain", "-z")
    assert not marker.exists()


async def test_a_hook_in_the_repository_is_not_run_when_the_server_moves_a_ref(tmp_path: Path) -> None:
    """A reference-transaction hook runs for a user's update-ref, not for the server's."""
    repo = committed(tmp_path / "repo", {"a.txt": "a\n"})
    marker = tmp_path / "ran"
    program(repo / ".git" / "hooks" / "reference-transaction", marker)
    head = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "update-ref", "refs/heads/user", head)
    assert marker.exists(), "git itself runs the hook, so the test can see a run"
    marker.unlink()
    await server_git.run(repo, "update-ref", "refs/heads/server", head)
    assert not marker.exists()


async def test_a_filter_a_nested_repository_names_is_not_run_by_the_live_watch(tmp_path: Path) -> None:
    """A worker can make a repository inside the worktree whose config names a clean filter; the watch sees the
    write there without running it."""
    root = committed(tmp_path / "repo", {"a.txt": "a\n"})
    nested = committed(root / "nested", {".gitattributes": "*.txt filter=evil\n", "b.txt": "b\n"})
    marker = tmp_path / "ran"
    git(nested, "config", "filter.evil.clean", program(tmp_path / "clean", marker))
    watch = WorktreeWatch(root)
    await watch.prime()
    (nested / "b.txt").write_text("c\n")  # the same size: only the content tells git it changed
    assert await watch.changes() == ["nested/b.txt"]
    assert not marker.exists()
    git(nested, "status", "--porcelain")
    assert marker.exists(), "git itself runs the filter, so the test can see a run"


async def test_a_filter_of_the_users_config_a_worker_points_a_file_at_is_not_run_by_the_live_watch(
    tmp_path: Path,
) -> None:
    """One ``.gitattributes`` line would have the server run the user's clean command, a required one at that,
    outside the worker's sandbox; the watch still sees the write."""
    root = committed(tmp_path / "repo", {"a.txt": "a\n"})
    marker = required_filter(root, "user", tmp_path)
    watch = WorktreeWatch(root)
    await watch.prime()
    (root / ".gitattributes").write_text("*.txt filter=user\n")
    (root / "a.txt").write_text("b\n")  # the same size: only the content tells git it changed
    assert await watch.changes() == [".gitattributes", "a.txt"]
    assert not marker.exists()
    git(root, "status", "--porcelain")
    assert marker.exists(), "git itself runs the filter, so the test can see a run"


async def test_a_nested_repository_that_requires_its_filter_is_still_watched(tmp_path: Path) -> None:
    """A required driver emptied would fail git's listing; the watch lifts the requirement and reads raw bytes."""
    root = committed(tmp_path / "repo", {"a.txt": "a\n"})
    nested = committed(root / "nested", {".gitattributes": "*.txt filter=evil\n", "b.txt": "b\n"})
    marker = required_filter(nested, "evil", tmp_path)
    watch = WorktreeWatch(root)
    await watch.prime()
    (nested / "b.txt").write_text("c\n")
    assert await watch.changes() == ["nested/b.txt"]
    assert not marker.exists()
