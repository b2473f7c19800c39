"""Where a tool works: the directory a call names, confined to the server's allowed roots, and the top of the
git worktree that holds it. Every tool that takes a ``cwd`` comes here first."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio

from ..core import git
from ..core.errors import InputError


async def located(roots: Sequence[Path], cwd: str | None) -> tuple[Path, Path]:
    """The directory a tool works in, ``cwd`` (default: the first root) inside a root, and its worktree's top.

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
    return path, await git.worktree_root(path)


async def worktree(roots: Sequence[Path], cwd: str | None) -> Path:
    """The top of the git worktree a tool works on."""
    return (await located(roots, cwd))[1]


def _resolve(root: Path, cwd: str) -> tuple[Path, bool]:
    path = (root / cwd).resolve()
    return path, path.is_dir()
