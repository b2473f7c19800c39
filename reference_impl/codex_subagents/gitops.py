"""A2 coordination on git: baselines, what changed since one, overlaps between jobs, and rollback.

A baseline is the whole worktree (tracked files, untracked files that are not
ignored, the user's uncommitted edits) written as a tree through a private,
temporary index, and kept as a commit under ``refs/codex-subagents/baselines/``.
HEAD, the user's index, the stash and every file stay untouched. Comparing the
worktree with a baseline snapshots the worktree the same way and diffs two trees;
rollback writes back, byte for byte, exactly the paths that differ. Ignored files
are outside all of this. Every user string reaches git as its own argv item after
``--``, and every path is checked to stay inside the worktree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from .errors import BaselineError, GitError, InputError

ChangeKind = Literal["added", "modified", "deleted", "type_changed"]
REF_PREFIX = "refs/codex-subagents/baselines/"
_KINDS: dict[str, ChangeKind] = {"A": "added", "M": "modified", "D": "deleted", "T": "type_changed"}
_BASELINE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "codex-subagents",
    "GIT_AUTHOR_EMAIL": "codex-subagents@localhost",
    "GIT_COMMITTER_NAME": "codex-subagents",
    "GIT_COMMITTER_EMAIL": "codex-subagents@localhost",
}


@dataclass(frozen=True)
class Baseline:
    """A recorded worktree."""

    id: str
    ref: str
    commit: str
    tree: str
    root: Path
    label: str | None
    created_at: float


@dataclass(frozen=True)
class JobClaims:
    """The root-relative paths a job reported changing and those it was seen changing."""

    reported: frozenset[str]
    observed: frozenset[str]

    @property
    def touched(self) -> frozenset[str]:
        """Every path the job claims, by report or by observation."""
        return self.reported | self.observed


@dataclass(frozen=True)
class OverlapReport:
    """How the jobs' claims meet the changes since a baseline."""

    overlaps: dict[str, list[str]]
    unclaimed: list[str]
    unchanged_claims: dict[str, list[str]]
    changed: dict[str, ChangeKind]

    @property
    def clean(self) -> bool:
        """No path touched by two jobs and no change that no job claims."""
        return not self.overlaps and not self.unclaimed


@dataclass(frozen=True)
class RollbackReport:
    """What a rollback wrote back, deleted, and which emptied directories it removed."""

    restored: list[str]
    removed: list[str]
    removed_dirs: list[str]


def worktree_root(path: Path) -> Path:
    """Return the top of the git worktree that contains ``path``."""
    try:
        top = _git(path, "rev-parse", "--show-toplevel").strip()
    except GitError:
        raise GitError(f"{str(path)!r} is not inside a git worktree; git is required: run `git init` there.") from None
    return Path(top).resolve()


def create_baseline(root: Path, label: str | None = None) -> Baseline:
    """Record the worktree at ``root`` as a new baseline."""
    tree = _snapshot(root)
    created = time.time()
    baseline_id = time.strftime("b-%Y%m%dT%H%M%S-", time.gmtime(created)) + uuid.uuid4().hex[:6]
    message = f"codex-subagents baseline {baseline_id}\n\n" + json.dumps({"label": label, "created_at": created})
    parent = _head(root)
    args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-m", message]
    commit = _git(root, *args, env=_IDENTITY).strip()
    _git(root, "update-ref", REF_PREFIX + baseline_id, commit)
    return Baseline(baseline_id, REF_PREFIX + baseline_id, commit, tree, root, label, created)


def list_baselines(root: Path) -> list[Baseline]:
    """Return the worktree's baselines, newest first."""
    out = _git(root, "for-each-ref", "--format=%(refname:lstrip=3)", REF_PREFIX)
    found = [get_baseline(root, name) for name in out.split()]
    return sorted(found, key=lambda baseline: baseline.created_at, reverse=True)


