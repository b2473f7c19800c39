"""Baselines and rollback on real git repositories: the bytes and modes on disk, ignored files, git's own state."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codex_subagents.coordination import batch
from codex_subagents.coordination.claims import claim
from codex_subagents.core.errors import BaselineError, GitError, InputError, WorktreeBusyError
from codex_subagents.core.paths import git_quoted, git_unquoted, relative_to_root
from codex_subagents.worktree import baselines, comparison, gitstate, location, rollback, snapshot
from codex_subagents.worktree.baselines import Baseline
from codex_subagents.worktree.location import Worktree, worktree_at
from unit.repos import git

pytestmark = pytest.mark.anyio


def disk(repo: Path) -> dict[str, tuple[str, bytes, int]]:
    """Every path below ``repo`` outside .git: its kind, its bytes or link target, and its permission bits."""
    found: dict[str, tuple[str, bytes, int]] = {}
    for directory, dirs, files in os.walk(repo):
        dirs[:] = [d for d in dirs if not (directory == str(repo) and d == ".git")]
        for name in [*files, *dirs]:
            path = Path(directory) / name
            relative = os.fsdecode(os.path.relpath(path, repo))
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[relative] = ("link", os.fsencode(os.readlink(path)), 0)
            elif stat.S_ISDIR(info.st_mode):
                found[relative] = ("dir", b"", 0)
            else:
                found[relative] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return found


def everything(repo: Path) -> tuple[object, ...]:
    """What "nothing lost" means: the bytes and modes on disk, the index, HEAD and the stash list."""
    return (disk(repo), git(repo, "ls-files", "-s"), git(repo, "symbolic-ref", "-q", "HEAD"), stash_and_head(repo))


def stash_and_head(repo: Path) -> tuple[str, str]:
    return git(repo, "stash", "list", "--format=%H %gs"), git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a commit, the user's uncommitted edit, an untracked file and ignored ones."""
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
    (root / ".gitignore").write_text("*.log\n.env\nbuild/\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    (root / "a.txt").write_text("the user's uncommitted edit\n")
    (root / "untracked notes é.txt").write_text("the user's notes\n")
    (root / "debug.log").write_text("ignored\n")
    (root / ".env").write_text("TOKEN=secret\n")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"\x7fELF")
    return root.resolve()


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """An empty directory, by its real path."""
    return tmp_path.resolve()


async def undo(repo: Path, baseline: Baseline, paths: list[str] | None = None) -> rollback.RollbackResult:
    return await batch.roll_back(
        await worktree_at(repo), baseline.info.baseline_id, paths, busy=batch.Busy(), claims={}
    )


async def changed(repo: Path, baseline: Baseline) -> dict[str, comparison.ChangeKind]:
    return (await comparison.compare(await worktree_at(repo), baseline)).changed


async def test_a_baseline_touches_nothing_of_the_users(repo: Path) -> None:
    """HEAD, the index bytes, the stash and every file are as they were."""
    git(repo, "add", "untracked notes é.txt")
    index = (repo / ".git" / "index").read_bytes()
    before = everything(repo)
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, "label")
    assert everything(repo) == before
    assert (repo / ".git" / "index").read_bytes() == index
    assert baseline.info.ref == f"refs/codex-subagents/baselines/{baseline.info.baseline_id}"
    listed = await baselines.listed(worktree)
    assert [b.baseline_id for b in listed.baselines] == [baseline.info.baseline_id]


async def test_a_baseline_taken_in_a_child_process_is_recorded_as_one_taken_here(repo: Path) -> None:
    """The tools' path: the child records the worktree, touches nothing, and only the description comes back."""
    before = everything(repo)
    worktree = await worktree_at(repo)
    info = await baselines.create_in_child(worktree, "child")
    assert everything(repo) == before
    assert (await baselines.listed(worktree)).baselines == [info]
    loaded = await baselines.load(worktree, info.baseline_id)
    here = await baselines.create(worktree, None)
    assert (await baselines.files(worktree, loaded)).entries.keys() == (
        await baselines.files(worktree, here)
    ).entries.keys()
    (repo / "run.sh").chmod(0o700)
    assert await changed(repo, loaded) == {"run.sh": "mode_changed"}


