"""Recording a baseline: its files taken, its trees and commit written under a private ref, its index kept.

A baseline after another asks git what changed since (`baseline_after`); a first
one, or one git's answer would not serve, lists the worktree in full
(`snapshot`), reusing the previous baseline's blob ids of unchanged files. The
user's index is read through a copy (`scratch_index`), never written. Either way
the baseline's index is kept beside it (`stat_index`) for the next one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import NamedTuple, TypeVar

import anyio

from ..core import git, offload
from ..core.errors import BaselineError
from ..core.paths import git_unquoted
from . import baseline_after, description, gitdir, gitstate, raw_git, scratch_index, snapshot, stat_index
from .description import REF_PREFIX, BaselineInfo, Contents
from .gitstate import GitState
from .location import Worktree
from .snapshot import Snapshot

_T = TypeVar("_T")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "codex-subagents",
    "GIT_AUTHOR_EMAIL": "codex-subagents@localhost",
    "GIT_COMMITTER_NAME": "codex-subagents",
    "GIT_COMMITTER_EMAIL": "codex-subagents@localhost",
}


class _Files(NamedTuple):
    """A baseline's files as taken, and how to write and keep them."""

    contents: Contents
    staged: str | None
    """The `gitstate.staged_digest` of the user's index as listed; None if not read."""
    indexed: Callable[[], Awaitable[tuple[Path, str]]]
    """Makes the index of the baseline's files (kept for the next look): where it is, and the worktree's tree git
    writes from it."""


class _Previous(NamedTuple):
    """The newest earlier baseline of this worktree whose index is kept."""

    baseline_id: str
    kept: Path
    """Its kept index."""


async def record(worktree: Worktree, label: str | None) -> BaselineInfo:
    """Record the worktree now, touching no file, nor HEAD, the index or the stash, and describe the baseline."""
    with tempfile.TemporaryDirectory(prefix="codex-subagents-index-") as scratch_dir:
        scratch = Path(scratch_dir)
        index = await scratch_index.copied(worktree, scratch)
        raw = await raw_git.made(worktree, scratch)
        previous = await _previous(worktree)
        stored: list[str] = []
        taken: list[_Files] = []

        async def take() -> None:
            taken.append(await _taken(worktree, raw, scratch, index, previous))

        async def store(copy: Path) -> None:
            stored.append(await scratch_index.stored(worktree.root, copy))

        # git stores the copy of the user's index while the files are taken: neither needs the other
        await offload.concurrently(take, *([partial(store, index)] if index else []))
        created = time.time()
        baseline_id = time.strftime("b-%Y%m%dT%H%M%S-", time.gmtime(created)) + uuid.uuid4().hex[:6]
        files, stored_index = taken[0], next(iter(stored), None)
        state = partial(gitstate.record, worktree, write=True, staged=files.staged, stored_index=stored_index)
        info, kept = await _commit(raw, baseline_id, created, label, files, state, index)
        cache = stat_index.kept_at(worktree, baseline_id)
        try:
            await offload.in_thread(_copied, kept, cache)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(partial(cache.unlink, missing_ok=True))
            raise
    return info


async def _taken(
    worktree: Worktree, raw: raw_git.RawGit, scratch: Path, index: Path | None, previous: _Previous | None
) -> _Files:
    """The files now: from git's answer of what changed since ``previous`` when it serves, else listed in full; git
    compares through ``raw``, and the baseline's own index is written in ``scratch``."""
    if previous and (modes := await _modes(worktree.root, previous.baseline_id)) is not None:
        after = await baseline_after.taken(raw, scratch, index, previous.kept, modes)
        if after:
            return _Files(after.contents, after.staged, partial(_ready, (after.kept, after.tree)))
    kept = await offload.in_thread(stat_index.load, previous.kept) if previous else None
    reuse = Snapshot(kept.entries, frozenset(), {}, kept.written_ns) if kept else None
    shot = await snapshot.take(worktree, write=True, reuse=reuse, index=index, raw=raw)
    return _Files(description.contents_of(shot), shot.staged, partial(_saved, raw, scratch, shot))


