"""The blob ids of raw bytes that the user's index already proves, so a baseline need not read those files.

Git keeps, beside each index entry's blob id, the ``lstat`` of the file when it
was hashed, and trusts the id while the file's ``lstat`` still matches: that
stat cache is why ``git add --all`` on a large tree reads only what changed. A
baseline records raw bytes, so it trusts an entry's id only where git's blob
*is* the raw bytes and git's trust is sound: a stage-0 entry of the same type
as the file on disk, whose size, mtime, ctime and inode match the file's
``lstat`` (an intent-to-add entry keeps no ``lstat``); that is not racily
clean (its mtime is older than the index file's, in whole seconds, which is
stricter than git); and on whose way into git nothing converts bytes: no
``text``, ``eol``, ``crlf``, ``filter``, ``ident`` or ``working-tree-encoding``
attribute applies to it, and ``core.autocrlf`` is off; and that was last
written after every attributes file (``.gitattributes``, ``info/attributes``,
the user's own: ``core.attributesFile`` or git's default) was, so that no rule that converted it when it was
staged can have been removed since. Every other file is hashed, as is every
file when the index cannot be read or is of an unknown version, or lists a
``.gitattributes`` missing on disk; a split index proves only the entries of its
own file. What stays trusted as git trusts it: ``core.autocrlf`` turned off
after a file was staged with it on, the file untouched since.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from ..core import git, offload
from .location import Worktree

_CONVERTING = frozenset({"text", "eol", "crlf", "filter", "ident", "working-tree-encoding"})
_HEADER = struct.Struct(">4sII")
_STAT = struct.Struct(">10I")
_EXTENDED = 0x4000
_STAGE = 0x3000
_NAME_MASK = 0x0FFF
_LOW = 0xFFFFFFFF


class _Cached(NamedTuple):
    """What the index keeps of one entry: its name as stored, blob id, and what a snapshot compares it with."""

    name: bytes
    sha: str
    seen: tuple[bool, tuple[int, int, int, int]] | None
    """Whether it is a link, and its size, mtime and ctime in ns, and inode; None for what is neither file nor link."""


Seen = tuple[str, int, bool, tuple[int, int, int, int]]
"""A snapshot's entry: its blob id (empty until known), permission bits, link flag, and ``lstat`` signature
(size, mtime and ctime in ns, inode)."""


async def proven(worktree: Worktree, entries: Mapping[str, Seen], index: Path | None = None) -> dict[str, str]:
    """The raw blob ids the user's index (or ``index``, a copy of it) proves for the entries without one (paths
    from the worktree's top).

    Files the index does not prove are left out; the caller hashes them.
    """
    root = worktree.root
    if all(entry[0] for entry in entries.values()) or await _converts_line_endings(root):
        return {}
    fmt = await git.text(root, "rev-parse", "--show-object-format")
    rules = [worktree.shared_git_dir / "info" / "attributes", await _global_attributes(root)]
    found = await offload.in_thread(_matching, index or worktree.index, 32 if fmt == "sha256" else 20, entries, rules)
    if not found:
        return {}
    listing = b"".join(entry.name + b"\0" for entry in found.values())
    answer = (await git.run(root, "check-attr", "--stdin", "-z", "--all", stdin=listing)).split(b"\0")
    for path, name in zip(answer[0:-1:3], answer[1::3], strict=False):
        if os.fsdecode(name) in _CONVERTING:
            found.pop(os.fsdecode(path), None)
    return {path: entry.sha for path, entry in found.items()}


async def _converts_line_endings(root: Path) -> bool:
    """Whether ``core.autocrlf`` makes git convert line endings of files that no attribute names."""
    value = await git.run(root, "config", "--get", "core.autocrlf", ok=(0, 1))
    return value.strip().lower() not in (b"", b"false", b"no", b"off", b"0")


async def _global_attributes(root: Path) -> Path:
    """The user's own attributes file: ``core.attributesFile``, or git's default beside the user's git config."""
    named = await git.run(root, "config", "--type=path", "--get", "core.attributesFile", ok=(0, 1))
    if named.strip():
        return Path(os.fsdecode(named.strip()))
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path("~", ".config"), "git", "attributes")


