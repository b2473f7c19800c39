"""Where a tool works: the worktree found once for a call, with the facts every later step reads from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_subagents.worktree import location
from codex_subagents.worktree.location import Worktree
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


async def test_a_call_in_a_subdirectory_finds_the_worktree_with_its_git_directory_and_case_rule(
    tmp_path: Path,
) -> None:
    """The directory is the one named, the worktree its top, and the git directories and case rule are git's."""
    repo = committed(tmp_path / "repo", {"a.txt": "a\n"}).resolve()
    (repo / "src").mkdir()
    git(repo, "config", "core.ignorecase", "true")
    directory, worktree = await location.located([repo], "src")
    assert (directory, worktree) == (repo / "src", Worktree(repo, repo / ".git", repo / ".git", ignore_case=True))
    assert (worktree.index, worktree.records_dir) == (repo / ".git" / "index", repo / ".git" / "codex-subagents")


async def test_a_linked_worktree_has_a_git_directory_of_its_own_and_shares_the_repositorys(tmp_path: Path) -> None:
    """Its index and the server's files about it are its own; the config and hooks are the repository's."""
    repo = committed(tmp_path / "repo", {"a.txt": "a\n"}).resolve()
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"))
    linked = (tmp_path / "linked").resolve()
    worktree = await location.worktree_at(linked)
    own = repo / ".git" / "worktrees" / "linked"
    assert worktree == Worktree(linked, own, repo / ".git", ignore_case=False)
    assert (worktree.index, worktree.records_dir) == (own / "index", own / "codex-subagents")
