"""Raw blob ids: the hashing is shared out between git processes by bytes, and the ids come back in order."""

from __future__ import annotations

import os
import subprocess
from itertools import pairwise
from pathlib import Path

import anyio
import pytest

from codex_subagents.worktree import rawhash
from unit.repos import git

MB = 2**20


def test_one_large_file_gets_a_share_of_its_own_beside_many_small_ones() -> None:
    """A binary as large as two thousand small files together is hashed by one process while another hashes them."""
    assert rawhash.shares([4096] * 2000 + [24 * MB], 2) == [0, 2000, 2001]
    assert rawhash.shares([24 * MB] + [4096] * 2000, 2) == [0, 1, 2001]


def test_little_work_stays_in_one_git_process() -> None:
    """Starting a second git process costs more than it saves for a few megabytes."""
    assert rawhash.shares([4096] * 300, 8) == [0, 300]
    assert rawhash.shares([], 2) == [0, 0]


def test_never_more_shares_than_cores_nor_an_empty_one() -> None:
    """Every share holds at least one file, whatever the sizes, and the shares cover every file once."""
    for sizes in ([64 * MB, 1, 1], [1, 1, 64 * MB], [64 * MB] * 3, [64 * MB, 64 * MB]):
        for cores in (1, 2, 3, 8):
            cuts = rawhash.shares(sizes, cores)
            assert cuts[0] == 0 and cuts[-1] == len(sizes)
            assert len(cuts) - 1 <= cores
            assert all(low < high for low, high in pairwise(cuts))


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two cores for two shares")
def test_the_ids_of_two_shares_come_back_in_the_order_of_the_paths(tmp_path: Path) -> None:
    """Files hashed by two git processes (a large one alone) get the ids git gives each, a link its target's."""
    git(tmp_path, "init", "-q")
    (tmp_path / "big.bin").write_bytes(os.urandom(20 * MB))
    for number in range(3):
        (tmp_path / f"f{number}.txt").write_bytes(b"line %d\r\n" % number)
    (tmp_path / "link").symlink_to("f0.txt")
    items = [("big.bin", False, 20 * MB), *((f"f{n}.txt", False, 8) for n in range(3)), ("link", True, 6)]
    assert rawhash.shares([size for _, _, size in items], 2) == [0, 1, 5]

    ids = anyio.run(rawhash.blob_ids, tmp_path, items, False)

    expected = git(tmp_path, "hash-object", "--no-filters", "big.bin", "f0.txt", "f1.txt", "f2.txt").split()
    hashing = ["git", "hash-object", "--stdin"]
    target = subprocess.run(hashing, cwd=tmp_path, input=b"f0.txt", capture_output=True, check=True).stdout.decode()
    assert ids == [*expected, target.strip()]
