"""The index kept beside a baseline: git reads it as its own, what is saved reads back, and a damaged file is absent."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from codex_subagents.worktree import stat_index
from codex_subagents.worktree.snapshot import RACY_NS, Entry, Snapshot, lstat_signature
from unit.repos import git

SETTLED = 1_700_000_000_123_456_789
ENTRIES = {
    "src/app.py": Entry("a" * 40, 0o644, False, (120, SETTLED, SETTLED + 100, 42)),
    "bin/run": Entry("b" * 40, 0o755, False, (7, SETTLED - 5, SETTLED - 3, 2**32 - 1)),
    "link": Entry("c" * 40, 0, True, (9, SETTLED + 4, SETTLED + 5, 6)),
    os.fsdecode(b"caf\xe9 \n.txt"): Entry("d" * 40, 0o644, False, (0, SETTLED, SETTLED, 2)),
    "a" * 5000: Entry("e" * 40, 0o644, False, (1, SETTLED, SETTLED, 3)),
}


def saved(path: Path, entries: dict[str, Entry], taken_ns: int = SETTLED + 10 * RACY_NS) -> None:
    stat_index.save(path, Snapshot(entries=entries, ignored=frozenset(), skipped={}, taken_ns=taken_ns), device=0)


def test_saved_entries_read_back_whatever_their_names(tmp_path: Path) -> None:
    """Blob ids, git's permission bits, the link flag and every signature field come back, for a non-UTF-8 name, a
    name longer than git's 12-bit length field and the largest inode an index holds."""
    path = tmp_path / "cache" / "b-1.index"
    saved(path, ENTRIES)
    kept = stat_index.load(path)
    assert kept is not None and kept.entries == ENTRIES


def test_a_file_changed_too_close_to_the_listing_is_kept_without_its_lstat_data(tmp_path: Path) -> None:
    """Only a file settled two seconds before its listing began keeps a signature; the others read as never seen."""
    path = tmp_path / "b-1.index"
    saved(path, ENTRIES, taken_ns=SETTLED + RACY_NS)
    kept = stat_index.load(path)
    assert kept is not None
    assert kept.entries["bin/run"].signature == ENTRIES["bin/run"].signature
    assert kept.entries["src/app.py"].signature == (0, 0, 0, 0)
    assert kept.entries["link"].signature == (0, 0, 0, 0)


def test_git_reads_the_kept_index_and_finds_only_the_changed_file_changed(tmp_path: Path) -> None:
    """A saved index is a git index: git lists its entries and its stat data matches the files, so git's own
    comparison names the file written since, and not the one left alone."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for name in ("kept.txt", "edited.txt"):
        (repo / name).write_text(f"{name}\n")
        settled = time.time_ns() - 10 * RACY_NS
        os.utime(repo / name, ns=(settled, settled))
    shas = git(repo, "hash-object", "kept.txt", "edited.txt").split()
    entries = {
        name: Entry(sha, 0o644, False, lstat_signature((repo / name).lstat()))
        for name, sha in zip(("kept.txt", "edited.txt"), shas, strict=True)
    }
    path = tmp_path / "b-1.index"
    # listed as if later, so that both files count as settled; the edit changes the size, which git sees at once
    later = time.time_ns() + 10 * RACY_NS
    stat_index.save(path, Snapshot(entries, frozenset(), {}, taken_ns=later), device=repo.stat().st_dev)
    (repo / "edited.txt").write_text("edited later\n")
    index = f"--index-file={path}"
    assert git_at(repo, index, "ls-files", "--stage").splitlines() == [
        f"100644 {shas[1]} 0\tedited.txt",
        f"100644 {shas[0]} 0\tkept.txt",
    ]
    assert git_at(repo, index, "diff-files", "--name-only").split() == ["edited.txt"]


def git_at(repo: Path, index: str, *args: str) -> str:
    """Run git in ``repo`` reading the index file named by ``index`` (``--index-file=<path>``)."""
    path = index.removeprefix("--index-file=")
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, env={**os.environ, "GIT_INDEX_FILE": path}
    )
    return done.stdout


def torn(data: bytes) -> bytes:
    return data[: len(data) // 2]


def longer(data: bytes) -> bytes:
    return data[:-20] + b"\0" + data[-20:]


def a_count_off_by_one(data: bytes) -> bytes:
    return data[:8] + (int.from_bytes(data[8:12], "big") + 1).to_bytes(4, "big") + data[12:]


def of_version_four(data: bytes) -> bytes:
    return data[:4] + (4).to_bytes(4, "big") + data[8:]


def of_the_columns_format(data: bytes) -> bytes:
    return b"codex-subagents signatures 2 little\n1 0 10 40\nsrc/app.py" + b"a" * 40


def emptied(data: bytes) -> bytes:
    return b""


@pytest.mark.parametrize("damage", [torn, longer, a_count_off_by_one, of_version_four, of_the_columns_format, emptied])
def test_a_damaged_missing_or_older_cache_reads_as_absent(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    """The kept index is only a cache: a file cut short, garbled, of another version or written by an earlier
    release, or none at all, is None, never an error."""
    path = tmp_path / "b-1.index"
    assert stat_index.load(path) is None
    saved(path, ENTRIES)
    data = path.read_bytes()
    assert damage(data) != data
    path.write_bytes(damage(data))
    assert stat_index.load(path) is None