def get_baseline(root: Path, baseline_id: str) -> Baseline:
    """Return the baseline called ``baseline_id``."""
    _check_id(baseline_id)
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{REF_PREFIX}{baseline_id}^{{commit}}").strip()
    except GitError:
        raise BaselineError(
            f"No baseline {baseline_id!r} in {str(root)!r}; call codex_baselines to list them."
        ) from None
    tree = _git(root, "rev-parse", f"{commit}^{{tree}}").strip()
    body = _git(root, "log", "-1", "--format=%B", commit).strip().splitlines()
    meta: dict[str, object] = json.loads(body[-1]) if body and body[-1].startswith("{") else {}
    label = meta.get("label")
    created = meta.get("created_at")
    return Baseline(
        id=baseline_id,
        ref=REF_PREFIX + baseline_id,
        commit=commit,
        tree=tree,
        root=root,
        label=label if isinstance(label, str) else None,
        created_at=float(created) if isinstance(created, int | float) else 0.0,
    )


def drop_baseline(root: Path, baseline_id: str) -> None:
    """Delete a baseline's ref; the worktree is not touched."""
    baseline = get_baseline(root, baseline_id)
    _git(root, "update-ref", "-d", baseline.ref, baseline.commit)


def changed_paths(root: Path, baseline: Baseline) -> dict[str, ChangeKind]:
    """Return the root-relative paths whose content, mode or type differs from the baseline."""
    out = _git(root, "diff-tree", "-r", "-z", "--no-renames", baseline.tree, _snapshot(root))
    fields = out.split("\0")
    changes: dict[str, ChangeKind] = {}
    for header, path in zip(fields[0::2], fields[1::2], strict=False):
        if header.startswith(":"):
            changes[path] = _KINDS.get(header.split()[-1][0], "modified")
    return changes