async def test_a_baseline_that_fails_in_the_child_raises_the_error_it_raises_here(empty: Path) -> None:
    """Outside any repository git refuses: the child's GitError comes back with the same message."""
    nowhere = Worktree(empty, empty / ".git", empty / ".git", ignore_case=False)
    with pytest.raises(GitError) as here:
        await baselines.create(nowhere, None)
    with pytest.raises(GitError) as apart:
        await baselines.create_in_child(nowhere, None)
    assert (type(apart.value), str(apart.value)) == (type(here.value), str(here.value))


async def test_a_baseline_says_what_it_protects_and_what_it_leaves_out(repo: Path) -> None:
    """Ignored files are protected; an ignored directory is listed as not protected, before any worker runs."""
    info = (await baselines.create(await worktree_at(repo), None)).info
    assert info.ignored_files == [".env", "debug.log"]
    assert [(u.path, u.reason) for u in info.unprotected] == [("build", "ignored_directory")]
    assert info.head.branch is not None
    assert info.head.branch.startswith("refs/heads/")


async def test_a_baseline_works_in_a_repository_without_commits(empty: Path) -> None:
    """An empty repository can be baselined and rolled back."""
    root = empty
    git(root, "init", "-q")
    (root / "new.txt").write_text("x")
    baseline = await baselines.create(await worktree_at(root), None)
    (root / "new.txt").write_text("changed")
    (root / "other.txt").write_text("y")
    await undo(root, baseline)
    assert (root / "new.txt").read_text() == "x"
    assert not (root / "other.txt").exists()


async def test_rollback_restores_binary_files_modes_symlinks_deletions_and_nested_directories(repo: Path) -> None:
    """Everything changed since the baseline is put back byte for byte; new files and directories go."""
    baseline = await baselines.create(await worktree_at(repo), None)
    before = disk(repo)
    (repo / "bin.dat").write_bytes(b"\x00garbage")
    (repo / "run.sh").chmod(0o644)
    (repo / "link").unlink()
    (repo / "link").symlink_to("dir/keep.txt")
    (repo / "dir" / "keep.txt").unlink()
    (repo / "a.txt").unlink()
    (repo / "deep" / "er" / "est").mkdir(parents=True)
    (repo / "deep" / "er" / "est" / "new file.txt").write_text("new")
    (repo / "untracked notes é.txt").write_text("overwritten")
    assert await changed(repo, baseline) == {
        "a.txt": "deleted",
        "bin.dat": "modified",
        "deep/er/est/new file.txt": "added",
        "dir/keep.txt": "deleted",
        "link": "modified",
        "run.sh": "mode_changed",
        "untracked notes é.txt": "modified",
    }
    report = await undo(repo, baseline)
    assert report.removed == ["deep/er/est/new file.txt"]
    assert report.removed_dirs == ["deep", "deep/er", "deep/er/est"]
    assert disk(repo) == before
    assert await changed(repo, baseline) == {}


