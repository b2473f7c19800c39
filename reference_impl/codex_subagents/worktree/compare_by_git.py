"""Which files may differ from a baseline, found by git from the index the baseline kept: only those are read.

A comparison lists what a full snapshot would (the files of the user's index,
the untracked files that are not ignored, the baseline's protected ignored files,
nothing under what the baseline left out) and needs the blob id and permission
bits of each. The baseline's kept index (`stat_index`) already holds them as they
were, with each file's ``lstat`` data: git compares that with the worktree
(``diff-files`` through `raw_git`, in C and in threads), so that only the files
it names, the files the baseline did not hold and the files no longer listed are
looked at in Python, as ``git status`` looks only at what changed.

The answer is the baseline's entries and the current entries of just those
paths; every other listed file is as the baseline recorded it. Where git's
listing could differ from a full snapshot's (a submodule, a repository nested
in the worktree, both listed by their own git there) or the kept index is
missing or unreadable, `candidates` returns None and the caller takes a full
snapshot.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import partial
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import git, offload
from ..core.errors import GitError
from ..core.paths import under
from . import description, raw_git, snapshot, stat_index
from .baselines import Baseline
from .gitstate import staged_digest
from .listing import Listing, holds_a_repository
from .location import Worktree
from .snapshot import Entry


class Candidates(NamedTuple):
    """The baseline's entries and the current ones of every path that may differ; the rest are unchanged."""

    before: dict[str, Entry]
    after: dict[str, Entry]
    staged: str
    """The `gitstate.staged_digest` of the user's index as listed."""


async def candidates(worktree: Worktree, baseline: Baseline) -> Candidates | None:
    """The paths of the worktree that may differ from ``baseline``, before and now; None when a full snapshot is
    needed (see the module)."""
    with tempfile.TemporaryDirectory(prefix="codex-subagents-compare-") as scratch:
        kept = Path(scratch) / "kept-index"
        try:  # a copy: a baseline dropped meanwhile must not leave git an empty index to compare with
            await anyio.to_thread.run_sync(
                shutil.copyfile, stat_index.kept_at(worktree, baseline.info.baseline_id), kept
            )
            listed = await _listed(worktree.root, await raw_git.made(worktree, Path(scratch)), kept)
        except (OSError, GitError):  # no kept index, or one git cannot read
            return None
    untracked = git.nul_split(listed["others"])
    if holds_a_repository(listed["staged"], untracked):
        return None
    root = worktree.root
    before, read = await offload.in_thread(_paired, baseline, listed, untracked)
    after, skipped, _ = await offload.in_thread(snapshot.examine, root, Listing(paths=read), None, None)
    hashed = await snapshot.hash_entries(root, after, list(after), False)
    await offload.in_thread(snapshot.settle, after, skipped, hashed)
    return Candidates(before, after, staged_digest(listed["staged"]))


async def _listed(root: Path, raw: raw_git.RawGit, kept: Path) -> dict[str, bytes]:
    """Ask git at once what the user's index and the kept index hold, what changed, and what is untracked."""
    return await offload.gathered(
        {
            "changed": partial(raw_git.run, raw, kept, "diff-files", "--name-only", "-z"),
            "kept": partial(raw_git.run, raw, kept, "ls-files", "-z", "--stage"),
            "staged": partial(git.run, root, "ls-files", "-z", "--stage"),
            "others": partial(git.run, root, "ls-files", "-z", "--others", "--exclude-standard"),
        }
    )


def _paired(baseline: Baseline, listed: dict[str, bytes], untracked: list[str]) -> tuple[dict[str, Entry], list[str]]:
    """The baseline's entries of the paths that may differ, and those of them listed now, to be read.

    A path may differ when git names its kept entry as changed, when the baseline did not hold it, or when a full
    snapshot would no longer list it (gone, or now ignored), exactly as a full snapshot would find it. Only the
    paths the baseline did not hold are checked against what it left out: it held none below those.
    """
    staged = _by_path(listed["staged"])
    now = {*staged, *untracked, *baseline.ignored}
    held = _by_path(listed["kept"])
    excluded = frozenset(baseline.skipped)
    new = [path for path in now.difference(held) if not under(path, excluded)]
    gone = held.keys() - now
    changed = now.intersection(git.nul_split(listed["changed"]))
    before = {path: _entry(held[path], baseline.modes.get(path)) for path in (*gone, *changed)}
    return before, sorted([*changed, *new])


def _by_path(listing: bytes) -> dict[str, str]:
    """An index as ``ls-files -z --stage`` lists it: each entry's mode, blob id and stage, by path.

    Split at once where no path holds a tab (git's own field separator), else record by record.
    """
    text = os.fsdecode(listing)
    records = text.count("\0")
    if text.count("\t") == records:
        fields = text.replace("\t", "\0").split("\0")
        return dict(zip(fields[1::2], fields[0:-1:2], strict=True))
    return {path: meta for meta, _, path in (record.partition("\t") for record in text.split("\0")[:records])}


def _entry(meta: str, exact: int | None) -> Entry:
    """The baseline's entry of a file from its kept index entry (``mode sha stage``) and its exact bits, if any."""
    mode, sha, _ = meta.split(" ")
    return description.entry_of(sha, mode, exact)
