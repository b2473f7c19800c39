"""The files a baseline recorded, kept beside it as a git index: their raw blob ids and ``lstat`` data.

A later baseline or comparison reuses the blob id of every file whose ``lstat``
data has not changed, so it reads again only what changed. The kept file is a
git index (format version 2), so that git itself can say which files changed,
in C and in threads (`raw_git`), where Python would ``lstat`` every path; the
server also reads it back (`load`) to compare in Python.

Only settled files keep their ``lstat`` data (`snapshot.settled`): a file whose
bytes or mode changed less than two seconds before its listing began is written
with none, so that the next look reads it again whatever its ``lstat`` says, and
a later change shows even to a git that compares whole seconds. The file is a cache:
one that is missing, torn or of another format reads as absent, and the blobs
are then read from the baseline's tree instead.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
from binascii import unhexlify
from pathlib import Path
from typing import NamedTuple

from .location import Worktree
from .snapshot import Entry, Signature, Snapshot, settled

_HEADER = struct.Struct(">4sII")
_MODES = {"100644": 0o100644, "100755": 0o100755, "120000": 0o120000}
"""The modes of the entries a baseline keeps (a file, an executable file, a link), by `Entry.git_mode`."""
_U32 = 0xFFFFFFFF
_NAME_MAX = 0xFFF
_EXTENDED = 0x4000


class Kept(NamedTuple):
    """What a kept index holds: when it was written (later than its listing began), and its entries by path.

    Each entry's permission bits are git's (0o644 or 0o755; 0 for a link): the exact bits are in the baseline's
    ``meta.json``.
    """

    written_ns: int
    entries: dict[str, Entry]


SUFFIX = ".index"
"""What a kept index's name adds to its baseline's id."""


def kept_at(worktree: Worktree, baseline_id: str) -> Path:
    """Where the index of the baseline ``baseline_id`` is kept: in the worktree's own git directory, so that a
    linked worktree keeps its own."""
    return worktree.records_dir / "baselines" / f"{baseline_id}{SUFFIX}"


def newest(worktree: Worktree, baseline_ids: list[str]) -> Path | None:
    """The kept index written last among those of ``baseline_ids``; None if none of them is kept."""
    written: list[tuple[int, Path]] = []
    for baseline_id in baseline_ids:
        try:
            written.append((kept_at(worktree, baseline_id).stat().st_mtime_ns, kept_at(worktree, baseline_id)))
        except OSError:
            continue
    return max(written)[1] if written else None


def save(path: Path, shot: Snapshot, device: int) -> None:
    """Write the entries of ``shot`` to ``path`` as a git index, those changed too close to its listing unsettled.

    ``device`` is the worktree's file system (git compares it only where it is built to); the owner written is
    this process's, so that a file someone else owns is read again next time, never wrongly trusted.
    """
    uid, gid = (os.getuid(), os.getgid()) if hasattr(os, "getuid") else (0, 0)
    encoding = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())  # os.fsencode's, without a call per path
    named = sorted((path.encode(*encoding), entry) for path, entry in shot.entries.items())
    width = len(named[0][1].sha) // 2 if named else 20
    fixed = _entry_head(width)
    padding = [b"\0" * (8 - (fixed.size + length) % 8) for length in range(8)]
    parts = [_HEADER.pack(b"DIRC", 2, len(named))]
    device &= _U32
    for name, entry in named:
        sha, _, _, signature = entry
        size, mtime, ctime, inode = signature
        mode = _MODES[entry.git_mode]
        flags = min(len(name), _NAME_MAX)
        if settled(signature, shot.taken_ns) and min(mtime, ctime) >= 0:
            (ctime_s, ctime_ns), (mtime_s, mtime_ns) = divmod(ctime, 10**9), divmod(mtime, 10**9)
            stat = (ctime_s, ctime_ns, mtime_s, mtime_ns, device, inode, mode, uid, gid, size)
        else:
            stat = (0, 0, 0, 0, 0, 0, mode, 0, 0, 0)
        parts.append(fixed.pack(*stat, unhexlify(sha), flags) + name + padding[len(name) % 8])
    body = b"".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body + _digest(body, width))


def load(path: Path) -> Kept | None:
    """Read back an index `save` or git wrote, or None when it is missing, torn or not of a version read here."""
    try:
        data = path.read_bytes()
        written_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    if len(data) < _HEADER.size + 20:
        return None
    signature, version, count = _HEADER.unpack_from(data)
    width = next((w for w in (20, 32) if _digest(data[:-w], w) == data[-w:]), 0)
    if signature != b"DIRC" or version not in (2, 3) or not width:
        return None
    entries = _entries(data, count, width)
    return Kept(written_ns, entries) if entries is not None else None


def count(path: Path) -> int:
    """How many entries the index at ``path`` holds, read from its header alone."""
    with path.open("rb") as index:
        return _HEADER.unpack(index.read(_HEADER.size))[2]


def _entries(data: bytes, count: int, width: int) -> dict[str, Entry] | None:
    """The entries of an index of version 2 or 3 whose ids are ``width`` bytes; None if one is not a file's."""
    entries: dict[str, Entry] = {}
    fixed = _entry_head(width)
    encoding = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())  # os.fsdecode's
    at = _HEADER.size
    for _ in range(count):
        ctime_s, ctime_ns, mtime_s, mtime_ns, _, inode, mode, _, _, size, sha, flags = fixed.unpack_from(data, at)
        name_at = at + fixed.size + (2 if flags & _EXTENDED else 0)
        length = flags & _NAME_MAX
        end = name_at + length if length < _NAME_MAX else data.index(b"\0", name_at)
        if flags & 0x3000 or mode not in _MODES.values():
            return None
        link = mode == 0o120000
        signature: Signature = (size, mtime_s * 10**9 + mtime_ns, ctime_s * 10**9 + ctime_ns, inode)
        name = data[name_at:end].decode(*encoding)
        entries[name] = Entry(sha.hex(), 0 if link else mode & 0o777, link, signature)
        at = end + 8 - (end - at) % 8
    return entries


def _entry_head(width: int) -> struct.Struct:
    """An entry up to its name: change and modification times (seconds, nanoseconds), device, inode, mode, owner,
    group, size, the blob id of ``width`` bytes and the flags (the name's length and stage)."""
    return struct.Struct(f">10I{width}sH")


def _digest(data: bytes, width: int) -> bytes:
    """The checksum git ends an index with: SHA-1, or SHA-256 in a repository of 32-byte object ids."""
    return (hashlib.sha256 if width == 32 else hashlib.sha1)(data).digest()
