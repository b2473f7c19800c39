"""What changed in a worktree since a baseline: every path whose bytes, kind or permission bits differ, and what
moved in git's own state.

`compare` snapshots the worktree against the baseline (reading only what its
``lstat`` says may have changed) and names each change; `differences` is the
pure step that names them. Overlaps, integrity and rollback all start here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..core import offload
from . import gitstate, snapshot
from .baselines import Baseline
from .gitstate import GitStateChange
from .location import Worktree
from .snapshot import Entry

ChangeKind = Literal["added", "modified", "deleted", "type_changed", "mode_changed"]


@dataclass(frozen=True)
class Comparison:
    """The paths that differ from a baseline, how, and what moved in git's state."""

    changed: dict[str, ChangeKind]
    current: dict[str, Entry]
    git: list[GitStateChange]


async def compare(worktree: Worktree, baseline: Baseline) -> Comparison:
    """Compare the worktree with ``baseline``: files, modes, HEAD, index and stash."""
    now = await snapshot.take(worktree, write=False, earlier=baseline.snapshot)
    state = await gitstate.record(worktree, write=False, staged=now.staged)
    changed = await offload.in_thread(differences, baseline.snapshot.entries, now.entries)
    return Comparison(changed, now.entries, gitstate.changes(baseline.state, state))


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
