"""What is on disk in a worktree, byte for byte and mode for mode, whatever git's config says.

A `Snapshot` lists every file the server protects: tracked files, untracked
files that are not ignored, the user's ignored *files* up to a size limit, and
the files of nested repositories and submodules (listed by their own git, named
by their path from the top). Each entry holds the exact permission bits and the
id of a blob made from the file's raw bytes (``git hash-object --no-filters``),
so no line-ending conversion, clean filter or ``.gitattributes`` rule changes
what is recorded. What is not protected (ignored directories, large ignored
files, special files) is named with the reason, so nobody is told that a change
there did not happen.

The listing, the ``lstat`` of every path and the hashing run in worker threads
and git processes, never on the event loop. A snapshot taken against an earlier
one re-reads only the files whose ``lstat`` signature changed, or that changed
too close to the earlier snapshot for the signature to be trusted. A snapshot
for a baseline also takes the blob id of each tracked file the user's index
proves to hold the file's raw bytes (`staged_stat`), as ``git add`` trusts its
stat cache, so a first baseline reads only what git would read.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import offload
from ..core.errors import GitError
from ..core.paths import under
from . import rawhash, staged_stat
from .listing import Listing, SkipReason, list_into
from .location import Worktree
from .raw_git import RawGit

MAX_IGNORED_FILE_BYTES = 8 * 1024 * 1024
"""The largest ignored file a baseline protects; larger ones are listed as not protected."""
MAX_IGNORED_TOTAL_BYTES = 256 * 1024 * 1024
"""All protected ignored files together stay below this; the rest are listed as not protected."""
RACY_NS = 2_000_000_000
"""A file changed less than this before a listing began is read again next time, whatever its ``lstat`` says."""


class Entry(NamedTuple):
    """One protected path: a regular file (exact permission bits) or a symbolic link, and its blob.

    A named tuple, not a dataclass: a snapshot makes one for every file of the worktree.
    """

    sha: str
    perm: int
    link: bool
    signature: Signature = (0, 0, 0, 0)

    @property
    def git_mode(self) -> str:
        """The mode git trees can hold for this entry."""
        if self.link:
            return "120000"
        return "100755" if self.perm & 0o100 else "100644"


@dataclass(frozen=True)
class Snapshot:
    """The protected paths of a worktree and what was left out, with the time the listing began."""

    entries: dict[str, Entry]
    ignored: frozenset[str]
    skipped: dict[str, SkipReason]
    taken_ns: int = field(default_factory=time.time_ns)
    staged: str | None = None
    """The `gitstate.staged_digest` of the top repository's index as the listing read it; None if not read."""


async def take(
    worktree: Worktree,
    *,
    write: bool,
    earlier: Snapshot | None = None,
    reuse: Snapshot | None = None,
    index: Path | None = None,
    raw: RawGit | None = None,
) -> Snapshot:
    """Snapshot the worktree.

    Args:
        write: store the blobs in the repository (for a baseline); a comparison only needs their ids.
        earlier: the baseline to compare with. Its unchanged, trusted entries are reused instead of
            read again, and what is ignored is decided by it, not by the ignore rules now: exactly
            its protected ignored files are looked at, and what it left out stays out.
        reuse: an earlier snapshot whose trusted blob ids are reused, and nothing else (the previous
            baseline, when a new one is taken).
        index: the index file the top repository's listing and the proof of raw blob ids read (a baseline's copy
            of the user's, so that both read the same entries). When there is no earlier snapshot to reuse, the
            blob ids git's stat cache proves are not read again (`_first`), git judging them through ``raw``, the
            server's own git directory (`raw_git`).
    """
    root = worktree.root
    taken = time.time_ns()
    listing = Listing(indexed={} if index else None)
    if earlier is None and reuse is None and index is not None and raw is not None:
        entries, skipped, ignored = await _first(worktree, listing, index, raw, write)
    else:
        await list_into(root, "", listing, 0, ignored_too=earlier is None, index=index)
        entries, skipped, ignored = await offload.in_thread(examine, root, listing, earlier, earlier or reuse)
    fresh = [path for path, entry in entries.items() if not entry.sha]
    await offload.in_thread(settle, entries, skipped, await hash_entries(root, entries, fresh, write))
    kept = frozenset(p for p in ignored if p in entries)
    return Snapshot(entries, kept, skipped, taken, listing.staged)


