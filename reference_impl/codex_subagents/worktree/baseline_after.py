"""A baseline taken after another: git names what changed since, and only that is read.

The previous baseline's kept index (`stat_index`) holds the raw blob id and the
``lstat`` data of every file it protected. A copy of it is compared with the
worktree by git (``diff-files`` through `raw_git`, in C and in threads), and the
worktree is listed against it (``ls-files --others``: only what it does not
hold), so Python reads only the files changed, added or removed since, as git's
own ``add --all`` does. The copy, with those entries replaced, is the new
baseline's index: git writes the worktree's tree from it, reusing its cached
trees of the directories that did not change, and it is kept for the next one.

Where that could answer differently from a full listing, `taken` returns None and
the caller lists the worktree in full: a nested repository or submodule (each has
an index and ignore rules of its own), or an ignored directory that holds a
tracked file the previous baseline did not protect.
"""

from __future__ import annotations

import os
import shutil
import time
from functools import partial
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import git, offload
from ..core.errors import GitError
from ..core.paths import under
from . import raw_git, snapshot, stat_index
from .description import Contents, exact_modes
from .gitstate import staged_digest
from .listing import Listing, SkipReason, holds_a_repository
from .snapshot import Entry

_OTHERS = ("ls-files", "-z", "--others", "--exclude-standard")
_IGNORED = (*_OTHERS, "--ignored", "--directory")


class After(NamedTuple):
    """A baseline's files, taken after another's: what its ``meta.json`` says of them, its tree and its index."""

    contents: Contents
    staged: str
    """The `gitstate.staged_digest` of the user's index as listed."""
    tree: str
    kept: Path
    """The index of the files, to keep beside the baseline."""


class _Listed(NamedTuple):
    """What git said of the worktree, against the user's index and against the previous baseline's."""

    changed: list[str]
    """The previous baseline's files whose ``lstat`` data or bytes changed, or that are gone."""
    staged: bytes
    """The user's index as ``ls-files --stage`` lists it: its digest is recorded, and a submodule shows in it."""
    others: list[str]
    """The user's untracked files that are not ignored; asked for the nested repositories, which git lists as
    directories."""
    ignored: list[str]
    """The user's ignored files and directories (``/`` at the end), as ``--directory`` collapses them."""
    new: list[str]
    """The files the previous baseline did not hold that are not ignored."""
    new_ignored: list[str]
    """The ignored files and directories the previous baseline did not hold."""


async def taken(
    raw: raw_git.RawGit, scratch: Path, user_index: Path | None, previous: Path, previous_modes: dict[str, int]
) -> After | None:
    """The files of the worktree now, from the kept index ``previous`` of the baseline before, whose exact permission
    bits were ``previous_modes``, compared by git through ``raw``; None when a full listing is needed (see the
    module)."""
    root = raw.root
    index = scratch / "kept-index"
    try:
        await anyio.to_thread.run_sync(shutil.copy2, previous, index)
    except FileNotFoundError:  # the previous baseline was dropped meanwhile
        return None
    taken_ns = time.time_ns()
    listed = await _listed(raw, index, user_index or scratch / "no-index")
    if holds_a_repository(listed.staged, [*listed.others, *listed.new]):
        return None
    ignored_dirs = frozenset(path.rstrip("/") for path in listed.ignored if path.endswith("/"))
    if any(p.endswith("/") and p.rstrip("/") not in ignored_dirs for p in listed.new_ignored):
        return None
    inside = await _inside(raw, index, ignored_dirs, listed.new_ignored)
    read, skipped, kept_ignored, dropped = await offload.in_thread(_examined, root, listed, ignored_dirs, inside)
    gone = sorted({*(p for p in listed.changed if p not in read), *dropped, *inside})
    tree = await _written(raw, index, _Update(read, skipped, gone, taken_ns))
    modes = {p: m for p, m in previous_modes.items() if p not in read and p not in gone} | exact_modes(read.items())
    skipped |= dict.fromkeys(ignored_dirs, "ignored_directory")
    files = await anyio.to_thread.run_sync(stat_index.count, index)
    contents = Contents(taken_ns, files, modes, frozenset(kept_ignored), skipped)
    return After(contents, staged_digest(listed.staged), tree, index)


async def _listed(raw: raw_git.RawGit, index: Path, user_index: Path) -> _Listed:
    """Ask git at once what changed since the previous baseline (``index``) and what the worktree holds."""
    root = raw.root
    user, ours = {"GIT_INDEX_FILE": str(user_index)}, {"GIT_INDEX_FILE": str(index)}
    found = await offload.gathered(
        {
            "changed": partial(raw_git.run, raw, index, "diff-files", "--name-only", "-z"),
            "staged": partial(git.run, root, "ls-files", "-z", "--stage", env=user),
            "others": partial(git.run, root, *_OTHERS, env=user),
            "ignored": partial(git.run, root, *_IGNORED, env=user),
            "new": partial(git.run, root, *_OTHERS, env=ours),
            "new_ignored": partial(git.run, root, *_IGNORED, env=ours),
        }
    )
    split = {name: git.nul_split(listing) for name, listing in found.items() if name != "staged"}
    return _Listed(
        split["changed"], found["staged"], split["others"], split["ignored"], split["new"], split["new_ignored"]
    )