async def test_the_plan_keeps_a_directory_whose_baseline_file_is_missing_and_prunes_a_new_one(repo: Path) -> None:
    """Computed alone, the plan lists its removals and writes; applied, it keeps ``dir`` for the file it restores."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "dir" / "keep.txt").unlink()
    (repo / "dir" / "new.txt").write_text("worker")
    (repo / "fresh").mkdir()
    (repo / "fresh" / "f.txt").write_text("worker")
    steps = rollback.plan(baseline, await comparison.compare(worktree, baseline))
    assert (steps.remove, sorted(steps.write)) == (["fresh/f.txt", "dir/new.txt"], ["dir/keep.txt"])
    assert "dir" in steps.keep_dirs and "fresh" not in steps.keep_dirs
    report = await rollback.apply(worktree, baseline, steps)
    assert (report.removed_dirs, report.restored) == (["fresh"], ["dir/keep.txt"])
    assert sorted(p.name for p in (repo / "dir").iterdir()) == ["keep.txt"]


async def test_the_plan_spares_the_paths_it_is_told_to_and_says_why(repo: Path) -> None:
    """A spared path is neither removed nor written: the plan and then the rollback's result name it with the reason.

    Only spared paths that the rollback would otherwise have touched are named.
    """
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "dir" / "keep.txt").unlink()
    (repo / "dir" / "new.txt").write_text("another session's")
    (repo / "fresh.txt").write_text("this batch's")
    spare = {"dir/new.txt": "theirs", "dir/keep.txt": "theirs too", "unchanged.txt": "not a change"}
    steps = rollback.plan(baseline, await comparison.compare(worktree, baseline), ["dir", "fresh.txt"], spare)
    assert (steps.remove, steps.write, steps.spared) == (["fresh.txt"], {}, {k: spare[k] for k in list(spare)[:2]})
    report = await rollback.apply(worktree, baseline, steps)
    assert [(item.path, item.reason) for item in report.not_restored] == [
        ("dir/keep.txt", "theirs too"),
        ("dir/new.txt", "theirs"),
    ]
    assert (report.removed, sorted(p.name for p in (repo / "dir").iterdir())) == (["fresh.txt"], ["new.txt"])


@pytest.mark.parametrize(
    "setup",
    [
        ["-c", "core.autocrlf=true"],
        ["-c", "core.autocrlf=input"],
        ["-c", "core.eol=crlf"],
    ],
)
async def test_line_endings_come_back_as_they_were_on_disk_whatever_gits_config(empty: Path, setup: list[str]) -> None:
    """CRLF, mixed and LF files, tracked or not, under autocrlf or eol attributes, are restored byte for byte."""
    root = empty
    git(root, "init", "-q")
    git(root, "config", *setup[1].split("=", 1))
    (root / ".gitattributes").write_text("*.crlf text=auto eol=crlf\n")
    (root / "tracked.crlf").write_bytes(b"one\r\ntwo\r\n")
    (root / "plain.txt").write_bytes(b"one\r\ntwo\r\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    (root / "untracked.txt").write_bytes(b"u\r\n")
    (root / "mixed.txt").write_bytes(b"a\nb\r\nc\r")
    baseline = await baselines.create(await worktree_at(root), None)
    before = disk(root)
    for name in ("tracked.crlf", "plain.txt", "untracked.txt", "mixed.txt"):
        (root / name).write_bytes((root / name).read_bytes().replace(b"\r\n", b"\n"))
    assert set(await changed(root, baseline)) >= {"tracked.crlf", "plain.txt", "untracked.txt", "mixed.txt"}
    await undo(root, baseline)
    assert disk(root) == before


async def test_a_clean_filter_does_not_change_what_comes_back(repo: Path) -> None:
    """A file under a clean filter (as notebook strippers and LFS use) is restored as it was on disk."""
    git(repo, "config", "filter.strip.clean", "sed -e s/output.*//")
    git(repo, "config", "filter.strip.smudge", "cat")
    (repo / ".gitattributes").write_text("*.ipynb filter=strip\n")
    (repo / "book.ipynb").write_text("cell\noutput: 42\n")
    baseline = await baselines.create(await worktree_at(repo), None)
    (repo / "book.ipynb").write_text("cell\n")
    assert (await changed(repo, baseline))["book.ipynb"] == "modified"
    await undo(repo, baseline)
    assert (repo / "book.ipynb").read_text() == "cell\noutput: 42\n"


async def test_a_private_key_keeps_its_mode_and_a_mode_change_alone_is_seen(repo: Path) -> None:
    """An untracked 0600 key comes back 0600, never wider; a chmod alone is reported."""
    key = repo / "id_ed25519"
    key.write_text("PRIVATE\n")
    key.chmod(0o600)
    baseline = await baselines.create(await worktree_at(repo), None)
    key.chmod(0o644)
    assert await changed(repo, baseline) == {"id_ed25519": "mode_changed"}
    key.write_text("overwritten\n")
    await undo(repo, baseline)
    assert (key.read_text(), stat.S_IMODE(key.lstat().st_mode)) == ("PRIVATE\n", 0o600)


async def test_ignored_files_are_protected_and_stay_out_of_reach_when_gitignore_changes(repo: Path) -> None:
    """A worker's edit of .env and git clean -fdx are undone; un-ignoring build/ never deletes its contents."""
    baseline = await baselines.create(await worktree_at(repo), None)
    before = disk(repo)
    (repo / ".env").write_text("TOKEN=leaked\n")
    (repo / ".gitignore").write_text("")
    assert await changed(repo, baseline) == {".env": "modified", ".gitignore": "modified"}
    await undo(repo, baseline)
    assert disk(repo) == before
    git(repo, "clean", "-fdx", "-e", "build")
    assert (await changed(repo, baseline))[".env"] == "deleted"
    await undo(repo, baseline)
    assert disk(repo) == before