def normalize_path(root: Path, cwd: Path, path: str) -> str | None:
    """Return a worker's path (absolute, or relative to its cwd) relative to ``root``; None if outside."""
    if not path or "\0" in path:
        return None
    absolute = Path(os.path.normpath(cwd / path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts else None


def overlap_report(changed: Mapping[str, ChangeKind], claims: Mapping[str, JobClaims]) -> OverlapReport:
    """Compare each job's claims with the others' and with what really changed."""
    touched_by: dict[str, list[str]] = {}
    for job_id, claim in sorted(claims.items()):
        for path in claim.touched:
            touched_by.setdefault(path, []).append(job_id)
    unchanged = {
        job_id: sorted(path for path in claim.touched if path not in changed)
        for job_id, claim in sorted(claims.items())
    }
    return OverlapReport(
        overlaps={path: jobs for path, jobs in sorted(touched_by.items()) if len(jobs) > 1},
        unclaimed=sorted(path for path in changed if path not in touched_by),
        unchanged_claims={job_id: paths for job_id, paths in unchanged.items() if paths},
        changed=dict(sorted(changed.items())),
    )


def integrity(
    changed: Mapping[str, ChangeKind], job: JobClaims, others: Mapping[str, JobClaims]
) -> tuple[list[str], list[str]]:
    """Return the changed paths the job touched, and the changed paths that no job at all claims."""
    claimed = frozenset[str]().union(*(claim.touched for claim in others.values()))
    mine = sorted(path for path in changed if path in job.touched)
    suspects = sorted(path for path in changed if path not in job.touched and path not in claimed)
    return mine, suspects


def rollback(root: Path, baseline: Baseline, paths: Sequence[str] | None = None) -> RollbackReport:
    """Put ``paths`` (default: every changed path) back exactly as the baseline has them."""
    wanted = [_check_path(root, path) for path in paths] if paths is not None else None
    changes = changed_paths(root, baseline)
    if wanted is not None:
        changes = {p: kind for p, kind in changes.items() if any(p == w or p.startswith(w + "/") for w in wanted)}
    removed = sorted((p for p, kind in changes.items() if kind == "added"), reverse=True)
    restored = sorted(p for p, kind in changes.items() if kind != "added")
    for path in removed:
        _remove(root / path)
    for path in restored:
        _restore(root, baseline, path)
    kept_dirs = {
        str(PurePosixPath(p).parent)
        for p in _git(root, "ls-tree", "-r", "-z", "--name-only", baseline.tree).split("\0")
        if p
    }
    kept_dirs |= {str(parent) for d in list(kept_dirs) for parent in PurePosixPath(d).parents}
    removed_dirs: list[str] = []
    for path in removed:
        for parent in PurePosixPath(path).parents:
            directory = root / parent
            if str(parent) == "." or str(parent) in kept_dirs or not directory.is_dir() or any(directory.iterdir()):
                break
            directory.rmdir()
            removed_dirs.append(parent.as_posix())
    return RollbackReport(restored=restored, removed=sorted(removed), removed_dirs=sorted(removed_dirs))


def _restore(root: Path, baseline: Baseline, path: str) -> None:
    entry = _git(root, "ls-tree", "-z", baseline.tree, "--", path).rstrip("\0")
    mode, _, rest = entry.partition(" ")
    kind, _, rest = rest.partition(" ")
    sha = rest.split("\t", 1)[0]
    if kind != "blob":
        return
    target = root / path
    for parent in reversed(PurePosixPath(path).parents):
        directory = root / parent
        if directory.is_symlink() or directory.is_file():
            directory.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    if not re.fullmatch(r"[0-9a-f]{40,64}", sha):
        raise GitError(f"unexpected tree entry for {path!r}: {entry!r}")
    data = subprocess.run(["git", "cat-file", "blob", sha], cwd=root, check=True, capture_output=True).stdout
    if mode == "120000":
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(os.fsdecode(data), target)
        return
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".codex-subagents-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.chmod(temporary, 0o755 if mode == "100755" else 0o644)
    if target.is_symlink():
        target.unlink()
    os.replace(temporary, target)


def _remove(target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def _snapshot(root: Path) -> str:
    """Write the worktree as a tree object through a temporary index and return its id."""
    git_dir = Path(_git(root, "rev-parse", "--absolute-git-dir").strip())
    with tempfile.TemporaryDirectory(dir=git_dir, prefix="codex-subagents-") as scratch:
        index = Path(scratch) / "index"
        if (git_dir / "index").exists():
            shutil.copyfile(git_dir / "index", index)
        env = {"GIT_INDEX_FILE": str(index)}
        _git(root, "add", "--all", "--", ".", env=env)
        return _git(root, "write-tree", env=env).strip()


def _head(root: Path) -> str | None:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip() or None
    except GitError:
        return None


def _check_id(baseline_id: str) -> None:
    if not _BASELINE_ID.fullmatch(baseline_id) or ".." in baseline_id:
        raise InputError(
            f"baseline id {baseline_id!r} is malformed; "
            "use an id returned by codex_baseline or listed by codex_baselines."
        )


def _check_path(root: Path, path: str) -> str:
    pure = PurePosixPath(path)
    if not path or "\0" in path or path.startswith("-") or pure.is_absolute() or ".." in pure.parts:
        raise InputError(f"path {path!r} must be relative to the worktree root, without '..', not starting with '-'.")
    normal = pure.as_posix()
    parent = (root / normal).parent.resolve()
    if parent != root and not parent.is_relative_to(root):
        raise InputError(f"path {path!r} leads outside the worktree {str(root)!r} through a symlink.")
    return normal


def _git(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    full_env = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", **(env or {})}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        encoding="utf-8",
        errors="surrogateescape",
        env=full_env,
        check=False,
    )
    if result.returncode != 0:
        raise GitError(f"git {args[0]} failed in {str(cwd)!r}: {result.stderr.strip() or result.returncode}")
    return result.stdout
