"""The blob ids of raw bytes that the user's index already proves, so a baseline need not read those files.

Git keeps, beside each index entry's blob id, the ``lstat`` of the file when it
was hashed, and trusts the id while the file's ``lstat`` still matches: that
stat cache is why ``git add --all`` on a large tree reads only what changed. A
baseline lets git itself judge its cache (`judged`): ``git diff-files`` on the
baseline's copy of the index names every entry whose file no longer matches
(stat compared in full, whatever ``core.checkStat`` and ``core.trustctime``
say; a racily clean entry's bytes compared), and ``git ls-files -v`` every
entry git is told not to look at (assume-unchanged, skip-worktree). Git does
that work in its own process while the snapshot takes its own ``lstat`` of the
files.

A baseline records raw bytes, so it takes an entry's id (`proven`) only where
git's blob *is* the raw bytes and git's judgement covers the file the snapshot
saw: a stage-0 entry that git did not name, of the same type as the file on
disk, not of the empty blob (an intent-to-add entry names it); whose file's
``lstat`` the snapshot took shows no change since the index was written (its
change time older than the index file's, in whole seconds), so the file git
judged is the file the snapshot saw; on whose way into git nothing converts
bytes: no ``text``, ``eol``, ``crlf``, ``filter``, ``ident`` or
``working-tree-encoding`` attribute applies to it, and ``core.autocrlf`` is
off; and that was last written after every attributes file (``.gitattributes``,
``info/attributes``, the user's own: ``core.attributesFile`` or git's default)
was, so that no rule that converted it when it was staged can have been removed
since. Every other file is hashed, as is every file when the index lists a
``.gitattributes`` missing on disk. What stays trusted as git trusts it:
``core.autocrlf`` turned off after a file was staged with it on, the file
untouched since; a file rewritten with its size kept and its modification time
set back, within the second git recorded its change time (git compares whole
seconds unless built to compare nanoseconds), which ``git add`` misses as well.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import NamedTuple

import anyio

from ..core import git, offload
from ..core.errors import GitError
from . import raw_git
from .location import Worktree

EMPTY_BLOBS = frozenset(
    {"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391", "473a0f4c3be8a93681a267e3b1e9a7dcda1185436fe141f7749120a303721813"}
)
"""The empty blob's id (SHA-1, SHA-256): what an intent-to-add entry names whatever the file holds."""
_CONVERTING = frozenset({"text", "eol", "crlf", "filter", "ident", "working-tree-encoding"})


class Judged(NamedTuple):
    """Git's judgement of an index file's stat cache."""

    written_s: int
    """When the index file was written, in whole seconds."""
    doubted: frozenset[str]
    """The entries git does not vouch for: changed since staged, or not looked at (assume-unchanged,
    skip-worktree)."""


Seen = tuple[str, int, bool, tuple[int, int, int, int]]
"""A snapshot's entry: its blob id (empty until known), permission bits, link flag, and ``lstat`` signature
(size, mtime and ctime in ns, inode)."""


async def judged(raw: raw_git.RawGit, index: Path) -> Judged | None:
    """What git makes of the stat cache of ``index`` (a copy of the user's index), comparing through ``raw``; None
    when it has none, or git cannot read it there."""
    try:
        written_s = (await anyio.to_thread.run_sync(os.stat, index)).st_mtime_ns // 10**9
    except FileNotFoundError:
        return None
    try:
        found = await offload.gathered(
            {
                "changed": partial(raw_git.run, raw, index, "diff-files", "-z", "--name-only"),
                "unlooked": partial(git.run, raw.root, "ls-files", "-z", "-v", env={"GIT_INDEX_FILE": str(index)}),
            }
        )
    except GitError:  # an index git cannot read there: nothing is proven, and every file is read
        return None
    return Judged(written_s, await offload.in_thread(_doubted, found["changed"], found["unlooked"]))


def _doubted(changed: bytes, tagged: bytes) -> frozenset[str]:
    """The paths ``diff-files`` named, and those ``ls-files -v`` tags otherwise than ``H`` (a cached entry git
    looks at): in lower case (assume-unchanged), ``S`` (skip-worktree)."""
    unlooked = [record[2:] for record in git.nul_split(tagged) if not record.startswith("H ")]
    return frozenset((*git.nul_split(changed), *unlooked))


async def proven(
    worktree: Worktree, entries: Mapping[str, Seen], indexed: Mapping[str, str], judgement: Judged | None
) -> dict[str, str]:
    """The raw blob ids the index proves for the entries without one (paths from the worktree's top).

    ``indexed`` lists the index's entries by path as ``ls-files --stage`` does (mode, blob id, stage), and
    ``judgement`` is git's of the same index file. Files the index does not prove are left out; the caller hashes
    them.
    """
    root = worktree.root
    if judgement is None or all(entry[0] for entry in entries.values()) or await _converts_line_endings(root):
        return {}
    rules = [worktree.shared_git_dir / "info" / "attributes", await _global_attributes(root)]
    found = await offload.in_thread(_matching, entries, indexed, judgement, rules)
    if not found:
        return {}
    listing = b"".join(os.fsencode(path) + b"\0" for path in found)
    answer = (await git.run(root, "check-attr", "--stdin", "-z", "--all", stdin=listing)).split(b"\0")
    for path, name in zip(answer[0:-1:3], answer[1::3], strict=False):
        if os.fsdecode(name) in _CONVERTING:
            found.pop(os.fsdecode(path), None)
    return found


async def _converts_line_endings(root: Path) -> bool:
    """Whether ``core.autocrlf`` makes git convert line endings of files that no attribute names."""
    value = await git.run(root, "config", "--get", "core.autocrlf", ok=(0, 1))
    return value.strip().lower() not in (b"", b"false", b"no", b"off", b"0")


async def _global_attributes(root: Path) -> Path:
    """The user's own attributes file: ``core.attributesFile``, or git's default beside the user's git config."""
    named = await git.run(root, "config", "--type=path", "--get", "core.attributesFile", ok=(0, 1))
    if named.strip():
        return Path(os.fsdecode(named.strip()))
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path("~", ".config"), "git", "attributes")


def _rules_written_ns(entries: Mapping[str, Seen], files: list[Path]) -> int:
    """When an attributes file was last written: the worktree's ``.gitattributes`` and the other ``files``."""
    written = [entry[3][1] for path, entry in entries.items() if path.rpartition("/")[2] == ".gitattributes"]
    for path in files:
        try:
            written.append(os.lstat(path.expanduser()).st_mtime_ns)
        except OSError:
            continue
    return max(written, default=0)


def _matching(
    entries: Mapping[str, Seen], indexed: Mapping[str, str], judgement: Judged, rules: list[Path]
) -> dict[str, str]:
    """The blob ids of the index's stage-0 entries git vouches for, of the file's type, for entries with no blob id
    yet, unchanged since the index was written and written after every attributes file."""
    if any(path.rpartition("/")[2] == ".gitattributes" and path not in entries for path in indexed):
        return {}  # a rule file removed from disk may have converted what the index holds
    rules_ns = _rules_written_ns(entries, rules)
    written_s, doubted = judgement
    found: dict[str, str] = {}
    for path, (sha, _, link, (_, mtime_ns, ctime_ns, _)) in entries.items():
        listed = indexed.get(path)
        if sha or listed is None or not listed.endswith(" 0") or path in doubted:
            continue
        mode, blob = listed[:6], listed[7:-2]
        unchanged = mtime_ns > rules_ns and ctime_ns // 10**9 < written_s
        if unchanged and (mode == "120000") == link and blob not in EMPTY_BLOBS:
            found[path] = blob
    return found