async def test_a_commit_a_stash_and_a_reset_by_a_worker_are_reported_and_moved_back(repo: Path) -> None:
    """HEAD, the user's staged changes and the stash list come back; the worker's commit and stash stay reachable."""
    git(repo, "add", "a.txt")
    git(repo, "stash", "push", "-q", "-m", "the user's own stash", "--", "dir/keep.txt")
    before = everything(repo)
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    git(repo, "reset", "-q")
    git(repo, "commit", "-q", "--allow-empty", "-m", "a worker's commit")
    worker_commit = git(repo, "rev-parse", "HEAD").strip()
    (repo / "run.sh").write_text("#!/bin/sh\necho worker\n")
    git(repo, "stash", "push", "-q", "-u")
    compared = await comparison.compare(worktree, baseline)
    assert {change.what for change in compared.git} >= {"head", "index", "stash"}
    report = await undo(repo, baseline)
    assert everything(repo) == before
    assert {change.what for change in report.git_restored} >= {"head", "index", "stash"}
    kept = {git(repo, "rev-parse", ref).strip() for ref in report.kept_refs}
    assert worker_commit in kept
    assert len(kept) == 3
    assert (await comparison.compare(worktree, baseline)).git == []


async def test_a_checkout_of_another_branch_is_moved_back(repo: Path) -> None:
    """HEAD returns to the baseline's branch; the worker's branch is left alone."""
    baseline = await baselines.create(await worktree_at(repo), None)
    branch = git(repo, "symbolic-ref", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "worker-branch")
    report = await undo(repo, baseline)
    assert [change.what for change in report.git_restored] == ["branch"]
    assert git(repo, "symbolic-ref", "HEAD").strip() == branch
    assert git(repo, "rev-parse", "--verify", "-q", "worker-branch")


async def test_a_rollback_of_some_paths_leaves_git_state_and_other_paths_alone(repo: Path) -> None:
    """Only the named paths (or what lies under a named directory) are restored."""
    baseline = await baselines.create(await worktree_at(repo), None)
    (repo / "a.txt").write_text("worker a\n")
    (repo / "dir" / "keep.txt").write_text("worker b\n")
    (repo / "dir" / "added.txt").write_text("worker b\n")
    git(repo, "commit", "-qam", "worker")
    report = await undo(repo, baseline, ["dir"])
    assert (report.restored, report.removed, report.git_restored) == (["dir/keep.txt"], ["dir/added.txt"], [])
    assert (repo / "a.txt").read_text() == "worker a\n"


async def test_a_file_replaced_by_a_directory_is_restored(repo: Path) -> None:
    """A path that became a directory becomes the baseline's file again."""
    baseline = await baselines.create(await worktree_at(repo), None)
    (repo / "a.txt").unlink()
    (repo / "a.txt").mkdir()
    (repo / "a.txt" / "inner").write_text("x")
    await undo(repo, baseline)
    assert (repo / "a.txt").read_text() == "the user's uncommitted edit\n"


