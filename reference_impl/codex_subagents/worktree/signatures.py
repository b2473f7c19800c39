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
    """Read back what `save` wrote, or None when the file is missing or torn.

    The numbers of all entries are converted in one pass over each column, not entry by entry:
    in a large tree, per-entry parsing was most of a comparison's reading of its baseline.
    """
    try:
        fields = path.read_bytes().split(b"\0")
    except FileNotFoundError:
        return None
    if len(fields) % 4:
        return None
    count = len(fields) // 4
    try:
        modes = list(map(int, b" ".join(fields[2::4]).split()))
        numbers = iter(map(int, b" ".join(fields[3::4]).split()))
        signatures = list(zip(numbers, numbers, numbers, numbers, strict=True))
    except ValueError:
        return None
    if len(modes) != 2 * count or len(signatures) != count:
        return None
    rows = zip(fields[0::4], fields[1::4], modes[0::2], modes[1::2], signatures, strict=True)
    return {os.fsdecode(name): Entry(sha.decode(), perm, bool(link), sig) for name, sha, perm, link, sig in rows}