async def _inside(raw: raw_git.RawGit, index: Path, ignored_dirs: frozenset[str], new_ignored: list[str]) -> list[str]:
    """The previous baseline's files inside a directory now ignored as a whole (it holds no file of the user's
    index), which a full listing would not protect: git does not collapse a directory that ``index`` holds files
    of, so only those directories are asked about."""
    collapsed = frozenset(p.rstrip("/") for p in new_ignored if p.endswith("/"))
    held = sorted(ignored_dirs - collapsed)
    if not held:
        return []
    return git.nul_split(await raw_git.run(raw, index, "ls-files", "-z", "--", *(f"{d}/" for d in held)))


def _examined(
    root: Path, listed: _Listed, ignored_dirs: frozenset[str], inside: list[str]
) -> tuple[dict[str, Entry], dict[str, SkipReason], set[str], set[str]]:
    """``lstat`` what changed and what is new: the entries to read, what is left out, the protected ignored files,
    and the previous baseline's ignored files no longer protected (past the size limits).

    Every ignored file is weighed against the limits, as a full listing does, but one the previous baseline holds
    is read again only if it changed. An ignored file the user's index tracks is protected like any tracked file.
    """
    ignored = [path for path in listed.ignored if not path.endswith("/")]
    new_ignored = frozenset(path for path in listed.new_ignored if not path.endswith("/"))
    held_ignored = frozenset(ignored) - new_ignored
    tracked_ignored = [p for p in new_ignored - frozenset(ignored) if not under(p, ignored_dirs)]
    changed, left_out = frozenset(listed.changed), frozenset(inside)
    paths = [p for p in dict.fromkeys([*listed.changed, *listed.new, *tracked_ignored]) if p not in left_out]
    listing = Listing(paths=[p for p in paths if p not in held_ignored], ignored=ignored)
    entries, skipped, kept = snapshot.examine(root, listing, None, None)
    read = {p: e for p, e in entries.items() if p not in held_ignored or p in changed}
    return read, skipped, kept, set(held_ignored - kept)


class _Update(NamedTuple):
    """What changes in the kept index: the entries read (their permission bits known, their blob ids not yet), what
    is left out (the unreadable files join it), the paths no longer protected, and when the listing began."""

    read: dict[str, Entry]
    skipped: dict[str, SkipReason]
    gone: list[str]
    taken_ns: int


async def _written(raw: raw_git.RawGit, index: Path, update: _Update) -> str:
    """Bring the entries of ``index`` up to date, and write the worktree's tree from it.

    Git reads the settled files itself (`snapshot.settled`, raw, through ``raw``) and records their ``lstat`` data,
    while the others are hashed apart and written by blob id without it, to be read again next time. A settled file
    whose ``lstat`` changed meanwhile loses its ``lstat`` data too, so that the bits read before are never trusted
    beside a later change.
    """
    read, zero = update.read, "0" * raw.id_length
    settled: list[str] = []
    unsettled: list[str] = []
    for path, entry in read.items():
        (settled if snapshot.settled(entry.signature, update.taken_ns) else unsettled).append(path)
    if update.gone:
        await raw_git.run(raw, index, "update-index", "-z", "--index-info", stdin=_index_info(update.gone, [], zero))
    hashed: list[snapshot.Hashed] = []

    async def add() -> None:
        if not settled:
            return
        try:
            await raw_git.run(raw, index, "update-index", "--add", "--replace", "-z", "--stdin", stdin=_paths(settled))
        except GitError:  # a file git may not read: hashed apart below, which names it
            hashed.append(await snapshot.hash_entries(raw.root, read, settled, write=True))
            settled.clear()

    async def hash_unsettled() -> None:
        hashed.append(await snapshot.hash_entries(raw.root, read, unsettled, write=True))

    await offload.concurrently(add, hash_unsettled)
    for each in hashed:
        await offload.in_thread(snapshot.settle, read, update.skipped, each)
    moved = await offload.in_thread(_moved, raw.root, read, settled)
    written = [(path, f"{read[path].git_mode} {read[path].sha}") for each in hashed for path in each.paths]
    if moved:
        listed = await raw_git.run(raw, index, "ls-files", "-z", "--stage", "--", *moved)
        written += [
            (path, meta.rsplit(" ", 1)[0]) for meta, _, path in (r.partition("\t") for r in git.nul_split(listed))
        ]
    unreadable = sorted(path for each in hashed for path in each.unreadable)
    if written or unreadable:
        data = _index_info(unreadable, written, zero)
        await raw_git.run(raw, index, "update-index", "-z", "--index-info", stdin=data)
    return await raw_git.tree(raw, index)


def _index_info(gone: list[str], written: list[tuple[str, str]], zero: str) -> bytes:
    """``update-index -z --index-info`` lines: ``gone`` removed first, then each ``(path, "mode blob")`` written
    without ``lstat`` data."""
    removed = "".join(f"0 {zero}\t{path}\0" for path in gone)
    return os.fsencode(removed + "".join(f"{line}\t{path}\0" for path, line in sorted(written)))


def _paths(paths: list[str]) -> bytes:
    """``paths`` as ``--stdin -z`` reads them."""
    return b"".join(os.fsencode(path) + b"\0" for path in paths)


def _moved(root: Path, read: dict[str, Entry], paths: list[str]) -> list[str]:
    """The files among ``paths`` whose ``lstat`` is no longer the one read (or that are gone)."""
    top = os.fspath(root)
    moved: list[str] = []
    for path in paths:
        try:
            now = snapshot.lstat_signature(os.lstat(f"{top}/{path}"))
        except OSError:
            now = None
        if now != read[path].signature:
            moved.append(path)
    return moved