async def test_edits_inside_a_submodule_are_seen_and_undone(repo: Path, tmp_path: Path) -> None:
    """A worker's edit in a submodule is a change of the submodule's path; the user's own edit there survives."""
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q")
    (library / "lib.py").write_text("v1\n")
    git(library, "add", "-A")
    git(library, "commit", "-qm", "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/lib")
    (repo / "vendor" / "lib" / "lib.py").write_text("the user's edit in the submodule\n")
    baseline = await baselines.create(await worktree_at(repo), None)
    before = disk(repo)
    (repo / "vendor" / "lib" / "lib.py").write_text("a worker's edit\n")
    (repo / "vendor" / "lib" / "new.py").write_text("new\n")
    assert await changed(repo, baseline) == {"vendor/lib/lib.py": "modified", "vendor/lib/new.py": "added"}
    await undo(repo, baseline)
    assert disk(repo) == before


async def test_the_index_a_snapshot_lists_is_the_top_repositorys_as_git_state_reads_it(repo: Path) -> None:
    """A comparison reads the index once, with its listing: staging in a nested repository is not the top's."""
    nested = repo / "scratch"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "notes.txt").write_text("mine\n")
    git(nested, "add", "notes.txt")
    git(repo, "add", "a.txt")
    worktree = await worktree_at(repo)
    shot = await snapshot.take(worktree, write=False)
    assert await gitstate.record(worktree, write=False, staged=shot.staged) == await gitstate.record(
        worktree, write=False
    )
    baseline = await baselines.create(worktree, None)
    (nested / "notes.txt").write_text("worker\n")
    git(nested, "add", "notes.txt")
    assert (await comparison.compare(worktree, baseline)).git == []
    git(repo, "reset", "-q")
    assert [change.what for change in (await comparison.compare(worktree, baseline)).git] == ["index"]


async def test_a_nested_repository_without_commits_does_not_fail_the_baseline(repo: Path) -> None:
    """A directory where someone ran git init is protected through its own listing."""
    nested = repo / "scratch"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "notes.txt").write_text("mine\n")
    baseline = await baselines.create(await worktree_at(repo), None)
    (nested / "notes.txt").write_text("worker\n")
    assert await changed(repo, baseline) == {"scratch/notes.txt": "modified"}
    await undo(repo, baseline)
    assert (nested / "notes.txt").read_text() == "mine\n"


async def test_names_that_are_not_utf8_are_shown_quoted_and_round_trip(repo: Path) -> None:
    """A non-UTF-8 name is reported the way git quotes it, and that form rolls back the very file."""
    name = os.fsdecode(b"caf\xe9.txt")
    (repo / name).write_bytes(b"user\n")
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / name).write_bytes(b"worker\n")
    report = await batch.overlaps(worktree, baseline.info.baseline_id, [], {})
    assert report.unclaimed == ['"caf\\351.txt"']
    result = await undo(repo, baseline, report.unclaimed)
    assert result.restored == ['"caf\\351.txt"']
    assert (repo / name).read_bytes() == b"user\n"


@pytest.mark.parametrize(
    "name", ["plain.txt", 'quote"d', '"starts', "tab\there", "new\nline", os.fsdecode(b"\xff\xfe")]
)
def test_every_name_survives_the_shown_form(name: str) -> None:
    """shown and parsed are inverse for any name, and plain names are shown as they are."""
    assert git_unquoted(git_quoted(name)) == name
    if name == "plain.txt":
        assert git_quoted(name) == name


async def test_baselines_belong_to_their_worktree(repo: Path, tmp_path: Path) -> None:
    """A baseline recorded in one linked worktree is neither listed nor usable in another."""
    other = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(other))
    baseline = await baselines.create(await worktree_at(repo), None)
    assert (await baselines.listed(await worktree_at(other.resolve()))).baselines == []
    with pytest.raises(BaselineError, match="codex_baselines"):
        await baselines.load(await worktree_at(other.resolve()), baseline.info.baseline_id)


@pytest.mark.parametrize("path", ["../outside", "/etc/passwd", "-rf", "a/../../x", ""])
async def test_rollback_paths_that_escape_or_look_like_options_are_refused(repo: Path, path: str) -> None:
    """Bad paths are refused before anything changes."""
    baseline = await baselines.create(await worktree_at(repo), None)
    (repo / "a.txt").write_text("changed")
    with pytest.raises(InputError):
        await undo(repo, baseline, [path])
    assert (repo / "a.txt").read_text() == "changed"


