"""What changed in a worktree since a baseline: every path whose bytes, kind or permission bits differ, and what
moved in git's own state.

`compare` has git name the files that may differ, from the index the baseline
kept (`compare_by_git`), and reads only those; where git's listing would not
serve, it snapshots the worktree against the baseline in full (reading only what
its ``lstat`` says may have changed). `differences` is the pure step that names
the changes. Overlaps, integrity and rollback all start here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..core import offload
from . import baselines, compare_by_git, gitstate, snapshot
from .baselines import Baseline
from .gitstate import GitStateChange
from .location import Worktree
from .snapshot import Entry

ChangeKind = Literal["added", "modified", "deleted", "type_changed", "mode_changed"]


@dataclass(frozen=True)
class Comparison:
    """The paths that differ from a baseline, how, the baseline's entries of them, and what moved in git's state."""

    changed: dict[str, ChangeKind]
    before: dict[str, Entry]
    """The baseline's entry of each changed path it held: what a rollback writes back."""
    git: list[GitStateChange]


async def compare(worktree: Worktree, baseline: Baseline) -> Comparison:
    """Compare the worktree with ``baseline``: files, modes, HEAD, index and stash."""
    found = await compare_by_git.candidates(worktree, baseline)
    if found:
        before, after, staged = found
    else:
        earlier = await baselines.files(worktree, baseline)
        now = await snapshot.take(worktree, write=False, earlier=earlier)
        before, after, staged = earlier.entries, now.entries, now.staged
    state = await gitstate.record(worktree, write=False, staged=staged)
    changed = await offload.in_thread(differences, before, after)
    held = {path: before[path] for path in changed if path in before}
    return Comparison(changed, held, gitstate.changes(baseline.state, state))


def differences(before: Mapping[str, Entry], after: Mapping[str, Entry]) -> dict[str, ChangeKind]:
    """Each path whose entry differs between ``before`` and ``after``, with the kind of change, sorted by path.

    Only the changes are sorted: a sort of every path cost more than the whole comparison in a large tree.
    """
    changed: dict[str, ChangeKind] = dict.fromkeys(after.keys() - before.keys(), "added")
    for path, was in before.items():
        now = after.get(path)
        if now is None:
            changed[path] = "deleted"
        elif was.link != now.link:
            changed[path] = "type_changed"
        elif was.sha != now.sha:
            changed[path] = "modified"
        elif was.perm != now.perm:
            changed[path] = "mode_changed"
    return dict(sorted(changed.items()))