async def _first(
    worktree: Worktree, listing: Listing, index: Path, raw: RawGit, write: bool
) -> tuple[dict[str, Entry], dict[str, SkipReason], set[str]]:
    """The entries of a snapshot with nothing of its own to reuse, the blob ids of the files ``index`` proves filled.

    The steps that need nothing of each other run at once, as git processes and a thread: git judges the stat
    cache of ``index`` through ``raw`` (`staged_stat`) while the files are listed; the files outside the index
    (untracked, ignored, in nested repositories) are then ``lstat``-ed first and hashed by git while the tracked
    ones are ``lstat``-ed and git's proof of their blob ids checked. (The tracked files are not hashed meanwhile: most
    are proven, and which are not is known only at the end.)
    """
    root = worktree.root
    judged = anyio.Event()
    judgement: list[staged_stat.Judged | None] = []
    outside: list[tuple[dict[str, Entry], dict[str, SkipReason], set[str]]] = []
    tracked: list[tuple[dict[str, Entry], dict[str, SkipReason]]] = []
    hashed: list[Hashed] = []

    async def judge() -> None:
        judgement.append(await staged_stat.judged(raw, index))
        judged.set()

    async def check_tracked(paths: list[str]) -> None:
        found, special, _ = await offload.in_thread(examine, root, Listing(paths=paths), None, None)
        await judged.wait()
        every = {**found, **outside[0][0]}  # the proof reads the untracked attributes files too
        proven = await staged_stat.proven(worktree, every, listing.indexed or {}, judgement[0])
        await offload.in_thread(_fill, every, list(proven), list(proven.values()))
        tracked.append((every, special))

    async def list_and_examine() -> None:
        await list_into(root, "", listing, 0, ignored_too=True, index=index)
        indexed = listing.indexed or {}
        inside = [path for path in listing.paths if path in indexed]
        others = Listing([p for p in listing.paths if p not in indexed], listing.ignored, listing.skipped)
        outside.append(await offload.in_thread(examine, root, others, None, None))

        async def hash_outside() -> None:
            hashed.append(await hash_entries(root, outside[0][0], list(outside[0][0]), write))

        await offload.concurrently(hash_outside, partial(check_tracked, inside))

    await offload.concurrently(judge, list_and_examine)
    (_, skipped, ignored), (every, special) = outside[0], tracked[0]
    await offload.in_thread(settle, every, skipped, hashed[0])
    return every, {**special, **skipped}, ignored


class Hashed(NamedTuple):
    """Blob ids read for some entries, and the files among them this process may not read."""

    paths: list[str]
    shas: list[str]
    unreadable: set[str]


async def hash_entries(root: Path, entries: dict[str, Entry], paths: list[str], write: bool) -> Hashed:
    """Read the blob ids of ``paths``, leaving out (and naming) the files this process may not read; ``entries`` is
    only read, so that it can be checked meanwhile."""
    try:
        return Hashed(paths, await rawhash.blob_ids(root, _hashed(entries, paths), write), set())
    except GitError:
        files = [path for path in paths if not entries[path].link]
        unreadable = await anyio.to_thread.run_sync(_unreadable, root, files)
        if not unreadable:
            raise
    readable = [path for path in paths if path not in unreadable]
    return Hashed(readable, await rawhash.blob_ids(root, _hashed(entries, readable), write), unreadable)


def settle(entries: dict[str, Entry], skipped: dict[str, SkipReason], hashed: Hashed) -> None:
    """Give the hashed entries their blob ids, and move the unreadable ones to ``skipped``."""
    for path in hashed.unreadable:
        del entries[path]
        skipped[path] = "unreadable"
    _fill(entries, hashed.paths, hashed.shas)


