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
    os.fsdecode(b"caf\xe9 \n.txt"): Entry("d" * 40, 0o600, False, (0, 7, 8, 9)),
}


def test_saved_entries_read_back_exactly_whatever_their_names(tmp_path: Path) -> None:
    """Blob ids, permission bits, the link flag and every signature field come back, for a non-UTF-8 name too."""
    path = tmp_path / "cache" / "b-1"
    signatures.save(path, Snapshot(entries=ENTRIES, ignored=frozenset(), skipped={}))
    assert signatures.load(path) == ENTRIES


def torn(data: bytes) -> bytes:
    return data[: len(data) // 2]


def not_a_number(data: bytes) -> bytes:
    return data.replace(b"\x000 7 8 9", b"\x000 x 8 9")


def a_number_missing(data: bytes) -> bytes:
    return data.replace(b"\x00493 0\x00", b"\x00493\x00")


def emptied(data: bytes) -> bytes:
    return b""


@pytest.mark.parametrize("damage", [torn, not_a_number, a_number_missing, emptied])
def test_a_damaged_or_missing_cache_reads_as_absent(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    """The cache is only a cache: a file cut short or garbled, or none at all, is None, never an error."""
    path = tmp_path / "b-1"
    assert signatures.load(path) is None
    signatures.save(path, Snapshot(entries=ENTRIES, ignored=frozenset(), skipped={}))
    data = path.read_bytes()
    assert damage(data) != data
    path.write_bytes(damage(data))
    assert signatures.load(path) is None
