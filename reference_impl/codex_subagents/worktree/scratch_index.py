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
from . import raw_git
from .location import Worktree


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


async def write_tree(raw: raw_git.RawGit, index: Path, ok: tuple[int, ...] = (0,)) -> str:
    """The tree the index file ``index`` stages; empty when git refuses it (conflicts) and ``ok`` allows that.

    Git writes the index file back as it writes the tree, and first compares each racily clean entry's bytes: it
    does so through the server's own git directory (``raw``), where no filter of the repository's runs.
    """
    return (await raw_git.run(raw, index, "write-tree", ok=ok)).decode().strip()
