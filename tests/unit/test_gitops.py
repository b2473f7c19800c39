"""Baselines, overlaps and rollback on real git repositories: byte-exact, and never at the user's expense."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_subagents import gitops
from codex_subagents.errors import BaselineError, GitError, InputError
from codex_subagents.gitops import JobClaims


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def state(repo: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every path below ``repo`` outside .git: its kind, its bytes or link target, and its mode bits."""
    found: dict[str, tuple[str, bytes | str, int]] = {}
    for path in sorted(repo.rglob("*")):
        relative = path.relative_to(repo).as_posix()
        if relative == ".git" or relative.startswith(".git/"):
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[relative] = ("link", os.readlink(path), 0)
        elif stat.S_ISDIR(info.st_mode):
            found[relative] = ("dir", b"", 0)
        else:
            found[relative] = ("file", path.read_bytes(), info.st_mode & 0o777)
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a commit, the user's uncommitted edit, an untracked file and an ignored one."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "a.txt").write_text("committed a\n")
    (root / "bin.dat").write_bytes(bytes(range(256)))
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "dir").mkdir()
    (root / "dir" / "keep.txt").write_text("keep\n")
    (root / "link").symlink_to("a.txt")
    (root / ".gitignore").write_text("*.log\n")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    (root / "a.txt").write_text("the user's uncommitted edit\n")
    (root / "untracked notes é.txt").write_text("the user's notes\n")
    (root / "debug.log").write_text("ignored\n")
    return root.resolve()


def test_a_baseline_touches_nothing_of_the_users(repo: Path) -> None:
    """HEAD, the index, the stash and every file are as they were."""
    git(repo, "add", "untracked notes é.txt")
    before = (
        git(repo, "rev-parse", "HEAD"),
        (repo / ".git" / "index").read_bytes(),
        git(repo, "stash", "list"),
        state(repo),
    )
    baseline = gitops.create_baseline(repo, "label")
    after = (
        git(repo, "rev-parse", "HEAD"),
        (repo / ".git" / "index").read_bytes(),
        git(repo, "stash", "list"),
        state(repo),
    )
    assert before == after
    assert baseline.ref == f"refs/codex-subagents/baselines/{baseline.id}"
    assert [b.id for b in gitops.list_baselines(repo)] == [baseline.id]


def test_a_baseline_works_in_a_repository_without_commits(tmp_path: Path) -> None:
    """An empty repository can be baselined and rolled back."""
    git(tmp_path, "init", "-q")
    (tmp_path / "new.txt").write_text("x")
    baseline = gitops.create_baseline(tmp_path.resolve())
    (tmp_path / "new.txt").write_text("changed")
    (tmp_path / "other.txt").write_text("y")
    gitops.rollback(tmp_path.resolve(), baseline)
    assert (tmp_path / "new.txt").read_text() == "x"
    assert not (tmp_path / "other.txt").exists()


def test_rollback_restores_binary_files_modes_symlinks_deletions_and_nested_directories(repo: Path) -> None:
    """Everything changed since the baseline is put back byte for byte; new files and directories go."""
    baseline = gitops.create_baseline(repo)
    before = state(repo)
    (repo / "bin.dat").write_bytes(b"\x00garbage")
    (repo / "run.sh").chmod(0o644)
    (repo / "link").unlink()
    (repo / "link").symlink_to("dir/keep.txt")
    (repo / "dir" / "keep.txt").unlink()
    (repo / "a.txt").unlink()
    (repo / "deep" / "er" / "est").mkdir(parents=True)
    (repo / "deep" / "er" / "est" / "new file.txt").write_text("new")
    (repo / "untracked notes é.txt").write_text("overwritten")
    (repo / "debug.log").write_text("still ignored")
    changed = gitops.changed_paths(repo, baseline)
    assert changed == {
        "a.txt": "deleted",
        "bin.dat": "modified",
        "deep/er/est/new file.txt": "added",
        "dir/keep.txt": "deleted",
        "link": "modified",
        "run.sh": "modified",
        "untracked notes é.txt": "modified",
    }
    report = gitops.rollback(repo, baseline)
    assert report.removed == ["deep/er/est/new file.txt"]
    assert report.removed_dirs == ["deep", "deep/er", "deep/er/est"]
    after = state(repo)
    assert after.pop("debug.log") == ("file", b"still ignored", 0o644)
    before.pop("debug.log")
    assert after == before
    assert gitops.changed_paths(repo, baseline) == {}


def test_a_file_replaced_by_a_directory_is_restored(repo: Path) -> None:
    """A path that became a directory becomes the baseline's file again."""
    baseline = gitops.create_baseline(repo)
    (repo / "a.txt").unlink()
    (repo / "a.txt").mkdir()
    (repo / "a.txt" / "inner").write_text("x")
    gitops.rollback(repo, baseline)
    assert (repo / "a.txt").read_text() == "the user's uncommitted edit\n"


