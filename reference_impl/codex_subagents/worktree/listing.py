"""What git lists in a worktree: tracked, untracked and ignored paths, nested repositories included.

A snapshot starts from these lists, before it reads anything of the files. Each
(possibly nested) repository is listed by its own git, and its paths are named
from the worktree's top. Ignored directories are listed collapsed, as one path
each, and are not protected; nested repositories deeper than `MAX_NESTING` are
left out the same way, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import anyio

from ..core import git, offload
from ..core.errors import GitError
from ..core.paths import under
from . import gitstate

SkipReason = Literal["ignored_directory", "too_large", "nested_repository", "not_a_file", "unreadable"]
"""Why a path is not protected."""
MAX_NESTING = 8
"""How deep nested repositories are listed; one deeper is left out as a whole."""


@dataclass
class Listing:
    """Paths found by git in a worktree and the repositories nested in it, before anything is read."""

    paths: list[str] = field(default_factory=list[str])
    ignored: list[str] = field(default_factory=list[str])
    skipped: dict[str, SkipReason] = field(default_factory=dict[str, SkipReason])
    staged: str | None = None
    indexed: dict[str, str] | None = None


async def list_into(
    root: Path, prefix: str, listing: Listing, depth: int, *, ignored_too: bool, index: Path | None = None
) -> None:
    """Add what git lists in the repository at ``root / prefix`` to ``listing``, nested ones included.

    Ignored files and directories are listed only when ``ignored_too`` (for a baseline, which decides them). The
    three listings run at once: each is a walk of the tree or a read of the index, and a machine has cores to spare.
    """
    here = root / prefix if prefix else root
    found = [b"", b"", b""]
    commands = [["ls-files", "-z", "--stage"], ["ls-files", "-z", "--others", "--exclude-standard"]]
    if ignored_too:
        commands.append(["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"])
    env = {"GIT_INDEX_FILE": str(index)} if index else None

    async def one(number: int) -> None:
        found[number] = await git.run(here, *commands[number], env=env if number == 0 else None)

    await offload.concurrently(*(partial(one, number) for number in range(len(commands))))
    tracked, others, ignored = found
    nested = await offload.in_thread(_parse, prefix, listing, tracked, others, ignored)
    repositories = await anyio.to_thread.run_sync(lambda: [p for p in nested if (here / p / ".git").exists()])
    for path in repositories:
        if depth >= MAX_NESTING:
            listing.skipped[prefix + path] = "nested_repository"
            continue
        try:
            await list_into(root, f"{prefix}{path}/", listing, depth + 1, ignored_too=ignored_too)
        except GitError:
            listing.skipped[prefix + path] = "nested_repository"


def holds_a_repository(staged: bytes, untracked: Iterable[str]) -> bool:
    """Whether an index (as ``ls-files -z --stage`` lists it) holds a submodule, or git lists an untracked path as a
    directory (``--others`` does so for a repository nested in the worktree): each is listed by its own git, which
    only a full listing does."""
    return b"\x00160000 " in b"\0" + staged or any(path.endswith("/") for path in untracked)


def _parse(prefix: str, listing: Listing, tracked: bytes, others: bytes, ignored: bytes) -> list[str]:
    """Add git's listings of one repository to ``listing``; return the nested repositories' paths in it."""
    nested: list[str] = []
    if not prefix:
        listing.staged = gitstate.staged_digest(tracked)
    indexed = listing.indexed if not prefix else None
    for record in git.nul_split(tracked):
        meta, _, path = record.partition("\t")
        if indexed is not None:
            indexed[path] = meta
        if meta.startswith("160000"):
            nested.append(path)
        elif not listing.paths or listing.paths[-1] != prefix + path:
            listing.paths.append(prefix + path)
    for path in git.nul_split(others):
        if path.endswith("/"):
            nested.append(path.rstrip("/"))
        else:
            listing.paths.append(prefix + path)
    directories = [path for path in git.nul_split(ignored) if path.endswith("/")]
    for path in directories:
        listing.skipped[prefix + path.rstrip("/")] = "ignored_directory"
    inside = frozenset(path.rstrip("/") for path in directories)
    listing.ignored += [prefix + p for p in git.nul_split(ignored) if not p.endswith("/") and not under(p, inside)]
    return nested