def examine(
    root: Path, listing: Listing, earlier: Snapshot | None, trusted: Snapshot | None
) -> tuple[dict[str, Entry], dict[str, SkipReason], set[str]]:
    """``lstat`` what the listing found and make an entry of each file, its blob id known when trusted."""
    excluded = frozenset(earlier.skipped if earlier else ())
    kept = [p for p in earlier.ignored if not under(p, excluded)] if earlier else listing.ignored
    candidates = [*listing.paths, *kept]
    stats = _lstat_all(root, [p for p in candidates if not under(p, excluded)] if excluded else candidates)
    skipped: dict[str, SkipReason] = {p: r for p, r in listing.skipped.items() if not under(p, excluded)}
    ignored = set(kept)
    if earlier is None:
        _limit_ignored(stats, ignored, skipped)
    entries: dict[str, Entry] = {}
    known = trusted.entries if trusted else {}
    settled_before = (trusted.taken_ns if trusted else 0) - RACY_NS
    for path, info in stats.items():
        if isinstance(info, str):
            skipped[path] = "not_a_file" if info == "special" else "unreadable"
            continue
        link = stat.S_ISLNK(info.st_mode)
        signature = lstat_signature(info)
        previous = known.get(path)
        same = previous is not None and previous.signature == signature and previous.link == link
        sha = previous.sha if same and previous and signature[1] < settled_before else ""
        entries[path] = Entry(sha, 0 if link else stat.S_IMODE(info.st_mode), link, signature)
    return entries, skipped, ignored


def _lstat_all(root: Path, paths: list[str]) -> dict[str, os.stat_result | str]:
    """``lstat`` each path: its result, ``"special"`` for what is neither file nor link, or drop it if absent."""
    found: dict[str, os.stat_result | str] = {}
    top = os.fspath(root)
    for path in paths:
        try:
            info = os.lstat(f"{top}/{path}")
        except FileNotFoundError:
            continue
        except OSError:
            found[path] = "unreadable"
            continue
        if stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode):
            found[path] = info
        elif not stat.S_ISDIR(info.st_mode):
            found[path] = "special"
    return found


def _hashed(entries: dict[str, Entry], paths: list[str]) -> list[tuple[str, bool, int]]:
    """What `rawhash.blob_ids` needs to know of each of ``paths``: the path, whether it is a link, its size."""
    return [(path, entries[path].link, entries[path].signature[0]) for path in paths]


def _fill(entries: dict[str, Entry], paths: list[str], shas: list[str]) -> None:
    """Give each newly read entry its blob id (made whole, not by `_replace`, which costs twice as much)."""
    for path, sha in zip(paths, shas, strict=True):
        _, perm, link, signature = entries[path]
        entries[path] = Entry(sha, perm, link, signature)


def _unreadable(root: Path, paths: list[str]) -> set[str]:
    """The files among ``paths`` this process may not read (git then refuses to hash any of them)."""
    found: set[str] = set()
    for path in paths:
        try:
            with (root / path).open("rb"):
                pass
        except OSError:
            found.add(path)
    return found


def _limit_ignored(stats: dict[str, os.stat_result | str], ignored: set[str], skipped: dict[str, SkipReason]) -> None:
    """Leave out ignored files past the size limits, smallest kept first, and say so."""
    total = 0
    sized = sorted((info.st_size, p) for p, info in stats.items() if p in ignored and not isinstance(info, str))
    for size, path in sized:
        total += size
        if size > MAX_IGNORED_FILE_BYTES or total > MAX_IGNORED_TOTAL_BYTES:
            del stats[path]
            ignored.discard(path)
            skipped[path] = "too_large"


Signature = tuple[int, int, int, int]
"""A file's size, modification and change times and inode: equal signatures mean unchanged bytes, as git's
stat cache trusts them. Size and inode are cut to their low 32 bits, as a git index keeps them (`stat_index`)."""
_LOW_32 = 0xFFFFFFFF


def lstat_signature(info: os.stat_result) -> Signature:
    """The signature of what ``lstat`` gave: the one shape every part compares."""
    return (info.st_size & _LOW_32, info.st_mtime_ns, info.st_ctime_ns, info.st_ino & _LOW_32)


def settled(signature: Signature, taken_ns: int) -> bool:
    """Whether the ``lstat`` data of a file listed at ``taken_ns`` may be trusted next time: its bytes and its mode
    last changed at least `RACY_NS` before, so any later change shows even in whole seconds, which is all some
    builds of git compare (a change in the same second as the one recorded, to the same size, would not)."""
    return signature[1] < taken_ns - RACY_NS and signature[2] < taken_ns - RACY_NS
