"""Putting recorded files back on disk: whole, with exact permission bits, never through a half-written file.

A rollback of the worktree and of the git directory's files both write here. A
file is written to a temporary name beside its target, readable by its owner
alone, given its recorded bits, then renamed over the target, so a reader never
sees half a file and a mode is never wider than the recorded one, not even for
an instant; a link is made under a temporary name and renamed the same way.
"""

from __future__ import annotations

import os
import stat
import tempfile
import uuid
from collections.abc import Collection, Iterable
from pathlib import Path

from ..core.paths import parents


def remove(target: Path) -> bool:
    """Remove the file or link ``target``; False when nothing is there or it is a directory."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(info.st_mode):
        return False
    target.unlink()
    return True


def prune(root: Path, removed: Iterable[str], keep: Collection[str]) -> list[str]:
    """Remove the directories under ``root`` that the removals left empty, never one named in ``keep``."""
    pruned: list[str] = []
    for path in removed:
        for name in parents(path):
            if name in keep:
                break
            try:
                (root / name).rmdir()
            except OSError:
                break
            pruned.append(name)
    return pruned


def write(target: Path, data: bytes, perm: int, *, link: bool) -> None:
    """Make ``target`` hold ``data`` with the bits ``perm`` (or be a link to ``data``), renaming a finished one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        target.rmdir()
    if link:
        temporary = target.parent / f".codex-subagents-{uuid.uuid4().hex}"
        os.symlink(os.fsdecode(data), temporary)
    else:
        handle, name = tempfile.mkstemp(prefix=".codex-subagents-", dir=target.parent)
        temporary = Path(name)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            os.fchmod(stream.fileno(), perm)
    try:
        os.replace(temporary, target)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
