"""What a baseline says of itself: the models the baseline tools return, and the ``meta.json`` they are read from.

A baseline's tree holds the files; its ``meta.json`` holds what a tree cannot:
the exact permission bits, which ignored files are protected, what was left out
and why, when the listing began, and HEAD, the index and the stash as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, Field

from ..core import git
from ..core.errors import BaselineError, GitError, InputError
from ..core.paths import git_quoted
from .gitstate import GitState, Head
from .listing import SkipReason
from .snapshot import Entry, Snapshot

REF_PREFIX = "refs/codex-subagents/baselines/"
BASELINE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
"""What a baseline id may be: it names a ref and a file, so nothing else is read from a ref's name."""
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


class Contents(NamedTuple):
    """What a baseline's ``meta.json`` says of its files beside its tree."""

    taken_ns: int
    """When the listing began."""
    files: int
    modes: dict[str, int]
    """The exact permission bits of the files whose bits are not git's own 0o644 or 0o755, by path."""
    ignored: frozenset[str]
    """The protected ignored files."""
    skipped: dict[str, SkipReason]
    """What was left out, and why."""


def contents_of(shot: Snapshot) -> Contents:
    """The `Contents` of a baseline of ``shot``."""
    return Contents(shot.taken_ns, len(shot.entries), exact_modes(shot.entries.items()), shot.ignored, shot.skipped)


def exact_modes(entries: Iterable[tuple[str, Entry]]) -> dict[str, int]:
    """The permission bits of the files among ``entries`` a git tree cannot hold (not 0o644 or 0o755), by path."""
    default = {False: 0o644, True: 0o755}
    return {path: e.perm for path, e in entries if not e.link and e.perm != default[bool(e.perm & 0o100)]}


def entry_of(sha: str, git_mode: str, exact: int | None) -> Entry:
    """The entry of a file a baseline's tree or index records as ``git_mode``: its exact bits where `exact_modes`
    recorded them (``exact``), else git's own; no ``lstat`` data, so the file is read again before it is trusted."""
    if git_mode == "120000":
        return Entry(sha, 0, True)
    own = 0o755 if git_mode == "100755" else 0o644
    return Entry(sha, own if exact is None else exact, False)


def meta_json(root: Path, label: str | None, created: float, contents: Contents, state: GitState) -> bytes:
    """The ``meta.json`` of a baseline of ``contents``: what its tree cannot hold (exact permission bits, which
    ignored files are protected, what was left out and why) and the git state, paths quoted as git quotes them."""
    return json.dumps(
        {
            "version": 2,
            "root": git_quoted(str(root)),
            "label": label,
            "created_at": created,
            "taken_ns": contents.taken_ns,
            "files": contents.files,
            "modes": {git_quoted(path): perm for path, perm in contents.modes.items()},
            "ignored": sorted(git_quoted(p) for p in contents.ignored),
            "skipped": {git_quoted(p): reason for p, reason in sorted(contents.skipped.items())},
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


async def read(root: Path, baseline_id: str) -> tuple[str, Any]:
    """The commit and the ``meta.json`` of the baseline ``baseline_id`` of the worktree at ``root``.

    Raises:
        InputError: for a malformed id.
        BaselineError: when this worktree has no such baseline, or an earlier release recorded it.
    """
    if not BASELINE_ID.fullmatch(baseline_id) or ".." in baseline_id:
        raise InputError(
            f"baseline id {baseline_id!r} is malformed; "
            "use an id returned by codex_baseline or listed by codex_baselines."
        )
    missing = BaselineError(f"No baseline {baseline_id!r} in {str(root)!r}; call codex_baselines to list them.")
    ref = f"{REF_PREFIX}{baseline_id}^{{commit}}"
    commit = (await git.run(root, "rev-parse", "-q", "--verify", ref, ok=(0, 1))).decode().strip()
    if not commit:
        raise missing
    try:
        meta = json.loads(await git.run(root, "cat-file", "blob", f"{commit}:meta.json"))
    except (GitError, ValueError):
        raise BaselineError(f"Baseline {baseline_id!r} was not recorded by this version; record a new one.") from None
    if meta.get("root") != git_quoted(str(root)):
        raise missing
    return commit, meta