async def test_a_path_through_a_symlinked_directory_is_refused(repo: Path, tmp_path: Path) -> None:
    """A symlink inside the worktree cannot lead a rollback outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "escape").symlink_to(outside)
    baseline = await baselines.create(await worktree_at(repo), None)
    with pytest.raises(InputError, match=re.escape(repr("escape/file"))):
        await undo(repo, baseline, ["escape/file"])


async def test_a_rollback_is_refused_while_a_worker_may_write(repo: Path) -> None:
    """The busy jobs are named, with what to do, and nothing changes."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "a.txt").write_text("changed")
    with pytest.raises(WorktreeBusyError, match="codex_cancel") as refused:
        await batch.roll_back(worktree, baseline.info.baseline_id, None, batch.Busy(("j-1",)), claims={})
    assert (refused.value.ours, refused.value.theirs) == (["j-1"], [])
    assert (repo / "a.txt").read_text() == "changed"


@pytest.mark.parametrize("baseline_id", ["--all", "-x", "a/../b", "x y", "../refs/heads/main", ""])
async def test_baseline_ids_that_look_like_options_or_paths_are_refused(repo: Path, baseline_id: str) -> None:
    """Only well-formed ids reach git; the refusal names the id."""
    with pytest.raises(InputError, match=re.escape(f"baseline id {baseline_id!r}")):
        await baselines.load(await worktree_at(repo), baseline_id)


async def test_unknown_and_dropped_baselines_are_named(repo: Path) -> None:
    """A dropped baseline is gone from the list and asking for it says how to list them."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    await baselines.drop(worktree, baseline.info.baseline_id)
    assert (await baselines.listed(worktree)).baselines == []
    with pytest.raises(BaselineError, match="codex_baselines"):
        await baselines.load(worktree, baseline.info.baseline_id)


async def test_outside_git_the_error_says_git_is_required(empty: Path) -> None:
    """A directory outside any repository is refused with the fix, whether named or the default."""
    with pytest.raises(GitError, match="git init"):
        await location.worktree([empty], None)


def test_worker_paths_are_made_relative_to_the_root(repo: Path) -> None:
    """Absolute paths and paths relative to the worker's cwd become root-relative; escapes become None."""
    assert relative_to_root(repo, repo / "dir", "keep.txt") == "dir/keep.txt"
    assert relative_to_root(repo, repo, str(repo / "a.txt")) == "a.txt"
    assert relative_to_root(repo, repo, "../x") is None
    assert relative_to_root(repo, repo, "/etc/passwd") is None


async def test_the_overlap_report_names_overlaps_unclaimed_and_unchanged_claims(repo: Path) -> None:
    """Two jobs on one path overlap; a change nobody claims is unclaimed; a claim without a change is listed."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "a.txt").write_text("both\n")
    (repo / "shell.txt").write_text("by a shell command\n")
    (repo / "run.sh").write_text("mine\n")
    claims = {
        "j-1": claim(repo, repo, ["a.txt", "run.sh"], []),
        "j-2": claim(repo, repo / "dir", ["ghost.py"], [str(repo / "a.txt")]),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert report.overlaps == {"a.txt": ["j-1", "j-2"]}
    assert report.unclaimed == ["shell.txt"]
    assert report.unchanged_claims == {"j-2": ["dir/ghost.py"]}
    assert not report.clean


async def test_integrity_separates_the_jobs_own_changes_from_suspects(repo: Path) -> None:
    """A stopped job's touched paths are its; changes no job claims are suspects; others' claims are neither."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    for name in ("a.txt", "b.txt", "c.txt"):
        (repo / name).write_text("changed\n")
    claims = {
        "j-1": claim(repo, repo, [], ["a.txt"]),
        "j-2": claim(repo, repo, ["b.txt"], []),
    }
    result = await batch.integrity(worktree, baseline.info.baseline_id, "j-1", claims)
    assert (result.changed_by_job, result.suspects) == (["a.txt"], ["c.txt"])


