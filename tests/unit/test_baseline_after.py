"""A baseline after another, from git's answer of what changed: it records exactly what a full listing records."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from codex_subagents.worktree import baseline_after, description, raw_git, recording, snapshot
from codex_subagents.worktree.location import Worktree, worktree_at
from codex_subagents.worktree.snapshot import Entry
from unit import worktree_changes
from unit.repos import git
from unit.worktree_changes import CHANGES, NEEDS_A_FULL_LISTING, small_ignored_files_crowd_out_an_older_one

pytestmark = pytest.mark.anyio
repo = worktree_changes.repo


async def recorded(worktree: Worktree, info: description.BaselineInfo) -> tuple[str, dict[str, object]]:
    """A baseline's worktree tree and what its ``meta.json`` says of its files."""
    commit, meta = await description.read(worktree.root, info.baseline_id)
    tree = git(worktree.root, "rev-parse", f"{commit}:worktree").strip()
    return tree, {key: meta[key] for key in ("files", "modes", "ignored", "skipped")}


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
async def test_a_baseline_after_another_records_what_a_full_listing_records(
    repo: Path, change: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever changed since the first baseline, the next one taken from git's answer holds the same tree, exact
    permission bits, protected ignored files and unprotected paths as one taken by listing every file; git's answer
    is used unless a nested repository, a submodule or a tracked file in a directory git would collapse as ignored
    makes a full listing necessary."""
    monkeypatch.setattr(snapshot, "MAX_IGNORED_FILE_BYTES", 64)
    monkeypatch.setattr(snapshot, "MAX_IGNORED_TOTAL_BYTES", 36)
    answered: list[bool] = []
    taken = baseline_after.taken

    async def watched(*args: Any, **kwargs: Any) -> baseline_after.After | None:
        after = await taken(*args, **kwargs)
        answered.append(after is not None)
        return after

    monkeypatch.setattr(baseline_after, "taken", watched)
    worktree = await worktree_at(repo)
    await recording.record(worktree, None)
    change(repo)
    quick = await recording.record(worktree, None)
    for kept in (worktree.records_dir / "baselines").iterdir():
        kept.unlink()
    full = await recording.record(worktree, None)
    assert answered == [change not in NEEDS_A_FULL_LISTING]
    assert await recorded(worktree, quick) == await recorded(worktree, full)


async def test_a_baseline_after_another_keeps_the_bits_it_did_not_read_again(repo: Path) -> None:
    """The exact permission bits of a file unchanged since the previous baseline come from that baseline."""
    worktree = await worktree_at(repo)
    await recording.record(worktree, None)
    (repo / "notes.md").write_text("edited\n")
    info = await recording.record(worktree, None)
    _, meta = await description.read(repo, info.baseline_id)
    assert meta["modes"] == {"key": 0o600}


async def test_only_what_changed_is_read_and_what_did_not_is_taken_from_the_previous_baseline(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the files have settled (the clock has moved two seconds past their last change), a baseline after
    another reads only the files changed since, keeps the exact bits of the others, and drops an unchanged
    ignored file that new ones crowd out of the size limit, as a full listing does."""
    monkeypatch.setattr(snapshot, "MAX_IGNORED_TOTAL_BYTES", 36)
    worktree = await worktree_at(repo)
    with anyio.fail_after(10):
        await past_the_racy_window(repo)
    await recording.record(worktree, None)
    (repo / "notes.md").chmod(0o640)
    (repo / "a.txt").write_bytes(b"one\n")
    small_ignored_files_crowd_out_an_older_one(repo)
    read: list[str] = []
    hash_entries = snapshot.hash_entries

    async def watched(root: Path, entries: dict[str, Entry], paths: list[str], write: bool) -> snapshot.Hashed:
        read.extend(paths)
        return await hash_entries(root, entries, paths, write)

    monkeypatch.setattr(snapshot, "hash_entries", watched)
    quick = await recording.record(worktree, None)
    assert sorted(read) == ["a.txt", "notes.md", "x0.log", "x1.log", "x2.log", "x3.log"]
    _, meta = await description.read(repo, quick.baseline_id)
    assert meta["modes"] == {"key": 0o600, "notes.md": 0o640}
    assert meta["skipped"] == {"debug.log": "too_large"}
    for kept in (worktree.records_dir / "baselines").iterdir():
        kept.unlink()
    full = await recording.record(worktree, None)
    assert await recorded(worktree, quick) == await recorded(worktree, full)


async def past_the_racy_window(repo: Path) -> None:
    """Wait for the clock to pass the racy window after the newest change below ``repo``: only time settles a
    file (`snapshot.settled`), so this is the one wait a test of the settled path cannot coordinate."""
    newest = await anyio.to_thread.run_sync(lambda: max(path.lstat().st_ctime_ns for path in repo.rglob("*")))
    await anyio.sleep((newest + snapshot.RACY_NS - time.time_ns()) / 1e9 + 0.01)


async def test_a_settled_change_is_read_by_git_as_raw_bytes_and_a_chmod_while_it_reads_is_not_trusted(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed long enough before the listing is read by git itself, as its raw bytes whatever the
    repository's line-ending rules and filters, and no filter the repository names is run for it (git's own
    judgement of the user's index, at the first baseline, may run one, as the user's git does); if a file's mode
    changes between the baseline's look and git's read, git's record of it is not trusted, and the next baseline
    reads the new bits."""
    worktree = await worktree_at(repo)
    marker = repo.parent / "a filter ran"
    git(repo, "config", "filter.upper.clean", f"touch '{marker}'; tr a-z A-Z")
    with anyio.fail_after(10):
        await past_the_racy_window(repo)
        await recording.record(worktree, None)
        (repo / "a.txt").write_bytes(b"one\nLF now\n")
        (repo / "b.up").write_text("still lower\n")
        (repo / "notes.md").write_text("edited\n")
        await past_the_racy_window(repo)
    marker.unlink(missing_ok=True)
    run = raw_git.run

    async def chmod_before_git_adds(raw: raw_git.RawGit, index: Path, *args: str, **kwargs: Any) -> bytes:
        if "--add" in args:
            (repo / "notes.md").chmod(0o600)
        return await run(raw, index, *args, **kwargs)

    monkeypatch.setattr(raw_git, "run", chmod_before_git_adds)
    second = await recording.record(worktree, None)
    monkeypatch.undo()
    for name in ("a.txt", "b.up"):
        raw = git(repo, "hash-object", "--no-filters", name).strip()
        assert git(repo, "rev-parse", f"{second.commit}:worktree/{name}").strip() == raw
    assert not marker.exists()
    third = await recording.record(worktree, None)
    _, meta = await description.read(repo, third.baseline_id)
    assert meta["modes"] == {"key": 0o600, "notes.md": 0o600}