def _rules_written_ns(entries: Mapping[str, Seen], files: list[Path]) -> int:
    """When an attributes file was last written: the worktree's ``.gitattributes`` and the other ``files``."""
    written = [entry[3][1] for path, entry in entries.items() if path.rpartition("/")[2] == ".gitattributes"]
    for path in files:
        try:
            written.append(os.lstat(path.expanduser()).st_mtime_ns)
        except OSError:
            continue
    return max(written, default=0)


def _matching(index: Path, hash_bytes: int, entries: Mapping[str, Seen], rules: list[Path]) -> dict[str, _Cached]:
    """The index's entries whose ``lstat`` is the file's now, of the file's type, for entries with no blob id yet,
    written after every attributes file.

    The index keeps the low 32 bits of size and inode, so those of the file are compared.
    """
    found: dict[str, _Cached] = {}
    cached_entries = _read(index, hash_bytes)
    if any(path.rpartition("/")[2] == ".gitattributes" and path not in entries for path in cached_entries):
        return {}  # a rule file removed from disk may have converted what the index holds
    rules_ns = _rules_written_ns(entries, rules)
    for path, cached in cached_entries.items():
        entry = entries.get(path)
        if entry is None or entry[0] or cached.seen is None:
            continue
        size, mtime_ns, ctime_ns, ino = entry[3]
        if mtime_ns > rules_ns and (entry[2], (size & _LOW, mtime_ns, ctime_ns, ino & _LOW)) == cached.seen:
            found[path] = cached
    return found


def _read(path: Path, hash_bytes: int) -> dict[str, _Cached]:
    """The index's trusted stage-0 entries by path; empty when it is missing or of a kind not read here."""
    try:
        with path.open("rb") as stream:
            written_s = os.fstat(stream.fileno()).st_mtime_ns // 10**9
            data = stream.read()
    except OSError:
        return {}
    try:
        signature, version, count = _HEADER.unpack_from(data)
        if signature != b"DIRC" or version not in (2, 3, 4):
            return {}
        return _entries(data, version, count, hash_bytes, written_s)
    except (struct.error, IndexError, UnicodeDecodeError, ValueError):
        return {}


def _entries(data: bytes, version: int, count: int, hash_bytes: int, written_s: int) -> dict[str, _Cached]:
    """Parse ``count`` entries from after the header; return the stage-0 ones that are not racily clean."""
    found: dict[str, _Cached] = {}
    offset, name = _HEADER.size, b""
    for _ in range(count):
        ctime_s, ctime_ns, mtime_s, mtime_ns, _dev, ino, mode, _uid, _gid, size = _STAT.unpack_from(data, offset)
        at = offset + _STAT.size
        sha = data[at : at + hash_bytes].hex()
        (flags,) = struct.unpack_from(">H", data, at + hash_bytes)
        at += hash_bytes + 2
        if flags & _EXTENDED:
            at += 2
        if version == 4:
            strip, at = _varint(data, at)
            close = data.index(b"\0", at)
            name = name[: len(name) - strip] + data[at:close]
            offset = close + 1
        else:
            length = flags & _NAME_MASK
            close = at + length if length < _NAME_MASK else data.index(b"\0", at)
            name = data[at:close]
            offset += (close - offset + 8) & ~7
        if not flags & _STAGE and mtime_s < written_s:
            kind = stat.S_IFMT(mode)
            times = (mtime_s * 10**9 + mtime_ns, ctime_s * 10**9 + ctime_ns)
            seen = (kind == stat.S_IFLNK, (size, *times, ino)) if kind in (stat.S_IFREG, stat.S_IFLNK) else None
            found[os.fsdecode(name)] = _Cached(name, sha, seen)
    return found


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """Git's offset varint (index version 4's prefix length) at ``at``: its value and the offset after it."""
    byte = data[at]
    value = byte & 0x7F
    while byte & 0x80:
        at += 1
        byte = data[at]
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, at + 1
