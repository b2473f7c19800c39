"""Baselines: a worktree's files, modes and git state recorded under a private ref, to compare and roll back to.

A baseline is a commit under ``refs/codex-subagents/baselines/<id>`` whose tree
holds ``worktree`` (every protected file as raw bytes), ``meta.json`` (the exact
permission bits git trees cannot hold, which ignored files are protected, what
was left out and why, HEAD, the index's digest, the stash list and the git
directory's files), ``index`` (the user's index, byte for byte), ``staged`` (what
the index stages, so its blobs stay reachable) and a ``git-<blob>`` entry for
each file of the git directory that `gitdir` records. Its parents are HEAD and
the stash entries, so nothing it refers to can be collected. A baseline belongs
to the worktree it was taken in: a linked worktree of the same repository
neither lists nor uses it. The ``lstat`` signatures of the recorded files are
kept beside, in the worktree's git directory, so a later comparison reads again
only what changed. The tools take a
baseline in a child process (`offload`): its per-path work would hold the server's interpreter.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import anyio
from pydantic import JsonValue

from ..core import git, offload
from ..core.errors import BaselineError, GitError, InputError
from ..core.paths import git_quoted, git_unquoted
from . import description, gitdir, gitstate, scratch_index, signatures, snapshot
from .description import REF_PREFIX, BaselineInfo, BaselineList, DropResult
from .gitstate import GitState
from .location import Worktree
from .snapshot import Entry, Snapshot

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_IDENTITY = {
    "GIT_AUTHOR_NAME": "codex-subagents",
    "GIT_AUTHOR_EMAIL": "codex-subagents@localhost",
    "GIT_COMMITTER_NAME": "codex-subagents",
    "GIT_COMMITTER_EMAIL": "codex-subagents@localhost",
}


@dataclass(frozen=True)
class Baseline:
    """A baseline's description and what comparing with it needs."""

    info: BaselineInfo
    snapshot: Snapshot
    state: GitState


async def create_in_child(worktree: Worktree, label: str | None) -> BaselineInfo:
    """Record the worktree as `create` does, in a child process whose per-path work stalls no tool call."""
    found = (str(worktree.root), str(worktree.git_dir), str(worktree.shared_git_dir), worktree.ignore_case)
    return BaselineInfo.model_validate(await offload.run(f"{__name__}:described", *found, label))


async def described(root: str, git_dir: str, shared_git_dir: str, ignore_case: bool, label: str | None) -> JsonValue:
    """The description of a new baseline as JSON: what the child of `create_in_child` runs, handed the worktree its
    caller found rather than asking git again."""
    worktree = Worktree(Path(root), Path(git_dir), Path(shared_git_dir), ignore_case)
    return (await create(worktree, label)).info.model_dump(mode="json")


async def create(worktree: Worktree, label: str | None) -> Baseline:
    """Record the worktree now, touching no file, nor HEAD, the index or the stash.

    The user's index is read through a copy (`scratch_index`), never written: the snapshot lists and proves
    blob ids from it and the staged tree is written from it. The worktree's tree is written from the previous
    baseline's tree (or from the copy, for a first baseline) by replacing only the entries that differ from the
    files on disk, so that git reuses its cached trees of unchanged directories.
    """
    with tempfile.TemporaryDirectory(prefix="codex-subagents-index-") as scratch:
        index = await scratch_index.copied(worktree, Path(scratch))
        previous = await _previous(worktree)
        shot, stored = await _taken(worktree, index, previous)
        where = _Where(Path(scratch), index, stored, previous)
        created = time.time()
        baseline_id = time.strftime("b-%Y%m%dT%H%M%S-", time.gmtime(created)) + uuid.uuid4().hex[:6]
        cache = signatures.kept_at(worktree, baseline_id)
        recorded: list[Baseline] = []

        async def keep() -> None:
            await offload.in_thread(signatures.save, cache, shot)

        async def record() -> None:
            written = await _record(worktree, baseline_id, created, label, shot, where)
            recorded.append(written)

        try:
            # The signatures are written while git writes the trees: Python and git processes share the cores.
            await offload.concurrently(keep, record)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(partial(cache.unlink, missing_ok=True))
            raise
    return recorded[0]


