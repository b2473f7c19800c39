"""Which jobs make a batch: those started since a baseline of the worktree was recorded.

A boss following the skill records a baseline, then spawns its workers; the
baseline a person sees named on the watch is the newest one of the worktree.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import GitError
from ..worktree import baselines
from ..worktree.location import worktree_at
from .activity import clock


async def newest_baseline(root: Path) -> str | None:
    """The worktree's newest baseline as its id and the time it was recorded; None when it has none."""
    try:
        found = (await baselines.listed(await worktree_at(root))).baselines
    except (GitError, OSError):
        return None
    return f"{found[0].baseline_id} ({clock(found[0].created_at)})" if found else None
