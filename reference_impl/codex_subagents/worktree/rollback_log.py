"""The rollbacks made in a worktree, so that a comparison knows which jobs' touches were undone.

A job that touched a path before a rollback put that path back no longer
accounts for the path: what it wrote is gone. Each rollback appends one line
``{"at": epoch seconds, "paths": [...] or null}`` (null: every path) to
``<git dir>/codex-subagents/rollbacks.jsonl`` (`Worktree.records_dir`), beside the worktree's baselines,
so servers sharing the worktree and a restarted server read the same history.
A line that cannot be read (a torn write) is skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from .location import Worktree

_NAME = "rollbacks.jsonl"


@dataclass(frozen=True)
class Rollback:
    """One rollback: when it ended, and which root-relative paths it put back (None: every path)."""

    at: float
    paths: frozenset[str] | None

    def undid(self, path: str, finished: float | None) -> bool:
        """Whether this rollback undid what a job that ended at ``finished`` (None: still running) did to ``path``."""
        return finished is not None and finished < self.at and (self.paths is None or path in self.paths)


async def record(worktree: Worktree, at: float, paths: Sequence[str] | None) -> None:
    """Append a rollback of ``paths`` (None: every path) made at ``at`` to the worktree's log."""
    line = json.dumps({"at": at, "paths": None if paths is None else [os.fsencode(p).hex() for p in paths]})
    await anyio.to_thread.run_sync(_append, worktree.records_dir / _NAME, line)


async def read(worktree: Worktree) -> list[Rollback]:
    """Every rollback made in the worktree, oldest first."""
    return await anyio.to_thread.run_sync(_read, worktree.records_dir / _NAME)


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as log:
        log.write(line + "\n")
        log.flush()
        os.fsync(log.fileno())


def _read(path: Path) -> list[Rollback]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    found: list[Rollback] = []
    for line in lines:
        try:
            entry = json.loads(line)
            paths = entry["paths"]
            named = None if paths is None else frozenset(os.fsdecode(bytes.fromhex(p)) for p in paths)
            found.append(Rollback(at=float(entry["at"]), paths=named))
        except (ValueError, KeyError, TypeError):
            continue
    return found