def test_rolling_back_some_paths_keeps_the_others(repo: Path) -> None:
    """Only the named paths (or what lies under a named directory) are restored."""
    baseline = gitops.create_baseline(repo)
    (repo / "a.txt").write_text("worker a\n")
    (repo / "dir" / "keep.txt").write_text("worker b\n")
    (repo / "dir" / "added.txt").write_text("worker b\n")
    report = gitops.rollback(repo, baseline, ["dir"])
    assert (report.restored, report.removed) == (["dir/keep.txt"], ["dir/added.txt"])
    assert (repo / "a.txt").read_text() == "worker a\n"


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "-rf", "a/../../x", ""])
def test_rollback_paths_that_escape_or_look_like_options_are_refused(repo: Path, path: str) -> None:
    """Bad paths are refused before anything changes."""
    baseline = gitops.create_baseline(repo)
    (repo / "a.txt").write_text("changed")
    with pytest.raises(InputError):
        gitops.rollback(repo, baseline, [path])
    assert (repo / "a.txt").read_text() == "changed"


def test_a_path_through_a_symlinked_directory_is_refused(repo: Path, tmp_path: Path) -> None:
    """A symlink inside the worktree cannot lead a rollback outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "escape").symlink_to(outside)
    baseline = gitops.create_baseline(repo)
    with pytest.raises(InputError, match="outside the worktree"):
        gitops.rollback(repo, baseline, ["escape/file"])


@pytest.mark.parametrize("baseline_id", ["--all", "-x", "a/../b", "x y", "../refs/heads/main", ""])
def test_baseline_ids_that_look_like_options_or_paths_are_refused(repo: Path, baseline_id: str) -> None:
    """Only well-formed ids reach git."""
    with pytest.raises(InputError, match="malformed"):
        gitops.get_baseline(repo, baseline_id)


def test_unknown_and_dropped_baselines_are_named(repo: Path) -> None:
    """A dropped baseline is gone from the list and asking for it says how to list them."""
    baseline = gitops.create_baseline(repo)
    gitops.drop_baseline(repo, baseline.id)
    assert gitops.list_baselines(repo) == []
    with pytest.raises(BaselineError, match="codex_baselines"):
        gitops.get_baseline(repo, baseline.id)


def test_outside_git_the_error_says_git_is_required(tmp_path: Path) -> None:
    """A directory outside any repository is refused with the fix."""
    with pytest.raises(GitError, match="git init"):
        gitops.worktree_root(tmp_path)


def test_worker_paths_are_normalized_to_the_root(repo: Path) -> None:
    """Absolute paths and paths relative to the worker's cwd become root-relative; escapes become None."""
    assert gitops.normalize_path(repo, repo / "dir", "keep.txt") == "dir/keep.txt"
    assert gitops.normalize_path(repo, repo, str(repo / "a.txt")) == "a.txt"
    assert gitops.normalize_path(repo, repo, "../x") is None
    assert gitops.normalize_path(repo, repo, "/etc/passwd") is None


def test_the_overlap_report_names_overlaps_unclaimed_and_unchanged_claims() -> None:
    """Two jobs on one path overlap; a change nobody claims is unclaimed; a claim without a change is listed."""
    report = gitops.overlap_report(
        {"shared.py": "modified", "shell.txt": "added", "mine.py": "modified"},
        {
            "j-1": JobClaims(reported=frozenset({"shared.py", "mine.py"}), observed=frozenset()),
            "j-2": JobClaims(reported=frozenset({"ghost.py"}), observed=frozenset({"shared.py"})),
        },
    )
    assert report.overlaps == {"shared.py": ["j-1", "j-2"]}
    assert report.unclaimed == ["shell.txt"]
    assert report.unchanged_claims == {"j-2": ["ghost.py"]}
    assert not report.clean


def test_integrity_separates_the_jobs_own_changes_from_suspects() -> None:
    """A stopped job's touched paths are its; changes no job claims are suspects; others' claims are neither."""
    mine, suspects = gitops.integrity(
        {"a.txt": "modified", "c.txt": "added", "b.txt": "modified"},
        JobClaims(reported=frozenset(), observed=frozenset({"a.txt"})),
        {"j-other": JobClaims(reported=frozenset({"b.txt"}), observed=frozenset())},
    )
    assert (mine, suspects) == (["a.txt"], ["c.txt"])


names = st.text(alphabet="abcé -_", min_size=1, max_size=6).filter(lambda n: n.strip() == n and n not in {".", ".."})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(
        st.tuples(st.sampled_from(["write", "delete", "chmod", "mkdir"]), names, st.binary(max_size=64)),
        max_size=8,
    )
)
def test_any_edits_after_a_baseline_are_undone_byte_exact(repo: Path, operations: list[tuple[str, str, bytes]]) -> None:
    """Random writes, deletions, mode changes and new directories are all undone by a rollback."""
    baseline = gitops.create_baseline(repo)
    before = state(repo)
    for operation, name, data in operations:
        target = repo / "fuzz" / name if operation == "mkdir" else repo / name
        if operation == "write" and not target.is_dir():
            target.write_bytes(data)
        elif operation == "delete" and target.is_file() and not target.is_symlink():
            target.unlink()
        elif operation == "chmod" and target.is_file() and not target.is_symlink():
            target.chmod(0o755)
        elif operation == "mkdir":
            target.mkdir(parents=True, exist_ok=True)
            (target / "f").write_bytes(data)
    gitops.rollback(repo, baseline)
    assert state(repo) == before
