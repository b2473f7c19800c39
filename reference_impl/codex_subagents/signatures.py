"""The ``lstat`` signatures and blob ids a baseline recorded, kept in a file beside it in the git directory.

A later comparison or baseline reuses the blob id of every file whose signature
has not changed, so it reads again only what changed. The file is a cache: one
that is missing or torn reads as absent, and the blobs are then read from the
baseline's tree instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from .snapshot import Entry, Snapshot


def save(path: Path, shot: Snapshot) -> None:
    """Write the entries of ``shot`` to ``path``: name, blob id, mode and link flag, signature."""
    fields: list[bytes] = []
    for name, e in shot.entries.items():
        fields += [os.fsencode(name), e.sha.encode(), b"%d %d" % (e.perm, e.link), b"%d %d %d %d" % e.signature]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0".join(fields))


def load(path: Path) -> dict[str, Entry] | None:
    """Read back what `save` wrote, or None when the file is missing or torn."""
    try:
        fields = path.read_bytes().split(b"\0")
    except FileNotFoundError:
        return None
    if len(fields) % 4:
        return None
    entries: dict[str, Entry] = {}
    for at in range(0, len(fields) - 3, 4):
        perm, link = map(int, fields[at + 2].split())
        size, mtime, ctime, ino = map(int, fields[at + 3].split())
        entries[os.fsdecode(fields[at])] = Entry(fields[at + 1].decode(), perm, bool(link), (size, mtime, ctime, ino))
    return entries
