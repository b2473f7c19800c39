"""The git state a worker can move besides files: HEAD and its branch, the index, the stash list, and the files of
the git directory that decide what git runs or how it reads the tree (`gitdir`).

A baseline records them; a comparison names what moved; a rollback puts each
back and first keeps whatever a worker made (a commit, a stash entry, its index)
under ``refs/codex-subagents/kept/<baseline>/``, so nothing is destroyed. The
index is recorded as its exact bytes (what the user had staged, intent-to-add
and conflicts included) and compared by its entries, so a mere refresh of
cached file stats is not reported as a change.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Literal

import anyio
from pydantic import BaseModel, Field

from ..core import git
from ..core.errors import GitError
from . import gitdir
from .gitdir import GitFile
from .location import Worktree

KEPT_PREFIX = "refs/codex-subagents/kept/"


class StashEntry(BaseModel):
    """One entry of the stash list."""

    commit: str
    message: str


class Head(BaseModel):
    """Where HEAD was."""

    branch: str | None = Field(description="The ref HEAD pointed at (e.g. refs/heads/main); null when detached")
    commit: str | None = Field(description="The commit HEAD resolved to; null on a branch without commits")


class GitState(BaseModel):
    """HEAD, the index (its exact bytes as a blob, and a digest of its entries), the stash list and the git
    directory's files (None in a baseline recorded before they were)."""

    head: Head
    index_blob: str | None = None
    index_entries: str = ""
    stash: list[StashEntry] = Field(default_factory=list[StashEntry])
    git_files: dict[str, GitFile] | None = None


class GitStateChange(BaseModel):
    """Something of git's own state that differs from the baseline."""

    what: Literal["branch", "head", "index", "stash", "git_file"]
    detail: str = Field(description="What moved; for a git_file, the file of the git directory, first")


def staged_digest(listing: bytes) -> str:
    """The digest of the index's entries: of its ``ls-files -z --stage`` listing, which a snapshot also reads."""
    return hashlib.sha256(listing).hexdigest()


async def record(
    worktree: Worktree, *, write: bool, staged: str | None = None, stored_index: str | None = None
) -> GitState:
    """Read HEAD, the index and the stash list of the worktree.

    ``staged`` is the `staged_digest` of a listing just read (by a snapshot), so it is not read again.
    ``stored_index`` is the blob of the index as a baseline stored it, from the copy its listing read; the index
    is then not read again either.
    """
    root = worktree.root
    branch = (await git.run(root, "symbolic-ref", "-q", "HEAD", ok=(0, 1))).decode().strip() or None
    head = (await git.run(root, "rev-parse", "-q", "--verify", "HEAD^{commit}", ok=(0, 1))).decode().strip()
    data = None if stored_index else await anyio.to_thread.run_sync(_read, worktree.index)
    blob = stored_index
    if data is not None and write:
        blob = (await git.run(root, "hash-object", "-w", "--stdin", stdin=data)).decode().strip()
    entries = ""
    if data or stored_index:
        entries = staged if staged is not None else staged_digest(await git.run(root, "ls-files", "-z", "--stage"))
    return GitState(
        head=Head(branch=branch, commit=head or None),
        index_blob=blob,
        index_entries=entries,
        stash=await _stash(root),
        git_files=await gitdir.record(worktree, keep=write),
    )


def changes(before: GitState, now: GitState) -> list[GitStateChange]:
    """Name each way ``now`` differs from ``before``."""
    found: list[GitStateChange] = []
    was, new = before.head, now.head
    if was.branch != new.branch:
        found.append(GitStateChange(what="branch", detail=f"HEAD moved from {was.branch} to {new.branch}"))
    if was.commit != new.commit:
        found.append(GitStateChange(what="head", detail=f"HEAD's commit moved from {was.commit} to {new.commit}"))
    if before.index_entries != now.index_entries:
        found.append(GitStateChange(what="index", detail="the index (what is staged) differs from the baseline's"))
    if before.stash != now.stash:
        detail = f"the stash list had {len(before.stash)} entries and has {len(now.stash)}"
        found.append(GitStateChange(what="stash", detail=detail))
    if before.git_files is not None and now.git_files is not None:
        for name, how in gitdir.changed(before.git_files, now.git_files).items():
            found.append(GitStateChange(what="git_file", detail=f"{name} in the git directory was {how}"))
    return found


async def restore(worktree: Worktree, before: GitState, baseline_id: str) -> tuple[list[GitStateChange], list[str]]:
    """Put the git directory's files, HEAD, its branch, the index and the stash list back as ``before``; keep what
    is replaced.

    The files come first, so that no hook or setting a worker left runs while the rest is put back.
    Returns what was moved back and the refs that now keep what a worker made.
    """
    root = worktree.root
    now = await record(worktree, write=True)
    moved = changes(before, now)
    if before.git_files is not None and any(change.what == "git_file" for change in moved):
        await gitdir.restore(worktree, before.git_files)
    kept: list[str] = []
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{time.time_ns() % 1_000_000:06d}"

    async def keep(name: str, target: str | None) -> None:
        if target:
            ref = f"{KEPT_PREFIX}{baseline_id}/{stamp}-{name}"
            await git.run(root, "update-ref", ref, target)
            kept.append(ref)

    if before.head != now.head:
        await keep("head", now.head.commit)
        await _put_head(root, before.head, now.head)
    if before.index_entries != now.index_entries:
        await keep("index", now.index_blob)
        await _put_index(worktree, before)
    if before.stash != now.stash:
        for number, entry in enumerate(e for e in now.stash if e not in before.stash):
            await keep(f"stash-{number}", entry.commit)
        await git.run(root, "update-ref", "-d", "refs/stash", ok=(0, 1))
        for entry in reversed(before.stash):
            await git.run(root, "stash", "store", "-m", entry.message, entry.commit)
    return moved, kept


async def _put_head(root: Path, before: Head, now: Head) -> None:
    if before.branch is None:
        await git.run(root, "update-ref", "--no-deref", "HEAD", before.commit or "")
        return
    if before.commit is None:
        await git.run(root, "update-ref", "-d", before.branch, ok=(0, 1))
    else:
        await git.run(root, "update-ref", before.branch, before.commit)
    if now.branch != before.branch:
        await git.run(root, "symbolic-ref", "HEAD", before.branch)


async def _put_index(worktree: Worktree, before: GitState) -> None:
    """Write the recorded index bytes back under git's own lock protocol."""
    data = None
    if before.index_blob is not None:
        data = await git.run(worktree.root, "cat-file", "blob", before.index_blob)
    await anyio.to_thread.run_sync(_replace_locked, worktree.index, data)


def _replace_locked(path: Path, data: bytes | None) -> None:
    lock = path.with_name(path.name + ".lock")
    try:
        handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise GitError(f"{str(lock)!r} exists: another git command is running; retry when it has finished.") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data or b"")
            stream.flush()
            os.fsync(stream.fileno())
        if data is None:
            path.unlink(missing_ok=True)
            lock.unlink()
        else:
            os.replace(lock, path)
    except BaseException:
        lock.unlink(missing_ok=True)
        raise


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


async def _stash(root: Path) -> list[StashEntry]:
    if not (await git.run(root, "rev-parse", "-q", "--verify", "refs/stash", ok=(0, 1))).strip():
        return []
    out = await git.run(root, "log", "-g", "-z", "--format=%H%x1f%gs", "refs/stash", "--")
    entries: list[StashEntry] = []
    for record in out.decode(errors="replace").split("\0"):
        commit, _, message = record.strip("\n").partition("\x1f")
        if commit:
            entries.append(StashEntry(commit=commit, message=message))
    return entries
