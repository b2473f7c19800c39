"""Blob ids of the raw bytes of files and of the targets of links, whatever git's config says.

``git hash-object --no-filters`` reads each file as it is on disk, so no
line-ending conversion, clean filter or ``.gitattributes`` rule changes what is
recorded; a link is hashed as git stores it, its target's bytes. The paths are
shared out between one git process per core by their bytes, not their count: a
share of many small files and one of a single large binary take as long.
"""

from __future__ import annotations

import os
import tempfile
from bisect import bisect_left
from functools import partial
from itertools import accumulate
from pathlib import Path

import anyio

from ..core import git, offload
from ..core.errors import GitError
from ..core.paths import git_quoted

_FILE_COST = 8192
"""What opening and reading one more file costs, counted as bytes read."""
_SMALLEST_SHARE = 8 * 2**20
"""Less work than this (in bytes, with `_FILE_COST` per file) is not worth a git process of its own."""


async def blob_ids(root: Path, items: list[tuple[str, bool, int]], write: bool) -> list[str]:
    """Blob ids of the raw bytes of files and of the targets of links, in order, one git process per core.

    Each item is a path, whether it is a link, and its size as ``lstat`` gave it (what shares the work out).
    """
    if not items:
        return []
    with tempfile.TemporaryDirectory(prefix="codex-subagents-links-") as scratch:
        names = await anyio.to_thread.run_sync(_stand_ins, root, items, Path(scratch))
        cuts = shares([size for _, _, size in items], os.cpu_count() or 1)
        parts: list[bytes] = [b""] * (len(cuts) - 1)
        args = ["hash-object", "--no-filters", *(["-w"] if write else []), "--stdin-paths"]

        async def one(number: int) -> None:
            parts[number] = await git.run(root, *args, stdin=b"".join(names[cuts[number] : cuts[number + 1]]))

        await offload.concurrently(*(partial(one, number) for number in range(len(parts))))
    shas = b"".join(parts).decode().split()
    if len(shas) != len(items):
        raise GitError(f"git hash-object gave {len(shas)} ids for {len(items)} paths in {str(root)!r}.")
    return shas


def shares(sizes: list[int], cores: int) -> list[int]:
    """Where to cut the files of ``sizes`` (in order) into at most ``cores`` runs of about equal work: the bounds
    of each run, from 0 to ``len(sizes)``; one run when the work is less than two `_SMALLEST_SHARE`."""
    ends = list(accumulate(size + _FILE_COST for size in sizes))
    total = ends[-1] if ends else 0
    count = max(1, min(cores, total // _SMALLEST_SHARE, len(sizes)))
    cuts = [0]
    for number in range(1, count):
        goal = total * number // count
        at = bisect_left(ends, goal)
        # before the file that crosses the goal or after it, whichever leaves the share nearer its part
        cut = at if at and goal - ends[at - 1] < ends[at] - goal else at + 1
        if cuts[-1] < cut < len(sizes):
            cuts.append(cut)
    cuts.append(len(sizes))
    return cuts


def _stand_ins(root: Path, items: list[tuple[str, bool, int]], scratch: Path) -> list[bytes]:
    """The ``--stdin-paths`` lines: each file itself, and for each link a scratch file holding its target.

    A name is C-quoted when a newline or a leading quote would mislead git.
    """
    lines: list[bytes] = []
    for number, (path, link, _) in enumerate(items):
        if link:
            target = scratch / str(number)
            target.write_bytes(os.fsencode(os.readlink(root / path)))
            path = str(target)
        lines.append(os.fsencode(git_quoted(path) if "\n" in path or path.startswith('"') else path) + b"\n")
    return lines
