"""The files of the git directory that decide what git runs or how it reads the tree: recorded, compared, put back.

A worker outside Codex's sandbox can change what the user's next git command
runs without touching a file of the worktree: a hook, ``core.hooksPath`` or an
alias in the configuration, the attributes or excludes of ``info/``. A baseline
therefore records ``config``, ``config.worktree``, every file under ``hooks/``,
``info/attributes`` and ``info/exclude`` of the shared git directory, and a
linked worktree's own ``config.worktree``: bytes, exact permission bits, and
which are absent. Names are relative to the shared git directory. Nothing is
followed through a symlink (a link is recorded as a link, and nothing below it
is read), so a link out of the git directory is never read or written through;
what ``core.hooksPath`` points at is outside it, and the setting itself is the
change that shows. Files past `MAX_FILE_BYTES`, or past the first `MAX_FILES`,
are not read: a comparison still sees them, but a baseline refuses to start.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

import anyio
from pydantic import BaseModel, Field

from ..core import git
from ..core.errors import GitError
from ..core.paths import parents
from . import placing
from .location import Worktree

MAX_FILE_BYTES = 1024 * 1024
"""A file of the git directory larger than this is not read, and a baseline refuses to start."""
MAX_FILES = 256
"""At most this many files of the git directory are read; a baseline refuses to start past it."""
_SHARED = ("config", "config.worktree", "hooks", "info/attributes", "info/exclude")
_OWN = ("config.worktree",)


class GitFile(BaseModel):
    """One file of the git directory as it was: a digest of its bytes (or link target), its permission bits."""

    digest: str = Field(description="sha256 of the bytes or the link target; 'unread:<size>' past the limits")
    perm: int
    link: bool = False
    blob: str | None = Field(default=None, description="The blob keeping its bytes, in a baseline")


async def record(worktree: Worktree, *, keep: bool) -> dict[str, GitFile]:
    """The watched files of the worktree's git directories; ``keep`` writes their bytes as blobs."""
    found = await anyio.to_thread.run_sync(_read_all, worktree.shared_git_dir, worktree.git_dir)
    files = {name: GitFile(digest=digest, perm=perm, link=link) for name, (digest, perm, link, _) in found.items()}
    if keep:
        readable = {name: data for name, (_, _, _, data) in found.items() if data is not None}
        for name, blob in (await _write_blobs(worktree.root, readable)).items():
            files[name].blob = blob
    return files


def tree_items(files: Mapping[str, GitFile]) -> dict[str, tuple[str, str, str]]:
    """The entries a baseline's tree holds so that the recorded files' blobs stay reachable, named by blob id.

    Raises:
        GitError: for a file that was not read, being past the limits: the baseline could not put it back.
    """
    unread = sorted(name for name, file in files.items() if file.blob is None)
    if unread:
        raise GitError(
            f"The git directory holds {unread[0]!r}, larger than {MAX_FILE_BYTES} bytes or past its first "
            f"{MAX_FILES} files, which a baseline cannot protect; remove what git does not need there "
            "(hooks/ is where such files pile up), then take the baseline again."
        )
    return {f"git-{f.blob}": ("100644", "blob", str(f.blob)) for f in files.values()}


def changed(before: Mapping[str, GitFile], now: Mapping[str, GitFile]) -> dict[str, str]:
    """Each watched file that differs, sorted by name, with how: added, removed, modified or mode changed."""
    found = dict.fromkeys(now.keys() - before.keys(), "added")
    for name, was in before.items():
        new = now.get(name)
        if new is None:
            found[name] = "removed"
        elif (was.digest, was.link) != (new.digest, new.link):
            found[name] = "modified"
        elif was.perm != new.perm:
            found[name] = "mode changed"
    return dict(sorted(found.items()))