async def _taken(worktree: Worktree, index: Path | None, previous: _Previous | None) -> tuple[Snapshot, str | None]:
    """The snapshot, listed from the copy ``index`` of the user's index, and the blob of that copy, which git stores
    meanwhile: neither needs the other."""
    taken: list[Snapshot] = []
    stored: list[str] = []

    async def take() -> None:
        reuse = previous.snapshot if previous else None
        taken.append(await snapshot.take(worktree, write=True, reuse=reuse, index=index))

    async def store(copy: Path) -> None:
        stored.append(await scratch_index.stored(worktree.root, copy))

    await offload.concurrently(take, *([partial(store, index)] if index else []))
    return taken[0], stored[0] if stored else None


@dataclass(frozen=True)
class _Where:
    """What a baseline's record is written from, beside its snapshot."""

    scratch: Path
    """A scratch directory for index files."""
    index: Path | None
    """The copy of the user's index the snapshot listed; None when the user has none."""
    stored_index: str | None
    """The blob of that copy, stored while the snapshot was taken."""
    previous: _Previous | None
    """The previous baseline, whose tree the worktree's tree is written from."""


async def _record(
    worktree: Worktree, baseline_id: str, created: float, label: str | None, shot: Snapshot, where: _Where
) -> Baseline:
    """Write the baseline's commit of ``shot`` and the git state now, and point its ref at it.

    The staged tree is written from the copy of the user's index ``shot`` listed (if the user has one), and the
    worktree's tree from the previous baseline's tree when it is still there, else from that copy too (or a new
    index file).
    """
    root = worktree.root
    items: dict[str, tuple[str, str, str]] = {}
    states: list[GitState] = []

    async def record_state() -> None:
        states.append(await gitstate.record(worktree, write=True, staged=shot.staged, stored_index=where.stored_index))

    async def write_trees() -> None:
        # the staged tree first: the worktree's may be written through the same copy of the index, changing it
        if where.index and (staged := await scratch_index.write_tree(root, where.index, ok=(0, 128))):
            items["staged"] = ("040000", "tree", staged)
        items["worktree"] = ("040000", "tree", await _worktree_tree(root, shot, where))

    await offload.concurrently(record_state, write_trees)
    state = states[0]
    meta = await offload.in_thread(description.meta_json, root, label, created, shot, state)
    items["meta.json"] = ("100644", "blob", (await git.run(root, "hash-object", "-w", "--stdin", stdin=meta)).decode())
    if state.index_blob:
        items["index"] = ("100644", "blob", state.index_blob)
    items.update(gitdir.tree_items(state.git_files or {}))
    listing = "".join(f"{mode} {kind} {sha.strip()}\t{name}\0" for name, (mode, kind, sha) in sorted(items.items()))
    wrapper = (await git.run(root, "mktree", "-z", stdin=listing.encode())).decode().strip()
    parents = [c for c in (state.head.commit, *(e.commit for e in state.stash)) if c]
    args = ["commit-tree", wrapper, *(a for c in dict.fromkeys(parents) for a in ("-p", c))]
    commit = (await git.run(root, *args, "-m", f"codex-subagents baseline {baseline_id}", env=_IDENTITY)).decode()
    await git.run(root, "update-ref", REF_PREFIX + baseline_id, commit.strip())
    return Baseline(description.info_of(baseline_id, commit.strip(), json.loads(meta)), shot, state)


async def load(worktree: Worktree, baseline_id: str) -> Baseline:
    """Read back the baseline ``baseline_id`` of the worktree, with what comparing needs.

    Raises:
        InputError: for a malformed id.
        BaselineError: when this worktree has no such baseline.
    """
    commit, meta = await _read(worktree.root, baseline_id)
    kept = await offload.in_thread(signatures.load, signatures.kept_at(worktree, baseline_id))
    entries = kept.entries if kept else await _entries(worktree.root, f"{commit}:worktree", meta["modes"])
    shot = Snapshot(
        entries=entries,
        ignored=frozenset(git_unquoted(p) for p in meta["ignored"]),
        skipped={git_unquoted(p): reason for p, reason in meta["skipped"].items()},
        taken_ns=meta["taken_ns"],
    )
    return Baseline(description.info_of(baseline_id, commit, meta), shot, GitState.model_validate(meta["state"]))


