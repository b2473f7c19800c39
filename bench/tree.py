"""A large worktree shaped like a real one, built once per run and shared by P6 and P7.

Most files are committed text files of a few kilobytes, spread a hundred to a
directory; a few are large committed binaries. Beside them lie the user's
uncommitted work (untracked files), ignored files a baseline protects (logs and
``.env``), an ignored ``build/`` directory and an ignored binary too large to
protect. Files are written by Python with an mtime an hour old, so no
comparison meets a file changed too recently to trust its ``lstat``; the
committed part goes in with one ``git add`` and a commit made by plumbing.
Every blob is distinct, so git stores one object per file. After the commit
its commit and trees are packed, so every loose object is a file's blob and
`cold` can take them all away and put them back.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
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


@dataclass(frozen=True)
class Tree:
    """A built worktree and what the figures need to know of it.

    Attributes:
        root: the worktree's top, as git names it.
        files: every file in it, ignored ones included.
        size: their bytes together.
        text: the committed text files, which changes are made to.
        protected_ignored: the ignored files a baseline protects (its floor adds them with ``--force``).
    """

    root: Path
    files: int
    size: int
    text: tuple[str, ...]
    protected_ignored: tuple[str, ...]


def built(tmp: Path, files: int) -> Tree:
    """The tree of ``files`` files in ``tmp``, built now unless an earlier section of this run built it."""
    root = tmp / f"tree-{files}"
    if not (root / ".git" / "refs" / "heads" / "main").exists():
        shutil.rmtree(root, ignore_errors=True)
        _build(root, files)
    return _describe(root, files)


def _layout(files: int) -> tuple[list[str], list[str], list[str], list[str]]:
    """The committed text files, the untracked ones, the protected ignored ones and those of ``build/``."""
    untracked, ignored, in_build = files // 50, files // 200, files // 200
    text = files - untracked - ignored - in_build - 5
    committed = [f"src/d{k // 10_000:02d}/d{k // _PER_DIRECTORY % 100:02d}/f{k:06d}.txt" for k in range(text)]
    fresh = [f"new/d{k // _PER_DIRECTORY:03d}/n{k:06d}.txt" for k in range(untracked)]
    logs = [".env", *(f"src/d00/d{k % 100:02d}/run-{k:05d}.log" for k in range(ignored - 1))]
    build = [f"build/out{k // _PER_DIRECTORY:03d}/o{k:06d}.o" for k in range(in_build)]
    return committed, fresh, logs, build


def _describe(root: Path, files: int) -> Tree:
    committed, _, logs, _ = _layout(files)
    size = sum(entry.stat().st_size for entry in _walk(root))
    return Tree(root=root, files=files, size=size, text=tuple(committed), protected_ignored=tuple(logs))


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
    old = time.time_ns() - 3600 * 10**9
    made: set[Path] = set()
    binary = max(1, files * 200)
    _write_all(root, committed, made, old)
    for k in range(3):
        _write(root, f"assets/blob-{k}.bin", random.randbytes(binary), made, old)
    _write(root, ".gitignore", b"*.log\n.env\nbuild/\n*.cache\n", made, old)
    git(root, "add", "-A")
    tree = git(root, "write-tree").strip()
    commit = _git_env(root, _IDENTITY, "commit-tree", tree, "-m", "start").strip()
    git(root, "update-ref", "refs/heads/main", commit)
    _pack_commit_and_trees(root, commit)
    _write_all(root, fresh, made, old)
    _write_all(root, logs, made, old)
    _write_all(root, build, made, old)
    _write(root, "assets/dataset.cache", random.randbytes(_TOO_LARGE), made, old)


def _write_all(root: Path, paths: list[str], made: set[Path], mtime_ns: int) -> None:
    for number, path in enumerate(paths):
        offset = number * 977 % (len(_TEXT) - 8192)
        size = 256 + number * 7919 % 5000
        _write(root, path, f"{path}\n".encode() + _TEXT[offset : offset + size], made, mtime_ns)


def _write(root: Path, path: str, data: bytes, made: set[Path], mtime_ns: int) -> None:
    target = root / path
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(descriptor, data)
    finally:
        os.close(descriptor)
    os.utime(target, ns=(mtime_ns, mtime_ns))


def _git_env(root: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, input=stdin, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise BenchError(f"git {args[0]} failed in {root}: {done.stderr.strip()}")
    return done.stdout


def _pack_commit_and_trees(root: Path, commit: str) -> None:
    """Pack the commit and its trees, so that the loose objects are exactly the files' blobs."""
    listing = git(root, "ls-tree", "-r", "-t", "-z", commit).split("\0")
    trees = [record.split("\t")[0].split()[2] for record in listing if record and record.split()[1] == "tree"]
    ids = "\n".join([commit, git(root, "rev-parse", f"{commit}^{{tree}}").strip(), *trees]) + "\n"
    _git_env(root, {}, "pack-objects", "-q", "--window=0", ".git/objects/pack/pack", stdin=ids)
    git(root, "prune-packed")


@contextmanager
def cold(tree: Tree, held: Path) -> Generator[None]:
    """Take every loose object away for the block, then put back the ones the block did not write again."""
    objects = tree.root / ".git" / "objects"
    shutil.rmtree(held, ignore_errors=True)
    held.mkdir(parents=True)
    fanout = [entry.name for entry in os.scandir(objects) if len(entry.name) == 2 and entry.is_dir()]
    for name in fanout:
        (objects / name).rename(held / name)
    try:
        yield
    finally:
        for name in fanout:
            target = objects / name
            if not target.exists():
                (held / name).rename(target)
                continue
            present = set(os.listdir(target))
            for entry in os.scandir(held / name):
                if entry.name not in present:
                    os.rename(entry.path, target / entry.name)
        shutil.rmtree(held, ignore_errors=True)


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