async def _commit(
    raw: raw_git.RawGit,
    baseline_id: str,
    created: float,
    label: str | None,
    files: _Files,
    state: Callable[[], Awaitable[GitState]],
    index: Path | None,
) -> tuple[BaselineInfo, Path]:
    """Write the baseline's commit of ``files`` and of the git state now (``state`` reads it), and point its ref at
    it; return its description and the index of its files. The staged tree is written from the copy ``index`` of
    the user's index (if the user has one), the worktree's tree from the index of the files, and the git state read,
    all at once."""
    root = raw.root
    items: dict[str, tuple[str, str, str]] = {}
    states: list[GitState] = []
    kept: list[Path] = []

    async def record_state() -> None:
        states.append(await state())

    async def write_staged(copy: Path) -> None:
        if staged := await scratch_index.write_tree(raw, copy, ok=(0, 128)):
            items["staged"] = ("040000", "tree", staged)

    async def write_worktree() -> None:
        path, tree = await files.indexed()
        kept.append(path)
        items["worktree"] = ("040000", "tree", tree)

    await offload.concurrently(record_state, write_worktree, *([partial(write_staged, index)] if index else []))
    now = states[0]
    meta = await offload.in_thread(description.meta_json, root, label, created, files.contents, now)
    items["meta.json"] = ("100644", "blob", (await git.run(root, "hash-object", "-w", "--stdin", stdin=meta)).decode())
    if now.index_blob:
        items["index"] = ("100644", "blob", now.index_blob)
    items.update(gitdir.tree_items(now.git_files or {}))
    listing = "".join(f"{mode} {kind} {sha.strip()}\t{name}\0" for name, (mode, kind, sha) in sorted(items.items()))
    wrapper = (await git.run(root, "mktree", "-z", stdin=listing.encode())).decode().strip()
    parents = [c for c in (now.head.commit, *(e.commit for e in now.stash)) if c]
    args = ["commit-tree", wrapper, *(a for c in dict.fromkeys(parents) for a in ("-p", c))]
    commit = (await git.run(root, *args, "-m", f"codex-subagents baseline {baseline_id}", env=_IDENTITY)).decode()
    await git.run(root, "update-ref", REF_PREFIX + baseline_id, commit.strip())
    return description.info_of(baseline_id, commit.strip(), json.loads(meta)), kept[0]


async def _previous(worktree: Worktree) -> _Previous | None:
    """The newest baseline of this worktree that still exists and whose index is kept, so unchanged files are not
    read again; its ref must stand, for a blob it names to be kept by git."""
    out = await git.run(worktree.root, "for-each-ref", "--format=%(refname:lstrip=3)", REF_PREFIX)
    ids = [name for name in out.decode().split() if description.BASELINE_ID.fullmatch(name)]
    newest = await anyio.to_thread.run_sync(stat_index.newest, worktree, ids)
    if not newest:
        return None
    baseline_id = newest.name.removesuffix(stat_index.SUFFIX)
    return _Previous(baseline_id, newest)


async def _modes(root: Path, baseline_id: str) -> dict[str, int] | None:
    """The exact permission bits the baseline ``baseline_id`` recorded, by path; None if it cannot be read."""
    try:
        _, meta = await description.read(root, baseline_id)
    except BaselineError:
        return None
    return {git_unquoted(path): perm for path, perm in meta["modes"].items()}


async def _ready(done: _T) -> _T:
    """What is already made."""
    return done


def _copied(index: Path, cache: Path) -> None:
    """Keep the index file ``index`` at ``cache``."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(index, cache)


async def _saved(raw: raw_git.RawGit, scratch: Path, shot: Snapshot) -> tuple[Path, str]:
    """Write the index of ``shot`` in ``scratch``, and have git write the worktree's tree from it, which also fills
    the index's cache of trees for the next baseline."""
    path = scratch / "kept-index"
    device = (await anyio.Path(raw.root).stat()).st_dev
    await offload.in_thread(stat_index.save, path, shot, device)
    return path, await raw_git.tree(raw, path)