class _Previous(NamedTuple):
    """The newest earlier baseline whose signatures are kept: its entries, and where its worktree's tree is."""

    snapshot: Snapshot
    tree: str
    """The worktree's tree of that baseline, as git names it by its ref."""


async def _worktree_tree(root: Path, shot: Snapshot, where: _Where) -> str:
    """The tree of ``shot``'s entries: written from the ``previous`` baseline's when its ref still stands, which
    differs from it by what changed since; else from the copy of the user's ``index`` (or a new index file)."""
    previous, scratch = where.previous, where.scratch
    earlier = await git.run(root, "rev-parse", "-q", "--verify", previous.tree, ok=(0, 1)) if previous else b""
    if previous and earlier.strip():
        fresh = scratch / "worktree-index"
        return await scratch_index.tree_after(
            root, fresh, earlier.decode().strip(), shot.entries, previous.snapshot.entries
        )
    return await scratch_index.worktree_tree(root, where.index or scratch / "index", shot)


async def _previous(worktree: Worktree) -> _Previous | None:
    """The newest kept signatures of a baseline of this worktree that still exists, so unchanged files are not read
    again; its ref must stand, for a blob it names to be kept by git."""
    out = await git.run(worktree.root, "for-each-ref", "--format=%(refname:lstrip=3)", REF_PREFIX)
    ids = [name for name in out.decode().split() if _ID.fullmatch(name)]
    newest = await anyio.to_thread.run_sync(signatures.newest, worktree, ids)
    kept = await offload.in_thread(signatures.load, newest) if newest else None
    if not kept or not newest:
        return None
    shot = Snapshot(entries=kept.entries, ignored=frozenset(), skipped={}, taken_ns=kept.taken_ns)
    return _Previous(shot, f"{REF_PREFIX}{newest.name}^{{commit}}:worktree")


async def listed(worktree: Worktree) -> BaselineList:
    """The worktree's baselines, newest first."""
    return BaselineList(baselines=[description.info_of(*found) for found in await _recorded(worktree.root)])


async def _recorded(root: Path) -> list[tuple[str, str, Any]]:
    """Each baseline of this worktree as its id, commit and metadata, newest first."""
    out = await git.run(root, "for-each-ref", "--format=%(refname:lstrip=3)", REF_PREFIX)
    found: list[tuple[str, str, Any]] = []
    for name in out.decode().split():
        try:
            found.append((name, *await _read(root, name)))
        except (BaselineError, InputError):
            continue
    return sorted(found, key=lambda item: item[2]["created_at"], reverse=True)


async def _read(root: Path, baseline_id: str) -> tuple[str, Any]:
    """The commit and the metadata of a baseline of this worktree."""
    if not _ID.fullmatch(baseline_id) or ".." in baseline_id:
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


async def drop(worktree: Worktree, baseline_id: str) -> DropResult:
    """Delete a baseline's ref and its cached signatures; the worktree is not touched."""
    baseline = await load(worktree, baseline_id)
    await git.run(worktree.root, "update-ref", "-d", baseline.info.ref, baseline.info.commit)
    cache = signatures.kept_at(worktree, baseline_id)
    await anyio.to_thread.run_sync(lambda: cache.unlink(missing_ok=True))
    return DropResult(baseline_id=baseline_id, dropped=True)


async def _entries(root: Path, tree: str, modes: dict[str, int]) -> dict[str, Entry]:
    """Entries read from a recorded tree, with no signatures, so that each file is read again."""
    entries: dict[str, Entry] = {}
    for record in git.nul_split(await git.run(root, "ls-tree", "-r", "-z", "--full-tree", tree)):
        meta, _, path = record.partition("\t")
        mode, _, sha = meta.split(" ")
        default = 0o755 if mode == "100755" else 0o644
        entries[path] = Entry(sha, 0 if mode == "120000" else modes.get(git_quoted(path), default), mode == "120000")
    return entries
