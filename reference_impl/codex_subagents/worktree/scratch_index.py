"""A baseline's tree of the worktree, written by git from an index that already holds most of it.

The user's index already holds the blob id of most files, and a cache of the
trees of the directories whose entries have not changed since it was last
written. A baseline copies it to a scratch file (``GIT_INDEX_FILE``), lists and
proves blob ids from that copy (`snapshot`, `staged_stat`), writes the tree it
stages, then replaces only the entries that differ from the files on disk
(`records`) and writes the worktree's tree: git rebuilds the trees of the
directories touched, not of all of them, and checks only their blobs. The
user's index is read, never written. A baseline taken after another starts
from the previous baseline's tree instead (`tree_after`), which holds the
untracked and ignored files too and differs from the new one only by what
changed between them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import anyio

from ..core import git, offload
from . import staged_stat
from .location import Worktree
from .snapshot import Entry, Snapshot

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
    return (await git.run(root, *_ONE_FILE, "write-tree", env=_at(index), ok=ok)).decode().strip()


async def worktree_tree(root: Path, index: Path, shot: Snapshot) -> str:
    """The tree of ``shot``'s entries, written through ``index`` (the copy `shot` listed, or a new file)."""
    data = await offload.in_thread(records, shot.entries, shot.indexed)
    await git.run(root, *_ONE_FILE, "update-index", "-z", "--index-info", stdin=data, env=_at(index))
    return await write_tree(root, index)


def _at(index: Path) -> dict[str, str]:
    return {"GIT_INDEX_FILE": str(index)}


async def tree_after(
    root: Path, index: Path, tree: str, entries: Mapping[str, Entry], earlier: Mapping[str, Entry]
) -> str:
    """The tree of ``entries``, written from ``tree``, the tree of ``earlier`` (a previous baseline's entries).

    Git reads ``tree`` into the new index file ``index`` with the cache of its subtrees (while Python finds the
    entries that differ), those entries are replaced, and only the directories that hold them are written again.
    """
    found = [b""]

    async def read() -> None:
        await git.run(root, *_ONE_FILE, "read-tree", tree, env=_at(index))

    async def compare() -> None:
        found[0] = await offload.in_thread(_changes, entries, earlier, "0" * len(tree))

    await offload.concurrently(read, compare)
    data = found[0]
    await git.run(root, *_ONE_FILE, "update-index", "-z", "--index-info", stdin=data, env=_at(index))
    return await write_tree(root, index)


def _changes(entries: Mapping[str, Entry], earlier: Mapping[str, Entry], zero: str) -> bytes:
    """The ``update-index -z --index-info`` input that turns an index of ``earlier`` into one of ``entries``."""
    written = [(path, f"{entry.git_mode} {entry.sha}") for path, entry in entries.items() if earlier.get(path) != entry]
    return index_info([path for path in earlier if path not in entries], written, zero)


def records(entries: Mapping[str, Entry], indexed: Mapping[str, str] | None = None) -> bytes:
    """The ``update-index -z --index-info`` input that turns an index holding ``indexed`` into one of ``entries``.

    ``indexed`` lists the index's entries by path as ``ls-files --stage`` does (mode, blob id, stage); an entry
    listed the same at stage 0 is left alone, so that git keeps its cached tree of the directories that hold only
    such entries. Paths listed and not in ``entries`` are removed first (conflicted entries, submodules, files gone),
    then each other entry is written. An entry of the empty blob is always written: git lists an intent-to-add
    entry so, and leaves it out of the trees it writes.
    """
    listed = indexed or {}
    written: list[tuple[str, str]] = []
    for path, entry in entries.items():
        line = f"{entry.git_mode} {entry.sha}"
        if listed.get(path) != f"{line} 0" or entry.sha in staged_stat.EMPTY_BLOBS:
            written.append((path, line))
    zero = "0" * (len(next(iter(listed.values())).split(" ")[1]) if listed else 40)
    return index_info([path for path in listed if path not in entries], written, zero)


def index_info(gone: list[str], written: list[tuple[str, str]], zero: str) -> bytes:
    """``update-index -z --index-info`` lines: ``gone`` removed first, then each ``(path, "mode blob")`` written."""
    removed = "".join(f"0 {zero}\t{path}\0" for path in gone)
    return os.fsencode(removed + "".join(f"{line}\t{path}\0" for path, line in sorted(written)))
