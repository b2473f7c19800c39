"""Blob ids of the raw bytes of files and of the targets of links, whatever git's config says.

``git hash-object --no-filters`` reads each file as it is on disk, so no
line-ending conversion, clean filter or ``.gitattributes`` rule changes what is
recorded; a link is hashed as git stores it, its target's bytes. The paths are
shared out between one git process per core.
"""

from __future__ import annotations

import os
import tempfile
from functools import partial
from pathlib import Path

import anyio

from ..core import git, offload
from ..core.errors import GitError
from ..core.paths import git_quoted

_HASH_BATCH = 2000


async def blob_ids(root: Path, items: list[tuple[str, bool]], write: bool) -> list[str]:
    """Blob ids of the raw bytes of files and of the targets of links, in order, one git process per core."""
    if not items:
        return []
    with tempfile.TemporaryDirectory(prefix="codex-subagents-links-") as scratch:
        names = await anyio.to_thread.run_sync(_stand_ins, root, items, Path(scratch))
        share = max(_HASH_BATCH, -(-len(names) // (os.cpu_count() or 1)))
        parts: list[bytes] = [b""] * -(-len(names) // share)
        args = ["hash-object", "--no-filters", *(["-w"] if write else []), "--stdin-paths"]

        async def one(number: int) -> None:
            parts[number] = await git.run(root, *args, stdin=b"".join(names[number * share : (number + 1) * share]))

        await offload.concurrently(*(partial(one, number) for number in range(len(parts))))
    shas = b"".join(parts).decode().split()
    if len(shas) != len(items):
        raise GitError(f"git hash-object gave {len(shas)} ids for {len(items)} paths in {str(root)!r}.")
    return shas


def _stand_ins(root: Path, items: list[tuple[str, bool]], scratch: Path) -> list[bytes]:
    """The ``--stdin-paths`` lines: each file itself, and for each link a scratch file holding its target.

    A name is C-quoted when a newline or a leading quote would mislead git.
    """
    lines: list[bytes] = []
    for number, (path, link) in enumerate(items):
        if link:
            target = scratch / str(number)
            target.write_bytes(os.fsencode(os.readlink(root / path)))
            path = str(target)
        lines.append(os.fsencode(git_quoted(path) if "\n" in path or path.startswith('"') else path) + b"\n")
    return lines
