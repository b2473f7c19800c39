"""The user's index as a baseline reads it: through a copy, never the file itself.

A baseline copies the user's index to a scratch file (``GIT_INDEX_FILE``),
lists and proves blob ids from that copy (`snapshot`, `staged_stat`), stores it
as a blob and writes the tree it stages, so that all of these read one index
even while the user stages more.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio

from ..core import git
from .location import Worktree

_ONE_FILE = ("-c", "core.splitIndex=false")
"""A scratch index is written whole: split, it would leave a shared index file in the user's git directory."""


async def copied(worktree: Worktree, scratch: Path) -> Path | None:
    """A copy of the user's index in ``scratch``, its modification time kept (git's racy-clean rule reads it); None
    when the worktree has no index."""
    copy = scratch / "index"
    try:
        await anyio.to_thread.run_sync(shutil.copy2, worktree.index, copy)
    except FileNotFoundError:
        return None
    return copy


async def stored(root: Path, index: Path) -> str:
    """Store the copy ``index`` as a blob and return its id; git reads the file itself, so nothing is piped."""
    return (await git.run(root, "hash-object", "-w", "--no-filters", "--", str(index))).decode().strip()


async def write_tree(root: Path, index: Path, ok: tuple[int, ...] = (0,)) -> str:
    """The tree the index file ``index`` stages; empty when git refuses it (conflicts) and ``ok`` allows that."""
    return (await git.run(root, *_ONE_FILE, "write-tree", env={"GIT_INDEX_FILE": str(index)}, ok=ok)).decode().strip()