names = st.text(alphabet="abcé -_", min_size=1, max_size=6).filter(lambda n: n.strip() == n and n not in {".", ".."})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(
        st.tuples(st.sampled_from(["write", "delete", "chmod", "mkdir", "crlf"]), names, st.binary(max_size=64)),
        max_size=8,
    )
)
def test_any_edits_after_a_baseline_are_undone_byte_exact(repo: Path, operations: list[tuple[str, str, bytes]]) -> None:
    """Random writes, deletions, mode changes, line-ending flips and new directories are all undone."""
    import anyio

    async def scenario() -> None:
        baseline = await baselines.create(await worktree_at(repo), None)
        before = disk(repo)
        for operation, name, data in operations:
            target = repo / "fuzz" / name if operation == "mkdir" else repo / name
            if operation == "write" and not target.is_dir():
                target.write_bytes(data)
            elif operation == "delete" and target.is_file() and not target.is_symlink():
                target.unlink()
            elif operation == "chmod" and target.is_file() and not target.is_symlink():
                target.chmod(0o700)
            elif operation == "crlf" and target.is_file() and not target.is_symlink():
                target.write_bytes(target.read_bytes().replace(b"\n", b"\r\n"))
            elif operation == "mkdir":
                target.mkdir(parents=True, exist_ok=True)
                (target / "f").write_bytes(data)
        await undo(repo, baseline)
        assert disk(repo) == before

    anyio.run(scenario)


async def test_a_repository_git_refuses_is_reported_with_gits_reason_not_as_missing(repo: Path) -> None:
    """A repository git cannot use (here: a newer format) is named with git's own words, not "run git init"."""
    git(repo, "config", "core.repositoryformatversion", "99")
    with pytest.raises(GitError, match="repo version") as caught:
        await location.worktree([repo], None)
    assert "git init" not in str(caught.value)


async def test_a_claim_where_the_baseline_protects_nothing_is_unchecked_not_unchanged(repo: Path) -> None:
    """A job that says it wrote in an ignored directory is not told its change did not happen."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "build" / "out.o").write_bytes(b"rebuilt")
    claims = {"j-1": claim(repo, repo, ["build/out.o", "a.txt"], [])}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert (report.unchecked_claims, report.unchanged_claims) == ({"j-1": ["build/out.o"]}, {"j-1": ["a.txt"]})


_BASELINE_AND_PRINT_UNPROTECTED = """
import json, sys
from pathlib import Path
import anyio
from codex_subagents.worktree import baselines, location
async def baseline():
    return await baselines.create(await location.worktree_at(Path(sys.argv[1])), None)