async def restore(worktree: Worktree, before: Mapping[str, GitFile]) -> None:
    """Put the watched files back as ``before``: remove those added, write the others back with their bits.

    Raises:
        GitError: when a file cannot be removed or written, naming it.
    """
    shared = worktree.shared_git_dir
    now = await record(worktree, keep=False)
    differ = changed(before, now)
    blobs = {
        name: await git.run(worktree.root, "cat-file", "blob", str(before[name].blob))
        for name, how in differ.items()
        if how != "added"
    }
    # The directories of the watched names stay, empty or not: only those a worker made below them go.
    watched = _watched(shared, worktree.git_dir)
    keep = {*watched, *(parent for name in [*before, *watched] for parent in parents(name))}
    await anyio.to_thread.run_sync(_put_back, shared, before, differ, blobs, keep)


def _put_back(
    shared: Path,
    before: Mapping[str, GitFile],
    differ: Mapping[str, str],
    blobs: Mapping[str, bytes],
    keep: set[str],
) -> None:
    """Removals first, deepest first (a link a worker put in place of a directory goes before anything is written
    below it), then each recorded file written back whole with its exact bits."""
    try:
        added = sorted((name for name, how in differ.items() if how == "added"), reverse=True)
        placing.prune(shared, [name for name in added if placing.remove(shared / name)], keep)
        for name, data in sorted(blobs.items()):
            placing.write(shared / name, data, before[name].perm, link=before[name].link)
    except OSError as exc:
        raise GitError(
            f"The git directory's file {exc.filename!r} could not be put back ({exc.strerror or exc}); "
            "fix its permissions and roll back again."
        ) from exc


def _read_all(shared: Path, own: Path) -> dict[str, tuple[str, int, bool, bytes | None]]:
    """Each watched file by name: its digest, bits, whether it is a link, and its bytes (None when not read)."""
    found: dict[str, tuple[str, int, bool, bytes | None]] = {}
    for name in _watched(shared, own):
        _read_below(shared, name, found)
    return found


def _watched(shared: Path, own: Path) -> list[str]:
    """The watched names, relative to the shared git directory: a linked worktree's own ones too."""
    own = Path(os.path.realpath(own))
    return [*_SHARED, *(Path(os.path.relpath(own / name, shared)).as_posix() for name in _OWN if own != shared)]


def _read_below(shared: Path, name: str, found: dict[str, tuple[str, int, bool, bytes | None]]) -> None:
    """Read ``name`` and, for a directory, everything below it, stopping at a link on the way and reading none."""
    parts = Path(name).parts
    for depth in range(1, len(parts) + 1):
        at = "/".join(parts[:depth])
        try:
            info = os.lstat(shared / at)
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISLNK(info.st_mode):
            target = os.fsencode(os.readlink(shared / at))
            found[at] = (hashlib.sha256(target).hexdigest(), 0, True, target)
            return
        if depth < len(parts) and not stat.S_ISDIR(info.st_mode):
            return
    info = os.lstat(shared / name)
    if stat.S_ISDIR(info.st_mode):
        for entry in sorted(os.scandir(shared / name), key=lambda e: e.name):
            _read_below(shared, f"{name}/{entry.name}", found)
        return
    perm = stat.S_IMODE(info.st_mode)
    readable = stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES and len(found) < MAX_FILES
    data = (shared / name).read_bytes() if readable else None
    digest = hashlib.sha256(data).hexdigest() if data is not None else f"unread:{info.st_mode:o}:{info.st_size}"
    found[name] = (digest, perm, False, data)


async def _write_blobs(root: Path, files: Mapping[str, bytes]) -> dict[str, str]:
    """Write ``files`` (bytes or link targets) as blobs in one git process, from copies of exactly what was read."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="codex-subagents-gitdir-") as scratch:

        def copies() -> bytes:
            for number, data in enumerate(files.values()):
                (Path(scratch) / str(number)).write_bytes(data)
            return "".join(f"{Path(scratch) / str(n)}\n" for n in range(len(files))).encode()

        paths = await anyio.to_thread.run_sync(copies)
        out = await git.run(root, "hash-object", "-w", "--no-filters", "--stdin-paths", stdin=paths)
    return dict(zip(files, out.decode().split(), strict=True))
