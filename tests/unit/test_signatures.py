"""The signature cache beside a baseline: what is saved reads back exactly, and a damaged file reads as absent."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_subagents.worktree import signatures
from codex_subagents.worktree.snapshot import Entry, Snapshot

ENTRIES = {
    "src/app.py": Entry("a" * 40, 0o644, False, (120, 1_700_000_000_123_456_789, 1_700_000_000_223_456_789, 42)),
    "bin/run": Entry("b" * 40, 0o755, False, (7, 1, 2, 3)),
    "link": Entry("c" * 40, 0, True, (9, 4, 5, 6)),
    os.fsdecode(b"caf\xe9 \n.txt"): Entry("d" * 40, 0o600, False, (0, 7, 8, 2**64 - 1)),
}


def test_saved_entries_read_back_exactly_whatever_their_names(tmp_path: Path) -> None:
    """Blob ids, permission bits, the link flag, every signature field and when the listing began come back, for a
    non-UTF-8 name and an inode past the signed range too."""
    path = tmp_path / "cache" / "b-1"
    signatures.save(path, Snapshot(entries=ENTRIES, ignored=frozenset(), skipped={}, taken_ns=1_700_000_000_5))
    assert signatures.load(path) == (1_700_000_000_5, ENTRIES)


def torn(data: bytes) -> bytes:
    return data[: len(data) // 2]


def longer(data: bytes) -> bytes:
    return data + b"\0"


def a_count_off_by_one(data: bytes) -> bytes:
    first, _, rest = data.partition(b"\n")
    count, _, more = rest.partition(b" ")
    return b"%s\n%d %s" % (first, int(count) + 1, more)


def not_a_number(data: bytes) -> bytes:
    first, _, rest = data.partition(b"\n")
    return first + b"\nfour" + rest[1:]


def of_the_first_format(data: bytes) -> bytes:
    return b"src/app.py\0" + b"a" * 40 + b"\0420 0\0120 1 2 42"


def emptied(data: bytes) -> bytes:
    return b""


@pytest.mark.parametrize("damage", [torn, longer, a_count_off_by_one, not_a_number, of_the_first_format, emptied])
def test_a_damaged_missing_or_older_cache_reads_as_absent(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    """The cache is only a cache: a file cut short, garbled or written by an earlier version, or none at all, is
    None, never an error."""
    path = tmp_path / "b-1"
    assert signatures.load(path) is None
    signatures.save(path, Snapshot(entries=ENTRIES, ignored=frozenset(), skipped={}))
    data = path.read_bytes()
    assert damage(data) != data
    path.write_bytes(damage(data))
    assert signatures.load(path) is None
