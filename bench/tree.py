"""A large worktree shaped like a real one, built once per run and shared by P6 and P7.

Most files are committed text files of a few kilobytes, spread a hundred to a
directory; a few are large committed binaries. Beside them lie the user's
uncommitted work (untracked text files and a new binary), ignored files a
baseline protects (logs and ``.env``), an ignored ``build/`` directory and an
ignored binary too large to protect. Files are written by Python with an mtime an hour old, so no
comparison meets a file changed too recently to trust its ``lstat``; the
committed part goes in with one ``git add`` and a commit made by plumbing.
Every blob is distinct, so git stores one object per file. `freshen` gives the
uncommitted files new contents, as a user's work in progress has, so that the
next record of the tree must store their blobs again.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .world import BenchError, git

_PER_DIRECTORY = 100
_TEXT = b"".join(
    b"%06d    value = compute(value, %d)  # keeps the previous result and folds in the next\n" % (k, k * 7919 % 10007)
    for k in range(20_000)
)
_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
}
_TOO_LARGE = 12 * 1024 * 1024
_NEW_BINARY = "assets/new-blob.bin"
_BINARY_PER_FILE = 200


@dataclass(frozen=True)
class Tree:
    """A built worktree and what the figures need to know of it.

    Attributes:
        root: the worktree's top, as git names it.
        files: every file in it, ignored ones included.
        size: their bytes together.
        text: the committed text files, which changes are made to.
        untracked: the user's uncommitted text files that are not ignored (a new binary lies beside them).
        protected_ignored: the ignored files a baseline protects (its floor adds them with ``--force``).
    """

    root: Path
    files: int
    size: int
    text: tuple[str, ...]
    untracked: tuple[str, ...]
    protected_ignored: tuple[str, ...]


def built(tmp: Path, files: int) -> Tree:
    """The tree of ``files`` files in ``tmp``, built now unless an earlier section of this run built it."""
    root = (tmp / f"tree-{files}").resolve()
    if not (root / ".git" / "refs" / "heads" / "main").exists():
        shutil.rmtree(root, ignore_errors=True)
        _build(root, files)
    return _describe(root, files)


def _layout(files: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """The committed text files, the untracked ones, the protected ignored ones and those of ``build/``."""
    untracked, ignored, in_build = files // 50, files // 200, files // 200
    text = files - untracked - ignored - in_build - 6
    committed = [f"src/d{k // 10_000:02d}/d{k // _PER_DIRECTORY % 100:02d}/f{k:06d}.txt" for k in range(text)]
    fresh = [f"new/d{k // _PER_DIRECTORY:03d}/n{k:06d}.txt" for k in range(untracked)]
    logs = [".env", *(f"src/d00/d{k % 100:02d}/run-{k:05d}.log" for k in range(ignored - 1))]
    build = [f"build/out{k // _PER_DIRECTORY:03d}/o{k:06d}.o" for k in range(in_build)]
    return committed, fresh, logs, build


def _describe(root: Path, files: int) -> Tree:
    committed, fresh, logs, _ = _layout(files)
    size = sum(entry.stat().st_size for entry in _walk(root))
    return Tree(root, files, size, text=tuple(committed), untracked=tuple(fresh), protected_ignored=tuple(logs))


def _walk(root: Path) -> Iterator[os.DirEntry[str]]:
    for entry in os.scandir(root):
        if entry.name == ".git":
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(Path(entry.path))
        else:
            yield entry


def _build(root: Path, files: int) -> None:
    committed, fresh, logs, build = _layout(files)
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    made: set[Path] = set()
    _write_all(root, committed, made, "")
    for k in range(3):
        _write(root, f"assets/blob-{k}.bin", random.randbytes(files * _BINARY_PER_FILE), made)
    _write(root, ".gitignore", b"*.log\n.env\nbuild/\n*.cache\n", made)
    git(root, "add", "-A")
    tree = git(root, "write-tree").strip()
    commit = _git_env(root, _IDENTITY, "commit-tree", tree, "-m", "start").strip()
    git(root, "update-ref", "refs/heads/main", commit)
    _write_all(root, [*fresh, *logs, *build], made, "")
    _write(root, _NEW_BINARY, random.randbytes(files * _BINARY_PER_FILE), made)
    _write(root, "assets/dataset.cache", random.randbytes(_TOO_LARGE), made)


def freshen(tree: Tree, salt: str) -> None:
    """Give every uncommitted file new contents (marked by ``salt``), none of whose blobs git has stored yet."""
    _write_all(tree.root, [*tree.untracked, *tree.protected_ignored], set(), salt)
    _write(tree.root, _NEW_BINARY, random.randbytes(tree.files * _BINARY_PER_FILE), set())


def _write_all(root: Path, paths: list[str], made: set[Path], salt: str) -> None:
    for number, path in enumerate(paths):
        offset = number * 977 % (len(_TEXT) - 8192)
        size = 256 + number * 7919 % 5000
        _write(root, path, f"{path} {salt}\n".encode() + _TEXT[offset : offset + size], made)


def _write(root: Path, path: str, data: bytes, made: set[Path]) -> None:
    """Write ``path`` with an mtime an hour old, so that no comparison distrusts its ``lstat``."""
    target = root / path
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    old = time.time_ns() - 3600 * 10**9
    os.utime(target, ns=(old, old))


def _git_env(root: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, input=stdin, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise BenchError(f"git {args[0]} failed in {root}: {done.stderr.strip()}")
    return done.stdout


def change(tree: Tree, count: int, salt: str) -> list[str]:
    """Change ``count`` files, every fourth one a new file beside them, and return their paths."""
    step = max(1, len(tree.text) // count)
    changed: list[str] = []
    for number in range(count):
        path = tree.text[number * step]
        target = tree.root / path
        if number % 4 == 3:
            path = path.replace(".txt", f"-{salt}.txt")
            (tree.root / path).write_bytes(f"added by change {salt}\n".encode())
        else:
            with target.open("ab") as stream:
                stream.write(f"changed by {salt}\n".encode())
        changed.append(path)
    return changed


def status_seconds(tree: Tree) -> float:
    """The wall time of one ``git status --porcelain`` in the tree."""
    began = time.perf_counter()
    git(tree.root, "status", "--porcelain")
    return time.perf_counter() - began
