"""See which paths of a worktree changed between two looks, for writes no event announces (shell commands).

A look asks git which paths differ from the index or are untracked (``git
status``, which skips ignored files and reads no file it can trust by its
stat data), then takes each such path's ``lstat`` signature. A path changed
between two looks when its signature differs: it appeared in git's list, left
it, or was written again while already listed (a second edit of a modified
file). The first look only primes. Cheap enough to run after every shell
command a worker finishes; ignored files and submodules' insides are not
watched (`codex_overlaps` still compares them with the baseline).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import anyio

from . import git

Signature = tuple[int, int, int, int, int] | None
"""A path's inode, size, mode, modification and change times; None when it does not exist."""

_STATUS = ("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules=all")


class WorktreeWatch:
    """The signatures of a worktree's changed paths at the last look."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, Signature] = {}

    async def prime(self) -> None:
        """Take the first look, against which the next one compares."""
        await self.changes()

    async def changes(self) -> list[str]:
        """Return the root-relative paths whose state differs from the last look, and remember this one."""
        output = await git.run(self.root, *_STATUS, background=True)
        listed = [os.fsdecode(entry[3:]) for entry in output.split(b"\0") if len(entry) > 3]
        candidates = set(listed) | self._seen.keys()
        now = await anyio.to_thread.run_sync(_signatures, self.root, candidates)
        changed = sorted(path for path in candidates if path not in self._seen or now[path] != self._seen[path])
        self._seen = {path: now[path] for path in listed}
        return changed


def _signatures(root: Path, paths: Iterable[str]) -> dict[str, Signature]:
    found: dict[str, Signature] = {}
    # Joined as strings: pathlib's per-path parsing held the interpreter lock for most of a look, which
    # delayed the event loop's answers to tool calls.
    top = os.fspath(root)
    for path in paths:
        try:
            info = os.lstat(f"{top}/{path}")
        except OSError:
            found[path] = None
        else:
            found[path] = (info.st_ino, info.st_size, info.st_mode, info.st_mtime_ns, info.st_ctime_ns)
    return found