info = anyio.run(baseline).info
print(json.dumps([[u.path, u.reason] for u in info.unprotected]))
"""


def test_a_file_the_server_may_not_read_is_listed_as_unprotected_and_the_rest_is_recorded(repo: Path) -> None:
    """One unreadable file does not fail the baseline: it is named, with the reason, and nothing else is lost.

    Root reads every file, so as root the server runs in a user namespace where it is an ordinary user.
    """
    import shutil
    import sys

    locked = repo / "locked.txt"
    locked.write_text("not yours\n")
    locked.chmod(0)
    prefix: list[str] = []
    if os.geteuid() == 0:
        unshare = shutil.which("unshare")
        if unshare is None:
            pytest.skip("as root, this needs unshare to run the server as an ordinary user")
        prefix = [unshare, "--user", "--map-user=1000", "--map-group=1000"]
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _BASELINE_AND_PRINT_UNPROTECTED, str(repo)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["build", "ignored_directory"], ["locked.txt", "unreadable"]]


async def test_a_detached_head_and_a_first_commit_on_an_unborn_branch_are_moved_back(repo: Path, empty: Path) -> None:
    """A detached HEAD returns to its commit; a branch a worker created by committing first is removed again."""
    git(repo, "checkout", "-q", "--detach")
    detached = await baselines.create(await worktree_at(repo), None)
    git(repo, "commit", "-q", "--allow-empty", "-m", "worker")
    report = await undo(repo, detached)
    assert [change.what for change in report.git_restored] == ["head"]
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", detached.info.commit + "^1")
    git(empty, "init", "-q")
    (empty / "a.txt").write_text("a\n")
    unborn = await baselines.create(await worktree_at(empty), None)
    git(empty, "add", "a.txt")
    git(empty, "commit", "-q", "-m", "worker")
    report = await undo(empty, unborn)
    assert {change.what for change in report.git_restored} == {"head", "index"}
    assert not (empty / ".git" / "index").exists()
    assert git(empty, "branch", "--list") == ""


async def test_the_index_is_not_written_while_another_git_command_holds_its_lock(repo: Path) -> None:
    """Git's own lock protocol is respected: the rollback says to retry, and the lock stays git's."""
    git(repo, "add", "a.txt")
    baseline = await baselines.create(await worktree_at(repo), None)
    git(repo, "reset", "-q")
    (repo / ".git" / "index.lock").write_bytes(b"")
    with pytest.raises(GitError, match="retry"):
        await undo(repo, baseline)
    assert (repo / ".git" / "index.lock").exists()


async def test_a_path_that_cannot_be_put_back_is_named_and_nothing_else_is_lost(repo: Path) -> None:
    """A directory holding new ignored files where the baseline had a file stays; the rollback says so."""
    baseline = await baselines.create(await worktree_at(repo), None)
    (repo / "a.txt").unlink()
    (repo / "a.txt").mkdir()
    (repo / "a.txt" / "trace.log").write_text("a new ignored file\n")
    (repo / "bin.dat").write_bytes(b"changed")
    report = await undo(repo, baseline)
    assert [item.path for item in report.not_restored] == ["a.txt"]
    assert "bin.dat" in report.restored
    assert (repo / "a.txt" / "trace.log").read_text() == "a new ignored file\n"


async def test_a_tracked_file_replaced_by_a_fifo_is_listed_and_left_alone(repo: Path) -> None:
    """Neither file nor link: the baseline says it does not protect it, and a rollback never opens it."""
    (repo / "a.txt").unlink()
    os.mkfifo(repo / "a.txt")
    info = (await baselines.create(await worktree_at(repo), None)).info
    assert ("a.txt", "not_a_file") in [(u.path, u.reason) for u in info.unprotected]


async def test_an_ignored_file_over_the_size_limit_is_listed_not_protected(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large ignored files are left out by name, so the boss knows before it spawns."""
    from codex_subagents.worktree import snapshot

    monkeypatch.setattr(snapshot, "MAX_IGNORED_FILE_BYTES", 8)
    info = (await baselines.create(await worktree_at(repo), None)).info
    assert (".env", "too_large") in [(u.path, u.reason) for u in info.unprotected]
    assert info.ignored_files == ["debug.log"]


async def test_a_baseline_whose_kept_index_is_gone_still_compares_exactly(repo: Path) -> None:
    """The kept index only saves work: without it every file is read again and the answer is the same."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / ".git" / "codex-subagents" / "baselines" / f"{baseline.info.baseline_id}.index").unlink()
    (repo / "run.sh").chmod(0o700)
    reloaded = await baselines.load(worktree, baseline.info.baseline_id)
    assert await changed(repo, reloaded) == {"run.sh": "mode_changed"}


async def test_a_second_baseline_records_what_changed_since_the_first(repo: Path) -> None:
    """Unchanged files are taken from the previous baseline; a same-size edit with its old mtime is still seen."""
    worktree = await worktree_at(repo)
    first = await baselines.create(worktree, None)
    before = (repo / "a.txt").stat()
    (repo / "a.txt").write_text("THE USER'S UNCOMMITTED EDIT\n")
    os.utime(repo / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns))
    second = await baselines.create(worktree, None)
    (repo / "a.txt").write_text("a worker's edit\n")
    await undo(repo, second)
    assert (repo / "a.txt").read_text() == "THE USER'S UNCOMMITTED EDIT\n"
    await undo(repo, first)
    assert (repo / "a.txt").read_text() == "the user's uncommitted edit\n"
