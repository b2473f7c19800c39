"""Baselines: a worktree's files, modes and git state recorded under a private ref, to compare and roll back to.

A baseline is a commit under ``refs/codex-subagents/baselines/<id>`` whose tree
holds ``worktree`` (every protected file as raw bytes), ``meta.json`` (the exact
permission bits git trees cannot hold, which ignored files are protected, what
was left out and why, HEAD, the index's digest, the stash list and the git
directory's files), ``index`` (the user's index, byte for byte), ``staged`` (what
the index stages, so its blobs stay reachable) and a ``git-<blob>`` entry for
each file of the git directory that `gitdir` records. Its parents are HEAD and
the stash entries, so nothing it refers to can be collected. A baseline belongs
to the worktree it was taken in: a linked worktree of the same repository
neither lists nor uses it. The ``lstat`` data and blob ids of the recorded files
are kept beside, as a git index in the worktree's git directory (`stat_index`),
so a later comparison reads again only what changed. The tools take a
baseline in a child process (`offload`): its per-path work would hold the server's interpreter.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from pydantic import JsonValue

from ..core import git, offload
from ..core.errors import BaselineError, InputError
from ..core.paths import git_unquoted
from . import description, recording, stat_index
from .description import REF_PREFIX, BaselineInfo, BaselineList, DropResult
from .gitstate import GitState
from .listing import SkipReason
from .location import Worktree
from .snapshot import Entry, Snapshot


@dataclass(frozen=True)
class Baseline:
    """A baseline's description and what comparing with it needs, but its files' entries (`files` reads them)."""

    info: BaselineInfo
    state: GitState
    taken_ns: int
    ignored: frozenset[str]
    """The protected ignored files."""
    skipped: dict[str, SkipReason]
    """What was left out, and why."""
    modes: dict[str, int]
    """The exact permission bits of the files whose bits are not git's own 0o644 or 0o755, by path."""


_IN_CHILD = f"{__name__}:described"


async def create_in_child(worktree: Worktree, label: str | None) -> BaselineInfo:
    """Record the worktree as `create` does, in a child process whose per-path work stalls no tool call."""
    found = (str(worktree.root), str(worktree.git_dir), str(worktree.shared_git_dir), worktree.ignore_case)
    return BaselineInfo.model_validate(await offload.run(_IN_CHILD, *found, label))


def child_kept_ready() -> AbstractAsyncContextManager[None]:
    """Keep the child of the next `create_in_child` started while the block runs: no baseline then pays the
    interpreter's start, not even the first."""
    return offload.ready(_IN_CHILD)


async def described(root: str, git_dir: str, shared_git_dir: str, ignore_case: bool, label: str | None) -> JsonValue:
    """The description of a new baseline as JSON: what the child of `create_in_child` runs, handed the worktree its
    caller found rather than asking git again."""
    worktree = Worktree(Path(root), Path(git_dir), Path(shared_git_dir), ignore_case)
    return (await recording.record(worktree, label)).model_dump(mode="json")


async def create(worktree: Worktree, label: str | None) -> Baseline:
    """Record the worktree now (`recording`), touching no file, nor HEAD, the index or the stash, and read the
    baseline back with what comparing needs."""
    return await load(worktree, (await recording.record(worktree, label)).baseline_id)


async def load(worktree: Worktree, baseline_id: str) -> Baseline:
    """Read back the baseline ``baseline_id`` of the worktree, with what comparing needs.

    Raises:
        InputError: for a malformed id.
        BaselineError: when this worktree has no such baseline.
    """
    commit, meta = await description.read(worktree.root, baseline_id)
    return Baseline(
        info=description.info_of(baseline_id, commit, meta),
        state=GitState.model_validate(meta["state"]),
        taken_ns=meta["taken_ns"],
        ignored=frozenset(git_unquoted(p) for p in meta["ignored"]),
        skipped={git_unquoted(p): reason for p, reason in meta["skipped"].items()},
        modes={git_unquoted(path): perm for path, perm in meta["modes"].items()},
    )


async def files(worktree: Worktree, baseline: Baseline) -> Snapshot:
    """Every file ``baseline`` recorded, with its blob id, exact bits and ``lstat`` data when its index is kept (else
    from its tree, without, so that each file is read again)."""
    kept = await offload.in_thread(stat_index.load, stat_index.kept_at(worktree, baseline.info.baseline_id))
    if kept:
        entries = _exact(kept.entries, baseline.modes)
    else:
        entries = await _entries(worktree.root, f"{baseline.info.commit}:worktree", baseline.modes)
    return Snapshot(entries, baseline.ignored, baseline.skipped, baseline.taken_ns)


async def listed(worktree: Worktree) -> BaselineList:
    """The worktree's baselines, newest first."""
    return BaselineList(baselines=[description.info_of(*found) for found in await _recorded(worktree.root)])


async def _recorded(root: Path) -> list[tuple[str, str, Any]]:
    """Each baseline of this worktree as its id, commit and metadata, newest first."""
    out = await git.run(root, "for-each-ref", "--format=%(refname:lstrip=3)", REF_PREFIX)
    found: list[tuple[str, str, Any]] = []
    for name in out.decode().split():
        try:
            found.append((name, *await description.read(root, name)))
        except (BaselineError, InputError):
            continue
    return sorted(found, key=lambda item: item[2]["created_at"], reverse=True)


async def drop(worktree: Worktree, baseline_id: str) -> DropResult:
    """Delete a baseline's ref and its kept index; the worktree is not touched."""
    baseline = await load(worktree, baseline_id)
    await git.run(worktree.root, "update-ref", "-d", baseline.info.ref, baseline.info.commit)
    cache = stat_index.kept_at(worktree, baseline_id)
    await anyio.to_thread.run_sync(lambda: cache.unlink(missing_ok=True))
    return DropResult(baseline_id=baseline_id, dropped=True)


def _exact(entries: dict[str, Entry], modes: dict[str, int]) -> dict[str, Entry]:
    """``entries`` read from a kept index, given the exact permission bits ``meta.json`` recorded (``modes``)."""
    for path, perm in modes.items():
        if path in entries:
            entries[path] = entries[path]._replace(perm=perm)
    return entries


async def _entries(root: Path, tree: str, modes: dict[str, int]) -> dict[str, Entry]:
    """Entries read from a recorded tree, with no ``lstat`` data, so that each file is read again."""
    entries: dict[str, Entry] = {}
    for record in git.nul_split(await git.run(root, "ls-tree", "-r", "-z", "--full-tree", tree)):
        meta, _, path = record.partition("\t")
        mode, _, sha = meta.split(" ")
        entries[path] = description.entry_of(sha, mode, modes.get(path))
    return entries
