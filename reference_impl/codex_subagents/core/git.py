"""The one way the server runs git: asynchronously, with a fixed environment, raw bytes in and out.

Every git call of the server goes through `run`, so the hardening lives in one
place: the command never waits on the event loop; variables that would steer
git elsewhere (``GIT_DIR``, ``GIT_INDEX_FILE``, ...) are dropped from the
inherited environment; no hook and no file system monitor a repository names is
run; pathspecs are literal; optional locks are off, so that a
read never rewrites the user's index; output is bytes, because paths need not be
UTF-8. The server drives git's plumbing directly rather than through a library
so that it controls exactly which index is written and that no filter or line
ending conversion touches the user's bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import anyio

from .errors import GitError

NICENESS = 10
"""How much bulk work yields the processor to the server and its workers (``nice``): background git, a baseline."""

_UNRUN = {"core.fsmonitor": "false", "core.hooksPath": os.devnull}
"""Settings that would have the server's git run a program: a worker may write a nested repository's config
(and, with full access, the worktree's), and the server runs git outside every sandbox, so these are forced
off with the precedence of ``git -c``."""
_FIXED = {
    "GIT_LITERAL_PATHSPECS": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


def environment(extra: Mapping[str, str] | None = None, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a git call: the server's, without ``GIT_*`` steering, plus the fixed values.

    ``settings`` are configuration values of this call, with the precedence of ``git -c`` (the forced ones win);
    carried in the environment (``GIT_CONFIG_KEY_n``), a key is taken whole, even with a ``=`` in its name.
    """
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    values = {**(settings or {}), **_UNRUN}
    config = {"GIT_CONFIG_COUNT": str(len(values))}
    for n, (key, value) in enumerate(values.items()):
        config |= {f"GIT_CONFIG_KEY_{n}": key, f"GIT_CONFIG_VALUE_{n}": value}
    return {**inherited, **_FIXED, **config, **(extra or {})}


async def run(
    cwd: Path,
    *args: str,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
    ok: Sequence[int] = (0,),
    background: bool = False,
    settings: Mapping[str, str] | None = None,
) -> bytes:
    """Run ``git *args`` in ``cwd`` and return its standard output; ``background`` runs it at a lower priority,
    ``settings`` are configuration values for this call only (see `environment`).

    Raises:
        GitError: when git exits with a code outside ``ok`` or cannot be started,
            naming the subcommand, the directory and git's own message.
    """
    try:
        argv = ["nice", "-n", str(NICENESS), "git", *args] if background else ["git", *args]
        # A session of its own too: where Linux shares the processor out by session (autogroup scheduling,
        # on by default in desktop kernels), a long git then draws on its own share, not on the server's.
        done = await anyio.run_process(
            argv, input=stdin, cwd=cwd, env=environment(env, settings), check=False, start_new_session=background
        )
    except OSError as exc:
        raise GitError(f"git could not be run in {str(cwd)!r} ({exc}); git is required: install it.") from exc
    if done.returncode not in ok:
        message = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
        raise GitError(f"git {args[0]} failed in {str(cwd)!r}: {message}")
    return done.stdout


async def text(cwd: Path, *args: str) -> str:
    """Run git and return its output as one stripped line of text."""
    return os.fsdecode((await run(cwd, *args)).strip())


async def worktree_root(path: Path) -> Path:
    """Return the top of the git worktree that holds ``path``.

    Raises:
        GitError: outside any worktree (with the command that makes one), or when
            git refuses the repository for another reason, quoting git.
    """
    try:
        return Path(await text(path, "rev-parse", "--show-toplevel"))
    except GitError as exc:
        if "not a git repository" in str(exc):
            raise GitError(
                f"{str(path)!r} is not inside a git worktree; git is required: run `git init` there."
            ) from None
        raise GitError(f"{str(path)!r} cannot be used as a git worktree: {exc}") from None


_ASKED: dict[tuple[Path, tuple[str, ...]], str] = {}


async def git_dir(root: Path) -> Path:
    """The worktree's own git directory (a linked worktree has one of its own)."""
    return Path(await _once(root, "rev-parse", "--absolute-git-dir"))


async def ignores_case(root: Path) -> bool:
    """Whether git treats the worktree's names as case-insensitive (``core.ignorecase``, set where the file
    system is, as on macOS by default): ``Docs/a.md`` and ``docs/a.md`` then name one file."""
    return await _once(root, "config", "--bool", "--default", "false", "core.ignorecase") == "true"


_ASKED_AT_MOST = 256
"""How many answers `_once` keeps: the oldest is forgotten first, so a server that meets many worktrees stays small."""


async def _once(root: Path, *args: str) -> str:
    """Git's answer about the worktree that holds while it is in use, asked once per worktree: a spawn pays no
    git process for it."""
    if (root, args) not in _ASKED:
        answer = await text(root, *args)
        while len(_ASKED) >= _ASKED_AT_MOST:
            del _ASKED[next(iter(_ASKED))]
        _ASKED[root, args] = answer
    return _ASKED[root, args]


def nul_split(output: bytes) -> list[str]:
    """Split ``-z`` output into paths, decoded the way the file system names them."""
    return [item for item in os.fsdecode(output).split("\0") if item]
