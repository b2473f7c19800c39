"""A comparison from git's answer of what may differ: it finds exactly the changes a full snapshot finds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codex_subagents.worktree import baselines, compare_by_git, comparison, recording, snapshot
from codex_subagents.worktree.location import worktree_at
from codex_subagents.worktree.snapshot import Entry
from unit import worktree_changes
from unit.worktree_changes import CHANGES, NEEDS_A_FULL_LISTING

pytestmark = pytest.mark.anyio
repo = worktree_changes.repo

NEEDS_A_FULL_SNAPSHOT = {worktree_changes.a_nested_repository_appeared, worktree_changes.a_submodule_was_added}
"""Git's answer serves a comparison in more cases than a baseline after another: what a comparison lists is decided
by the baseline, so a directory that became ignored needs no second look."""


def kept(entries: dict[str, Entry]) -> dict[str, tuple[str, int, bool]]:
    """What a rollback writes back of each entry: its blob id, bits and kind."""
    return {path: (entry.sha, entry.perm, entry.link) for path, entry in entries.items()}


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
async def test_git_names_every_change_a_full_snapshot_finds(
    repo: Path, change: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a worker changed since the baseline, the comparison from the baseline's kept index finds the same
    changes, with the same entries to write back, as a snapshot of every file; git's answer is used unless a nested
    repository or a submodule makes a full snapshot necessary."""
    monkeypatch.setattr(snapshot, "MAX_IGNORED_FILE_BYTES", 64)
    monkeypatch.setattr(snapshot, "MAX_IGNORED_TOTAL_BYTES", 36)
    answered: list[bool] = []
    candidates = compare_by_git.candidates

    async def watched(*args: Any) -> compare_by_git.Candidates | None:
        found = await candidates(*args)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(compare_by_git, "candidates", watched)
    worktree = await worktree_at(repo)
    baseline = await baselines.load(worktree, (await recording.record(worktree, None)).baseline_id)
    change(repo)
    quick = await comparison.compare(worktree, baseline)
    earlier = await baselines.files(worktree, baseline)
    now = await snapshot.take(worktree, write=False, earlier=earlier)
    full = comparison.differences(earlier.entries, now.entries)
    assert answered == [change not in NEEDS_A_FULL_SNAPSHOT]
    assert quick.changed == full
    assert kept(quick.before) == kept({path: earlier.entries[path] for path in full if path in earlier.entries})


def test_the_cases_a_full_snapshot_needs_are_fewer_than_a_full_listing_needs() -> None:
    """Every case where a comparison needs a full snapshot also needs a full listing for a baseline."""
    assert NEEDS_A_FULL_SNAPSHOT <= NEEDS_A_FULL_LISTING


async def test_a_baseline_whose_index_is_not_kept_is_compared_in_full(repo: Path) -> None:
    """Without the kept index (deleted, or from an older version), git has nothing to compare with, and every file
    is read; the change is found all the same."""
    worktree = await worktree_at(repo)
    baseline = await baselines.load(worktree, (await recording.record(worktree, None)).baseline_id)
    for index in (worktree.records_dir / "baselines").iterdir():
        index.unlink()
    (repo / "notes.md").write_text("edited\n")
    assert await compare_by_git.candidates(worktree, baseline) is None
    assert (await comparison.compare(worktree, baseline)).changed == {"notes.md": "modified"}


async def test_a_change_in_the_same_second_as_the_baseline_and_to_the_same_size_is_found(repo: Path) -> None:
    """A file the baseline took too close to its change is kept without its ``lstat`` data, so git names it
    whatever its stat says now."""
    worktree = await worktree_at(repo)
    (repo / "notes.md").write_text("written\n")
    baseline = await baselines.load(worktree, (await recording.record(worktree, None)).baseline_id)
    (repo / "notes.md").write_text("WRITTEN\n")
    assert (await comparison.compare(worktree, baseline)).changed == {"notes.md": "modified"}
