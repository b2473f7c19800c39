"""The git directory's files that decide what git runs: recorded by a baseline, reported when changed, put back."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codex_subagents.coordination import batch
from codex_subagents.core.errors import GitError
from codex_subagents.worktree import baselines, comparison, gitdir, gitstate, rollback
from codex_subagents.worktree.baselines import Baseline
from codex_subagents.worktree.location import worktree_at
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


def tree(top: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every path below ``top``, never followed through a link: its kind, bytes or link target, permission bits."""
    found: dict[str, tuple[str, bytes, int]] = {}
    for directory, dirs, files in os.walk(top):
        for name in [*files, *dirs]:
            path = Path(directory) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path.relative_to(top))] = ("link", os.fsencode(os.readlink(path)), 0)
            elif stat.S_ISREG(info.st_mode):
                found[str(path.relative_to(top))] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
            else:
                found[str(path.relative_to(top))] = ("other", b"", stat.S_IMODE(info.st_mode))
    return found


def watched(repo: Path) -> dict[str, tuple[str, bytes, int]]:
    """The configuration, hooks and info files of the repository's git directory as they are on disk."""
    found = {name: item for name, item in tree(repo / ".git").items() if name.startswith(("hooks", "info"))}
    return {**found, "config": ("file", (repo / ".git" / "config").read_bytes(), 0)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a hook of the user's (0700), an exclude rule and an alias of the user's."""
    root = committed(tmp_path / "repo", {"a.txt": "committed a\n"}).resolve()
    hook = root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho checked\n")
    hook.chmod(0o700)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "exclude").write_text("*.local\n")
    git(root, "config", "alias.st", "status --short")
    return root


async def git_files(repo: Path, baseline: Baseline) -> list[str]:
    """The details of the git directory's files that differ from the baseline."""
    return [
        change.detail
        for change in (await comparison.compare(await worktree_at(repo), baseline)).git
        if change.what == "git_file"
    ]


async def undo(repo: Path, baseline: Baseline, paths: list[str] | None = None) -> rollback.RollbackResult:
    return await batch.roll_back(
        await worktree_at(repo), baseline.info.baseline_id, paths, busy=batch.Busy(), claims={}
    )


async def test_a_hook_an_alias_and_info_files_a_worker_changes_are_reported_and_put_back_exactly(repo: Path) -> None:
    """Each changed file is named; a rollback of everything restores bytes and modes and removes the added hook."""
    before = watched(repo)
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    git(repo, "config", "alias.st", "!touch pwned")
    git(repo, "config", "core.hooksPath", "/somewhere/else")
    added = repo / ".git" / "hooks" / "post-checkout"
    added.write_text("#!/bin/sh\ntouch pwned\n")
    added.chmod(0o755)
    (repo / ".git" / "hooks" / "pre-commit").chmod(0o755)
    (repo / ".git" / "info" / "exclude").unlink()
    (repo / ".git" / "info" / "attributes").write_text("* -text\n")
    assert await git_files(repo, baseline) == [
        "config in the git directory was modified",
        "hooks/post-checkout in the git directory was added",
        "hooks/pre-commit in the git directory was mode changed",
        "info/attributes in the git directory was added",
        "info/exclude in the git directory was removed",
    ]
    assert not (await batch.overlaps(worktree, baseline.info.baseline_id, [], {})).clean
    report = await undo(repo, baseline)
    assert len([change for change in report.git_restored if change.what == "git_file"]) == 5
    assert watched(repo) == before
    assert await git_files(repo, baseline) == []


async def test_a_rollback_of_some_paths_leaves_the_git_directory_as_it_is(repo: Path) -> None:
    """Only a rollback of everything touches git's own state, its files included."""
    baseline = await baselines.create(await worktree_at(repo), None)
    git(repo, "config", "alias.st", "!touch pwned")
    (repo / "a.txt").write_text("worker\n")
    report = await undo(repo, baseline, ["a.txt"])
    assert (report.restored, report.git_restored) == (["a.txt"], [])
    assert git(repo, "config", "alias.st") == "!touch pwned\n"


async def test_a_hook_a_worker_added_does_not_run_while_the_rest_of_gits_state_is_put_back(
    repo: Path, tmp_path: Path
) -> None:
    """The files come back first: a reference-transaction hook is gone before HEAD is moved back."""
    baseline = await baselines.create(await worktree_at(repo), None)
    marker = tmp_path / "ran"
    hook = repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text(f"#!/bin/sh\necho ran >> '{marker}'\n")
    hook.chmod(0o755)
    git(repo, "commit", "-q", "--allow-empty", "-m", "a worker's commit")
    marker.unlink()
    report = await undo(repo, baseline)
    assert {change.what for change in report.git_restored} == {"git_file", "head"}
    assert not marker.exists()
    assert not hook.exists()


async def test_links_in_the_git_directory_are_recorded_as_links_and_never_followed(repo: Path, tmp_path: Path) -> None:
    """What a linked hook points at is not read; a hooks directory a worker swaps for a link is put back as it was."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "shared-hook").write_text("#!/bin/sh\n")
    (repo / ".git" / "hooks" / "commit-msg").symlink_to(outside / "shared-hook")
    before = watched(repo)
    baseline = await baselines.create(await worktree_at(repo), None)
    (outside / "shared-hook").write_text("#!/bin/sh\nchanged outside the git directory\n")
    assert await git_files(repo, baseline) == []
    hooks = repo / ".git" / "hooks"
    hooks.rename(tmp_path / "moved-hooks")
    hooks.symlink_to(outside)
    assert await git_files(repo, baseline) == [
        "hooks in the git directory was added",
        *(f"{name} in the git directory was removed" for name in sorted(n for n in before if n.startswith("hooks/"))),
    ]
    await undo(repo, baseline)
    assert watched(repo) == before
    assert sorted(os.listdir(outside)) == ["shared-hook"]


async def test_a_file_past_the_limits_refuses_the_baseline_and_one_a_worker_adds_is_removed(repo: Path) -> None:
    """The baseline names the file it cannot protect; a comparison sees a large or special file without reading it."""
    big = repo / ".git" / "hooks" / "big"
    big.write_bytes(b"x" * (gitdir.MAX_FILE_BYTES + 1))
    worktree = await worktree_at(repo)
    with pytest.raises(GitError) as refused:
        await baselines.create(worktree, None)
    assert "'hooks/big'" in str(refused.value)
    big.unlink()
    baseline = await baselines.create(worktree, None)
    big.write_bytes(b"x" * (gitdir.MAX_FILE_BYTES + 1))
    os.mkfifo(repo / ".git" / "hooks" / "pipe")
    assert await git_files(repo, baseline) == [
        "hooks/big in the git directory was added",
        "hooks/pipe in the git directory was added",
    ]
    await undo(repo, baseline)
    assert not big.exists()
    assert not (repo / ".git" / "hooks" / "pipe").exists()


async def test_a_linked_worktree_records_the_shared_config_and_its_own_config_worktree(
    repo: Path, tmp_path: Path
) -> None:
    """Both the shared configuration and the worktree's own ``config.worktree`` are watched, by their names."""
    git(repo, "config", "extensions.worktreeConfig", "true")
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"))
    linked = (tmp_path / "linked").resolve()
    baseline = await baselines.create(await worktree_at(linked), None)
    git(linked, "config", "--worktree", "alias.co", "!touch pwned")
    git(linked, "config", "alias.st", "!touch pwned")
    assert await git_files(linked, baseline) == [
        "config in the git directory was modified",
        "worktrees/linked/config.worktree in the git directory was added",
    ]
    await undo(linked, baseline)
    assert not (repo / ".git" / "worktrees" / "linked" / "config.worktree").exists()
    assert git(linked, "config", "alias.st") == "status --short\n"


def test_a_baseline_recorded_before_the_git_directorys_files_were_reports_none_of_them() -> None:
    """A baseline without the files' record compares nothing of them, rather than calling every file added."""
    head = gitstate.Head(branch="refs/heads/main", commit=None)
    now = gitstate.GitState(head=head, git_files={"config": gitdir.GitFile(digest="d", perm=0o644)})
    assert gitstate.changes(gitstate.GitState(head=head), now) == []
