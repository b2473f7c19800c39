"""A baseline's tree of the worktree, written by git from a copy of the user's index.

The user's index already holds the blob id of most files, and a cache of the
trees of the directories whose entries have not changed since it was last
written. A baseline copies it to a scratch file (``GIT_INDEX_FILE``), lists and
proves blob ids from that copy (`snapshot`, `staged_stat`), writes the tree it
stages, then replaces only the entries that differ from the files on disk
(`records`) and writes the worktree's tree: git rebuilds the trees of the
directories touched, not of all of them, and checks only their blobs. The
user's index is read, never written.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import anyio

from ..core import git, offload
from .location import Worktree
from .snapshot import Entry, Snapshot

_ONE_FILE = ("-c", "core.splitIndex=false")
"""A scratch index is written whole: split, it would leave a shared index file in the user's git directory."""
_EMPTY_BLOBS = frozenset(
    {"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"}
)


async def copied(worktree: Worktree, scratch: Path) -> Path | None:
    """A copy of the user's index in ``scratch``, its modification time kept (git's racy-clean rule reads it); None
    when the worktree has no index."""
    copy = scratch / "index"
    try:
        await anyio.to_thread.run_sync(shutil.copy2, worktree.index, copy)
    except FileNotFoundError:
        return None
    return copy


async def write_tree(root: Path, index: Path, ok: tuple[int, ...] = (0,)) -> str:
    """The tree the index file ``index`` stages; empty when git refuses it (conflicts) and ``ok`` allows that."""
    return (await git.run(root, *_ONE_FILE, "write-tree", env=_at(index), ok=ok)).decode().strip()


async def worktree_tree(root: Path, index: Path, shot: Snapshot) -> str:
    """The tree of ``shot``'s entries, written through ``index`` (the copy `shot` listed, or a new file)."""
    data = await offload.in_thread(records, shot.entries, shot.indexed)
    await git.run(root, *_ONE_FILE, "update-index", "-z", "--index-info", stdin=data, env=_at(index))
    return await write_tree(root, index)


def _at(index: Path) -> dict[str, str]:
    return {"GIT_INDEX_FILE": str(index)}


def records(entries: Mapping[str, Entry], indexed: Mapping[str, str] | None = None) -> bytes:
    """The ``update-index -z --index-info`` input that turns an index holding ``indexed`` into one of ``entries``.

    ``indexed`` lists the index's entries by path as ``ls-files --stage`` does (mode, blob id, stage); an entry
    listed the same at stage 0 is left alone, so that git keeps its cached tree of the directories that hold only
    such entries. Paths listed and not in ``entries`` are removed first (conflicted entries, submodules, files gone),
    then each other entry is written. An entry of the empty blob is always written: git lists an intent-to-add
    entry so, and leaves it out of the trees it writes.
    """
    listed = indexed or {}
    written = [(path, entry) for path, entry in entries.items() if not _listed_as(listed.get(path), entry)]
    zero = "0" * (len(next(iter(listed.values())).split(" ")[1]) if listed else 40)
    gone = [f"0 {zero}\t".encode() + os.fsencode(path) + b"\0" for path in listed if path not in entries]
    return b"".join(gone) + b"".join(
        f"{e.git_mode} {e.sha}\t".encode() + os.fsencode(p) + b"\0" for p, e in sorted(written)
    )


def _listed_as(meta: str | None, entry: Entry) -> bool:
    """Whether ``meta`` (``mode blob stage``) lists ``entry`` at stage 0, its blob compared first, as it decides."""
    return (
        meta is not None
        and meta.endswith(" 0")
        and meta[7:-2] == entry.sha
        and meta[:6] == entry.git_mode
        and entry.sha not in _EMPTY_BLOBS
    )
