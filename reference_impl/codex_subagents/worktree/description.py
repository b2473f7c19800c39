"""What a baseline says of itself: the models the baseline tools return, and the ``meta.json`` they are read from.

A baseline's tree holds the files; its ``meta.json`` holds what a tree cannot:
the exact permission bits, which ignored files are protected, what was left out
and why, when the listing began, and HEAD, the index and the stash as they were.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..core.paths import git_quoted
from .gitstate import GitState, Head
from .listing import SkipReason
from .snapshot import Snapshot

REF_PREFIX = "refs/codex-subagents/baselines/"
LISTED = 200
"""At most this many paths of each kind are listed in a baseline's description."""


class Unprotected(BaseModel):
    """A path the baseline does not protect, and why: a rollback never touches it."""

    path: str
    reason: SkipReason


class BaselineInfo(BaseModel):
    """A recorded worktree: what it protects, what it leaves out, and where HEAD was."""

    baseline_id: str
    label: str | None
    ref: str = Field(description="The private ref that keeps the baseline")
    commit: str
    root: str = Field(description="The worktree the baseline belongs to")
    created_at: float = Field(description="Epoch seconds")
    head: Head
    protected_files: int = Field(description="Files recorded byte for byte with their exact permission bits")
    ignored_files: list[str] = Field(description=f"Ignored files protected like tracked ones (first {LISTED})")
    unprotected: list[Unprotected] = Field(
        description=f"Paths left out: ignored directories, large ignored files, special files (first {LISTED})"
    )
    unprotected_count: int


class BaselineList(BaseModel):
    """The baselines of a worktree, newest first."""

    baselines: list[BaselineInfo]


class DropResult(BaseModel):
    """A dropped baseline."""

    baseline_id: str
    dropped: bool


def meta_json(root: Path, label: str | None, created: float, shot: Snapshot, state: GitState) -> bytes:
    """The ``meta.json`` of a baseline of ``shot``: what its tree cannot hold (exact permission bits, which ignored
    files are protected, what was left out and why) and the git state, paths quoted as git quotes them."""
    default = {False: 0o644, True: 0o755}
    modes = {
        git_quoted(p): e.perm for p, e in shot.entries.items() if not e.link and e.perm != default[bool(e.perm & 0o100)]
    }
    return json.dumps(
        {
            "version": 2,
            "root": git_quoted(str(root)),
            "label": label,
            "created_at": created,
            "taken_ns": shot.taken_ns,
            "files": len(shot.entries),
            "modes": modes,
            "ignored": sorted(git_quoted(p) for p in shot.ignored),
            "skipped": {git_quoted(p): reason for p, reason in sorted(shot.skipped.items())},
            "state": state.model_dump(),
        }
    ).encode()


def info_of(baseline_id: str, commit: str, meta: Any) -> BaselineInfo:
    """The description the tools return of the baseline ``baseline_id``, read from its ``meta.json``."""
    unprotected = [Unprotected(path=p, reason=r) for p, r in meta["skipped"].items()]
    return BaselineInfo(
        baseline_id=baseline_id,
        label=meta["label"],
        ref=REF_PREFIX + baseline_id,
        commit=commit,
        root=meta["root"],
        created_at=meta["created_at"],
        head=GitState.model_validate(meta["state"]).head,
        protected_files=meta["files"],
        ignored_files=meta["ignored"][:LISTED],
        unprotected=unprotected[:LISTED],
        unprotected_count=len(unprotected),
    )
