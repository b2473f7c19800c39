"""Where a tool works: the directory a call names, confined to the server's allowed roots, and the git worktree
that holds it, as a `Worktree` value.

Every tool that takes a ``cwd`` comes here first, once per call, and hands the value down: the baselines,
the comparison, the rollback and its log read the worktree's top, its git directories, its case rule and
its folder of the server's files from it, and none of them asks git again where those are.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from ..core import git
from ..core.errors import InputError


@dataclass(frozen=True)
class Worktree:
    """One git worktree, found once per tool call: where its files are, where git keeps its state, how its names
    compare."""

    root: Path
    """The top of the worktree: paths in it are named from here."""
    git_dir: Path
    """Its own git directory, which holds its index and HEAD (a linked worktree has one of its own)."""
    shared_git_dir: Path
    """The git directory its repository's worktrees share, which holds the config, the hooks and ``info/``; the
    same as `git_dir` but in a linked worktree."""
    ignore_case: bool
    """Whether git treats its names as case-insensitive (``core.ignorecase``, set where the file system is, as on
    macOS by default): ``Docs/a.md`` and ``docs/a.md`` then name one file."""

    @property
    def index(self) -> Path:
        """The user's index file of this worktree."""
        return self.git_dir / "index"

    @property
    def records_dir(self) -> Path:
        """The server's own files about this worktree, in its git directory: the baselines' ``lstat`` signatures
        and the log of rollbacks. (The jobs' journals live in the server's ``--state-dir``, shared by all.)"""
        return self.git_dir / "codex-subagents"


async def located(roots: Sequence[Path], cwd: str | None) -> tuple[Path, Worktree]:
    """The directory a tool works in, ``cwd`` (default: the first root) inside a root, and its worktree.

    Raises:
        InputError: for a path outside the allowed roots, or that is not a directory.
        GitError: when the directory is not inside a git worktree.
    """
    if cwd is not None and "\0" in cwd:
        raise InputError(f"cwd {cwd!r} contains a NUL byte.")
    try:
        path, is_dir = await anyio.to_thread.run_sync(_resolve, roots[0], cwd or ".")
    except (OSError, RuntimeError) as exc:
        raise InputError(f"cwd {cwd!r} cannot be used ({exc}); give a directory inside the allowed roots.") from exc
    if not any(path == root or path.is_relative_to(root) for root in roots):
        raise InputError(
            f"cwd {cwd!r} resolves to {str(path)!r}, outside the allowed roots "
            f"{[str(root) for root in roots]}; start the server with --allow-root for it."
        )
    if not is_dir:
        raise InputError(f"cwd {cwd!r} is not a directory.")
    return path, await worktree_at(path)


async def worktree(roots: Sequence[Path], cwd: str | None) -> Worktree:
    """The git worktree a tool works on."""
    return (await located(roots, cwd))[1]


async def worktree_at(directory: Path) -> Worktree:
    """The git worktree that holds ``directory``.

    Raises:
        GitError: when the directory is not inside a git worktree.
    """
    root = await git.worktree_root(directory)
    own = await git.git_dir(root)
    shared = await anyio.to_thread.run_sync(_shared, own)
    return Worktree(root, own, shared, await git.ignores_case(root))


def _resolve(root: Path, cwd: str) -> tuple[Path, bool]:
    path = (root / cwd).resolve()
    return path, path.is_dir()


def _shared(own: Path) -> Path:
    """The git directory the worktrees share, as git finds it: named by ``commondir`` in a linked worktree's own."""
    try:
        pointer = (own / "commondir").read_text().strip()
    except FileNotFoundError:
        return own
    return Path(os.path.realpath(own / pointer))
