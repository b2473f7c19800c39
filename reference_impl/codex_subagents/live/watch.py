"""See which paths of a worktree changed between two looks, for writes no event announces (shell commands).

A look asks git which paths differ from the index or are untracked (``git
status``, which skips ignored files, reads no file it can trust by its stat
data and, here, runs no filter program), then takes each such path's ``lstat``
signature. A path changed between two looks when its signature differs: it
appeared in git's list, left it, or was written again while already listed (a
second edit of a modified file). The first look only primes. Cheap enough to
run after every shell command a worker finishes. Submodules (as
``.gitmodules`` names them) and repositories nested untracked in the worktree
are looked into by their own ``git status``, one level deep, their paths named
from the worktree's top; ignored files are not watched (`codex_overlaps` still
compares them with the baseline).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

import anyio

from ..core import git
from ..core.errors import GitError, InputError
from ..core.paths import confined
from ..worktree.snapshot import Signature, lstat_signature

Seen = tuple[int, Signature] | None
"""A path's mode and its `lstat_signature`, so a chmod counts as a change too; None when it does not exist."""

logger = logging.getLogger(__name__)

_DRIVER_KEYS = r"^filter\..*\.(clean|smudge|process|required)$"
_STATUS = ("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules=all")


class WorktreeWatch:
    """The signatures of a worktree's changed paths at the last look."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._seen: dict[str, Seen] = {}
        self._submodules: list[str] | None = None
        self._told: set[str] = set()

    def _unwatchable(self, prefix: str, exc: GitError) -> None:
        """Say once per watch that a nested repository cannot be watched: its writes reach no live alert."""
        if prefix not in self._told:
            self._told.add(prefix)
            logger.warning(
                "the nested repository %s in %s cannot be watched (%s); its writes raise no live alert, "
                "and codex_overlaps still compares it with the baseline",
                prefix.rstrip("/"),
                self.root,
                exc,
            )

    async def prime(self) -> None:
        """Take the first look, against which the next one compares."""
        await self.changes()

    async def changes(self) -> list[str]:
        """Return the root-relative paths whose state differs from the last look, and remember this one."""
        if self._submodules is None:
            self._submodules = await _submodules(self.root)
        listed = await _listed(self.root, "")
        # git lists an untracked nested repository as its directory; what counts is what changes inside it.
        nested = [path for path in listed if path.endswith("/")] + [f"{path}/" for path in self._submodules]
        listed = [path for path in listed if not path.endswith("/")]
        for prefix in nested:
            if await anyio.to_thread.run_sync(os.path.exists, f"{self.root}/{prefix}.git"):
                try:
                    listed += await _listed(self.root, prefix)
                except GitError as exc:  # one broken nested repository leaves the others watched
                    self._unwatchable(prefix, exc)
        candidates = set(listed) | self._seen.keys()
        now = await anyio.to_thread.run_sync(_signatures, self.root, candidates)
        changed = sorted(path for path in candidates if path not in self._seen or now[path] != self._seen[path])
        self._seen = {path: now[path] for path in listed}
        return changed


async def _listed(root: Path, prefix: str) -> list[str]:
    """What ``git status`` lists in the repository at ``root / prefix``, as paths from ``root``."""
    where = root / prefix if prefix else root
    output = await git.run(where, *_STATUS, background=True, settings=await _without_filters(where))
    return [prefix + os.fsdecode(entry[3:]) for entry in output.split(b"\0") if len(entry) > 3]


async def _without_filters(repo: Path) -> dict[str, str]:
    """Settings that empty every filter driver the configuration seen from ``repo`` names, and require none.

    ``git status`` runs a driver's clean command on a file whose stat data changed. A worker can point any file of
    the worktree at a driver of the user's configuration (a ``.gitattributes`` is one write), and a sandboxed
    worker can write a nested repository's config: either way the command would run outside every sandbox. An
    empty command is no filter to git, and a driver no longer required lets git read the file's raw bytes
    instead of failing the listing.
    """
    found = await git.run(repo, "config", "-z", "--name-only", "--get-regexp", _DRIVER_KEYS, ok=(0, 1))
    drivers = {os.fsdecode(key).rpartition(".")[0] for key in found.split(b"\0") if key}
    return {f"{driver}.{part}": "" for driver in drivers for part in ("clean", "smudge", "process")} | {
        f"{driver}.required": "false" for driver in drivers
    }


async def _submodules(root: Path) -> list[str]:
    """The paths of the submodules ``.gitmodules`` names, read once per watch: they do not move while jobs run."""
    found = await git.run(root, "config", "-z", "--file", ".gitmodules", "--get-regexp", r"\.path$", ok=(0, 1))
    paths = [os.fsdecode(entry.partition(b"\n")[2]) for entry in found.split(b"\0") if b"\n" in entry]
    return await anyio.to_thread.run_sync(_inside, root, paths)


def _inside(root: Path, paths: list[str]) -> list[str]:
    """Those of ``paths`` that stay inside the worktree, as `confined` decides for a tool's path argument."""
    kept: list[str] = []
    for path in paths:
        with contextlib.suppress(InputError):
            kept.append(confined(root, path))
    return kept


def _signatures(root: Path, paths: Iterable[str]) -> dict[str, Seen]:
    found: dict[str, Seen] = {}
    # Joined as strings: pathlib's per-path parsing held the interpreter lock for most of a look, which
    # delayed the event loop's answers to tool calls.
    top = os.fspath(root)
    for path in paths:
        try:
            info = os.lstat(f"{top}/{path}")
        except OSError:
            found[path] = None
        else:
            found[path] = (info.st_mode, lstat_signature(info))
    return found
