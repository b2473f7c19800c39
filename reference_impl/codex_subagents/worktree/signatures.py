"""The ``lstat`` signatures and blob ids a baseline recorded, kept in a file beside it in the git directory.

A later comparison or baseline reuses the blob id of every file whose signature
has not changed, so it reads again only what changed. The file is a cache: one
that is missing, torn or of another format reads as absent, and the blobs are
then read from the baseline's tree instead.

It is laid out in columns, not entry by entry, so that a tree of 100,000 files
is written and read back with a few calls over whole columns: a header line
(the entry count, when the listing began, the lengths of the columns), every
name, every blob id, then the numbers as machine integers.
"""

from __future__ import annotations

import os
import sys
from array import array
from pathlib import Path
from typing import NamedTuple

from .location import Worktree
from .snapshot import Entry, Snapshot

_FORMAT = f"codex-subagents signatures 2 {sys.byteorder}\n".encode()
"""The first line: the numbers are this machine's integers, so a file of another byte order reads as absent."""
_NUMBERS = 5
"""Permission bits, link flag, size, modification and change times: signed; the inode is a column of its own,
unsigned."""


class Kept(NamedTuple):
    """What a signatures file holds: when the recorded listing began, and its entries by path."""

    taken_ns: int
    entries: dict[str, Entry]


def kept_at(worktree: Worktree, baseline_id: str) -> Path:
    """Where the signatures of the baseline ``baseline_id`` are kept: in the worktree's own git directory, so that
    a linked worktree keeps its own."""
    return worktree.records_dir / "baselines" / baseline_id


def newest(worktree: Worktree, baseline_ids: list[str]) -> Path | None:
    """The signatures file written last among those of ``baseline_ids``; None if none of them is kept."""
    written: list[tuple[int, Path]] = []
    for baseline_id in baseline_ids:
        try:
            written.append((kept_at(worktree, baseline_id).stat().st_mtime_ns, kept_at(worktree, baseline_id)))
        except OSError:
            continue
    return max(written)[1] if written else None


def save(path: Path, shot: Snapshot) -> None:
    """Write the entries of ``shot`` and when it was taken to ``path``."""
    entries = shot.entries.values()
    names = os.fsencode("\0".join(shot.entries))
    shas = "".join(e.sha for e in entries).encode()
    numbers = array("q", [n for e in entries for n in (e.perm, e.link, *e.signature[:3])])
    inodes = array("Q", [e.signature[3] for e in entries])
    header = b"%d %d %d %d\n" % (len(shot.entries), shot.taken_ns, len(names), len(shas))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join((_FORMAT, header, names, shas, numbers.tobytes(), inodes.tobytes())))


def load(path: Path) -> Kept | None:
    """Read back what `save` wrote, or None when the file is missing, torn or not of this format."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if not data.startswith(_FORMAT):
        return None
    start = data.find(b"\n", len(_FORMAT)) + 1
    try:
        count, taken_ns, names_size, shas_size = map(int, data[len(_FORMAT) : start].split())
    except ValueError:
        return None
    numbers, inodes = array("q"), array("Q")
    ends = _ends(start, names_size, shas_size, count * _NUMBERS * numbers.itemsize, count * inodes.itemsize)
    if count <= 0 or ends[-1] != len(data) or shas_size % count:
        return None
    names = os.fsdecode(data[start : ends[0]]).split("\0")
    shas = data[ends[0] : ends[1]].decode(errors="replace")
    numbers.frombytes(data[ends[1] : ends[2]])
    inodes.frombytes(data[ends[2] : ends[3]])
    if len(names) != count:
        return None
    width = shas_size // count
    column = iter(numbers.tolist())
    rows = zip(names, range(0, shas_size, width), column, column, column, column, column, inodes.tolist(), strict=True)
    entries = {
        name: Entry(shas[at : at + width], perm, bool(link), (size, mtime, ctime, inode))
        for name, at, perm, link, size, mtime, ctime, inode in rows
    }
    return Kept(taken_ns, entries)


def _ends(start: int, *sizes: int) -> list[int]:
    """Where each column ends, the first beginning at ``start``."""
    ends: list[int] = []
    for size in sizes:
        start += size
        ends.append(start)
    return ends
