"""Putting a worktree back as a baseline recorded it: a pure plan, then one step that applies it.

`plan` turns a comparison (`comparison`) into the exact list of removals and writes (computed
without touching anything, so it can be inspected and tested alone); `apply`
carries it out: removals first, deepest first, then each file written to a
temporary name with its exact permission bits and renamed over, so a reader
never sees half a file and a mode is never wider than the baseline's (`placing`).
Only then are the git directory's files, HEAD, the index and the stash list put
back. Paths the baseline did not protect are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from pydantic import BaseModel, Field

from ..core import git
from ..core.paths import git_quoted, parents, under
from . import gitstate, placing
from .baselines import Baseline
from .comparison import Comparison
from .gitstate import GitStateChange
from .location import Worktree
from .snapshot import Entry


@dataclass(frozen=True)
class Plan:
    """Exactly what a rollback will do to files, and whether it puts git's state back."""

    remove: list[str]
    write: dict[str, Entry]
    keep_dirs: frozenset[str]
    """Directories the removals must not prune: above a baseline file that is missing, or left unprotected."""
    git: list[GitStateChange]
    spared: dict[str, str]
    """Changed paths left as they are, each with why."""


class NotRestored(BaseModel):
    """A path a rollback could not put back, and why."""

    path: str
    reason: str


class RollbackResult(BaseModel):
    """What a rollback put back."""

    baseline_id: str
    restored: list[str] = Field(description="Paths written back with the baseline's bytes and permission bits")
    removed: list[str] = Field(description="Paths that did not exist in the baseline, removed")
    removed_dirs: list[str] = Field(description="Directories left empty by the removals, removed")
    not_restored: list[NotRestored] = Field(description="Paths that could not be put back; nothing else was lost")
    git_restored: list[GitStateChange] = Field(
        description="HEAD, index, stash or git directory file changes that were moved back"
    )
    kept_refs: list[str] = Field(description="Private refs keeping the commits, stash entries or index replaced")


def plan(
    baseline: Baseline, comparison: Comparison, wanted: Iterable[str] | None = None, left_as_is: Mapping[str, str] = {}
) -> Plan:
    """The removals and writes that put back every change, or only those at or below ``wanted``, but ``left_as_is``.

    ``left_as_is`` maps the paths to leave as they are to why. Git's own state is put back only by a rollback of
    everything.
    """
    selected = frozenset(wanted) if wanted is not None else None
    chosen = {p: k for p, k in comparison.changed.items() if selected is None or under(p, selected)}
    changes = {p: k for p, k in chosen.items() if p not in left_as_is}
    skipped = baseline.skipped
    # A directory left empty by the removals holds no file of the baseline that is on disk now, so only those
    # that are missing (deleted) and what the baseline left out can make it one to keep: no walk of every entry.
    missing = [p for p, kind in comparison.changed.items() if kind == "deleted"]
    keep_dirs = {parent for path in (*missing, *skipped) for parent in parents(path)}
    return Plan(
        remove=sorted((p for p, kind in changes.items() if kind == "added"), reverse=True),
        write={p: comparison.before[p] for p, kind in changes.items() if kind != "added"},
        keep_dirs=frozenset(keep_dirs | set(skipped)),
        git=comparison.git if selected is None else [],
        spared={p: left_as_is[p] for p in chosen if p in left_as_is},
    )


async def apply(worktree: Worktree, baseline: Baseline, steps: Plan) -> RollbackResult:
    """Carry out ``steps`` in the worktree."""
    blobs = await _blobs(worktree.root, {entry.sha for entry in steps.write.values()})
    removed, removed_dirs, not_restored = await anyio.to_thread.run_sync(_apply_files, worktree.root, steps, blobs)
    moved: list[GitStateChange] = []
    kept: list[str] = []
    if steps.git:
        moved, kept = await gitstate.restore(worktree, baseline.state, baseline.info.baseline_id)
    failed = {path for path, _ in not_restored}
    return RollbackResult(
        baseline_id=baseline.info.baseline_id,
        restored=[git_quoted(p) for p in sorted(steps.write) if p not in failed],
        removed=[git_quoted(p) for p in sorted(removed)],
        removed_dirs=[git_quoted(p) for p in sorted(removed_dirs)],
        not_restored=[
            NotRestored(path=git_quoted(p), reason=reason) for p, reason in [*steps.spared.items(), *not_restored]
        ],
        git_restored=moved,
        kept_refs=kept,
    )


async def _blobs(root: Path, shas: set[str]) -> dict[str, bytes]:
    """The contents of ``shas``, read by one ``git cat-file --batch``."""
    if not shas:
        return {}
    order = sorted(shas)
    out = await git.run(root, "cat-file", "--batch", stdin="".join(f"{sha}\n" for sha in order).encode())
    blobs: dict[str, bytes] = {}
    position = 0
    for sha in order:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        blobs[sha] = out[header_end + 1 : header_end + 1 + size]
        position = header_end + 1 + size + 1
    return blobs


def _apply_files(
    root: Path, steps: Plan, blobs: Mapping[str, bytes]
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    removed = [path for path in steps.remove if placing.remove(root / path)]
    removed_dirs = placing.prune(root, removed, steps.keep_dirs)
    not_restored: list[tuple[str, str]] = []
    for path, entry in sorted(steps.write.items()):
        try:
            placing.write(root / path, blobs[entry.sha], entry.perm, link=entry.link)
        except OSError as exc:
            not_restored.append((path, f"{exc.strerror or exc}; the path was left as it is"))
    return removed, removed_dirs, not_restored
