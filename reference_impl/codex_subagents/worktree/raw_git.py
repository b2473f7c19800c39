"""Git run on the worktree through a git directory of the server's own, in which every file is its raw bytes.

Git compares a file with an index entry by its ``lstat`` data, and reads it when
they differ, through the repository's attributes (line endings, clean filters,
encodings). The index a baseline keeps (`stat_index`) holds raw blob ids, so git
may compare with it only with every conversion off. A git directory made in a
scratch directory does that: its ``info/attributes``, which git reads before any
``.gitattributes`` of the worktree, unsets every conversion, its objects are the
repository's, and it has no configuration of the repository's. The settings git's
comparison depends on are fixed on each call too, whatever the user's global
configuration says: ``core.ignoreStat`` or ``core.trustctime=false`` would have
git trust files it did not look at closely enough, and ``core.symlinks=false``
would read a link as a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import git
from .location import Worktree

_ATTRIBUTES = "* -text -eol -crlf -filter -ident -working-tree-encoding\n"
_SETTINGS = {
    "core.autocrlf": "false",
    "core.trustctime": "true",
    "core.checkStat": "default",
    "core.ignoreStat": "false",
    "core.symlinks": "true",
    "core.filemode": "true",
    "core.splitIndex": "false",
    "core.untrackedCache": "false",
    "core.preloadIndex": "true",
}


class RawGit(NamedTuple):
    """A git directory of the server's own over a worktree; `run` calls git through it."""

    root: Path
    git_dir: Path
    objects: Path
    id_length: int
    """The length of an object id in hexadecimal: 40, or 64 in a repository of SHA-256 ids."""


async def made(worktree: Worktree, scratch: Path) -> RawGit:
    """Make the git directory in ``scratch`` for ``worktree``, with the object format of its repository and the
    shared part of a split index of the user's, so that a copy of that index reads there too. A baseline makes it
    once, before any of its steps runs git through it."""
    git_dir = scratch / "raw-git"
    object_format = await git.text(worktree.root, "rev-parse", "--show-object-format")

    def make() -> None:
        (git_dir / "info").mkdir(parents=True, exist_ok=True)
        (git_dir / "refs").mkdir(exist_ok=True)
        for shared in worktree.git_dir.glob("sharedindex.*"):  # a split index's shared part, looked for here
            (git_dir / shared.name).write_bytes(shared.read_bytes())
        (git_dir / "HEAD").write_text("ref: refs/heads/none\n")
        extensions = f"[extensions]\n\tobjectformat = {object_format}\n" if object_format != "sha1" else ""
        version = 1 if extensions else 0
        config = f"[core]\n\trepositoryformatversion = {version}\n\tbare = false\n{extensions}"
        (git_dir / "config").write_text(config)
        (git_dir / "info" / "attributes").write_text(_ATTRIBUTES)

    await anyio.to_thread.run_sync(make)
    return RawGit(worktree.root, git_dir, worktree.shared_git_dir / "objects", 64 if object_format == "sha256" else 40)


async def run(raw: RawGit, index: Path, *args: str, stdin: bytes | None = None, ok: Sequence[int] = (0,)) -> bytes:
    """Run ``git *args`` on the worktree through ``raw``, reading and writing the index file ``index``."""
    env = {
        "GIT_DIR": str(raw.git_dir),
        "GIT_WORK_TREE": str(raw.root),
        "GIT_OBJECT_DIRECTORY": str(raw.objects),
        "GIT_INDEX_FILE": str(index),
    }
    return await git.run(raw.root, *args, stdin=stdin, env=env, ok=ok, settings=_SETTINGS)


async def tree(raw: RawGit, index: Path) -> str:
    """The tree git writes from the index file ``index``, reusing the trees it has cached.

    Git is not asked to look up each blob again (``--missing-ok``): every entry of a baseline's index names a blob
    the repository holds, stored by this baseline, proven from the user's index, or kept from the previous baseline,
    whose ref keeps its tree; a lookup per file would cost a third of a baseline of 100,000 files.
    """
    return (await run(raw, index, "write-tree", "--missing-ok")).decode().strip()
