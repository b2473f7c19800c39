"""Declared scopes: the paths a job owns, as patterns, and whether two scopes could own a common path.

A scope is a list of patterns over root-relative POSIX paths. Within one path
segment ``*`` matches any run of characters, ``?`` one character and ``[...]``
one of a set (``[!...]`` one outside it); a segment that is exactly ``**``
matches any number of segments, none included. A pattern owns every path it
matches and everything below such a path, so ``src/api`` owns
``src/api/x.py``: every pattern ends in an implicit ``/**``. `could_intersect`
decides whether two scopes could own a common path without listing any: it
walks both patterns segment by segment, and compares two segments character by
character the same way, so it is exact except between two ``[...]`` sets,
where it answers True (a scheduler may wait without need, never run two owners
of a path at once). The queue compares jobs of different worktrees through
`meets`, on the files their scopes name; where git treats a worktree's names
as case-insensitive (macOS's default), names are compared without case.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from ..core.errors import InputError
from ..core.paths import git_quoted, git_unquoted, parents, relative_to_root

MAX_PATTERNS = 256
MAX_PATTERN_CHARS = 4096
_STAR = "**"
_WILD = re.compile(r"[*?[]")
_CLASS = re.compile(r"\[!?\]?[^]]*\]")
_END_WILD = re.compile(r"[*?\]]")
_MAX_COMPARED = 250_000


def normalize(root: Path, cwd: Path, patterns: Sequence[str]) -> list[str]:
    """Return ``patterns``, given relative to ``cwd`` (or absolute), as patterns relative to ``root``.

    Raises:
        InputError: for too many or too long patterns, an empty one, a NUL, a name that is not UTF-8, a
            ``..`` after a wildcard, or a pattern that leads outside the worktree.
    """
    if len(patterns) > MAX_PATTERNS:
        raise InputError(f"scope has {len(patterns)} patterns; give at most {MAX_PATTERNS}, e.g. a directory per area.")
    return [_normal(root, cwd, pattern) for pattern in patterns]


def _normal(root: Path, cwd: Path, text: str) -> str:
    pattern = git_unquoted(text)
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InputError(f"scope pattern {text[:80]!r}... is over {MAX_PATTERN_CHARS} characters; name a directory.")
    if not pattern.strip() or "\0" in pattern:
        raise InputError(f"scope pattern {text!r} is empty or holds a NUL; give a path or glob such as 'src/**'.")
    if any("\udc80" <= char <= "\udcff" for char in pattern):  # a job's scope is journaled as JSON, UTF-8 only
        raise InputError(f"scope pattern {text!r} is not UTF-8 once unquoted; scope its directory or a glob.")
    parts = pattern.split("/")
    wild = _first_wild(parts)
    if ".." in parts[wild:]:
        raise InputError(f"scope pattern {text!r} has '..' after a wildcard; write the directory without it.")
    literal, rest = "/".join(parts[:wild]) or ("/" if wild else "."), parts[wild:]
    absolute = Path(os.path.normpath(cwd / literal))
    if absolute == root:
        return posixpath.normpath("/".join(rest)) if rest else _STAR
    head = relative_to_root(root, cwd, literal)
    if head is None:
        raise InputError(
            f"scope pattern {text!r} leads outside the worktree {str(root)!r}; "
            "give paths inside it, relative to the job's cwd."
        )
    return posixpath.normpath("/".join([head, *rest]))


def relative_to_cwd(root: Path, cwd: Path, patterns: Sequence[str]) -> list[str]:
    """Return root-relative ``patterns`` as seen from ``cwd`` (``..`` where they lie above it), for a worker."""
    cwd = Path(os.path.normpath(cwd))
    if cwd == root or not cwd.is_relative_to(root):
        return list(patterns)
    here = cwd.relative_to(root).as_posix()
    return [posixpath.relpath(pattern, here) for pattern in patterns]


def covers(patterns: Sequence[str], path: str, fold: bool = False) -> bool:
    """Whether a pattern of the scope owns the root-relative ``path``; ``fold``: names compare without case."""
    if not patterns:
        return False
    if fold:
        patterns, path = _folded(tuple(patterns)), path.casefold()
    segments = path.split("/")
    index = _index(tuple(patterns))
    heads = [path, *parents(path), ""]
    return any(_match(_segments(p), segments) for head in heads for p in index.at.get(head, ()))


def could_intersect(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether scopes ``a`` and ``b`` could own a common path; an empty scope owns nothing here."""
    if not a or not b:
        return False
    index = _index(tuple(b))
    for p in a:
        head = _head(p)
        heads = [head, *parents(head), ""] if head else [""]
        candidates = [*(q for h in heads for q in index.at.get(h, ())), *index.below.get(head, ())]
        if any(_meet(_segments(p), _segments(q), _STAR, _segment_meet) for q in candidates):
            return True
    return False


class Owned(NamedTuple):
    """A job's scope as the queue compares it with other worktrees' jobs: patterns of absolute paths, and
    whether its worktree's names ignore case."""

    patterns: tuple[str, ...]
    fold: bool


def owned(root: str | None, patterns: Sequence[str], fold: bool) -> Owned:
    """The scope of root-relative ``patterns`` in the worktree ``root``, as the files it names.

    A job in a submodule and a job in its superproject then meet on the
    submodule's files, and the same patterns in two worktrees do not meet.
    """
    if root is None:
        return Owned(tuple(patterns), fold)
    top = glob.escape(root.rstrip("/"))
    return Owned(tuple(f"{top}/{pattern}" for pattern in patterns), fold)


def meets(a: Owned, b: Owned) -> bool:
    """Whether two jobs' scopes could own a common file; names compare without case where either worktree's do."""
    if a.fold or b.fold:
        return could_intersect(_folded(a.patterns), _folded(b.patterns))
    return could_intersect(a.patterns, b.patterns)


def out_of_scope(
    root: Path, cwd: Path, patterns: Sequence[str], worker: Iterable[str], found: Iterable[str], fold: bool = False
) -> list[str]:
    """Return, shown and sorted, the paths a scoped job touched that its scope does not own.

    ``worker`` are paths the worker named (relative to ``cwd`` or absolute), ``found``
    root-relative paths seen changing; paths outside the worktree are left out,
    and an unscoped job (no patterns) is never out of its scope; ``fold``: names compare without case.
    """
    if not patterns:
        return []
    touched = {p for p in (relative_to_root(root, cwd, path) for path in worker) if p is not None}
    touched.update(found)
    return sorted(git_quoted(path) for path in touched if not covers(patterns, path, fold))


class _Index(NamedTuple):
    """A scope's patterns by their literal head (the segments before the first wildcard, "" for none).

    Two patterns can meet only if one head is the other or lies below it, and a
    pattern can own a path only if its head is the path or above it, so only
    those pairs are compared: a scope of many files costs a lookup per pattern.
    """

    at: dict[str, list[str]]
    below: dict[str, list[str]]


@lru_cache(maxsize=64)
def _index(patterns: tuple[str, ...]) -> _Index:
    at: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    for pattern in patterns:
        head = _head(pattern)
        at.setdefault(head, []).append(pattern)
        for above in [*parents(head), ""] if head else []:
            below.setdefault(above, []).append(pattern)
    return _Index(at, below)


@lru_cache(maxsize=64)
def _folded(patterns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(pattern.casefold() for pattern in patterns)


def _head(pattern: str) -> str:
    parts = pattern.split("/")
    return "/".join(parts[: _first_wild(parts)])


def _first_wild(parts: Sequence[str]) -> int:
    """The index of the first segment holding a wildcard, or the number of segments when none does."""
    return next((i for i, part in enumerate(parts) if _WILD.search(part)), len(parts))


@lru_cache(maxsize=4096)
def _segments(pattern: str) -> tuple[str, ...]:
    """The pattern's segments, runs of ``**`` as one, with the implicit ``**`` that owns what lies below a match."""
    parts: list[str] = []
    for part in [*pattern.split("/"), _STAR]:
        if not (part == _STAR and parts and parts[-1] == _STAR):
            parts.append(part)
    return tuple(parts)


def _match(pattern: tuple[str, ...], segments: Sequence[str]) -> bool:
    """Whether the segments of a path match a pattern's, ``**`` taking any number of them."""
    return _reach(
        len(pattern),
        len(segments),
        lambda i: pattern[i] == _STAR,
        lambda _: False,
        lambda i, j: fnmatch.fnmatchcase(segments[j], pattern[i]),
    )


def _meet(p: Sequence[str], q: Sequence[str], star: str, meet: Callable[[str, str], bool]) -> bool:
    """Whether some sequence matches both token sequences ``p`` and ``q``, where ``star`` matches any run."""
    return _reach(len(p), len(q), lambda i: p[i] == star, lambda j: q[j] == star, lambda i, j: meet(p[i], q[j]))


def _reach(
    p_len: int,
    q_len: int,
    p_star: Callable[[int], bool],
    q_star: Callable[[int], bool],
    meet: Callable[[int, int], bool],
) -> bool:
    """Whether both token sequences can be walked to their ends together by one sequence of items.

    A star may take the other side's token (staying put) or nothing (moving on);
    two other tokens move on together when ``meet`` says one item can match both.
    A search over the pairs of positions, without recursion, so long patterns cannot exhaust the stack.
    """
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == p_len and j == q_len:
            return True
        p_here = i < p_len and p_star(i)
        q_here = j < q_len and q_star(j)
        if p_here:
            stack.append((i + 1, j))
            if j < q_len and not q_here:
                stack.append((i, j + 1))
        if q_here:
            stack.append((i, j + 1))
            if i < p_len and not p_here:
                stack.append((i + 1, j))
        if i < p_len and j < q_len and not p_here and not q_here and meet(i, j):
            stack.append((i + 1, j + 1))
    return False


@lru_cache(maxsize=4096)
def _segment_meet(p: str, q: str) -> bool:
    """Whether one segment name can match both segment patterns.

    Literal ends that disagree settle it at once; the full comparison is
    skipped (True) for pairs too long to compare cheaply.
    """
    if p == q:
        return True
    head_p, head_q = _WILD.split(p, 1)[0], _WILD.split(q, 1)[0]
    tail_p, tail_q = _END_WILD.split(p)[-1], _END_WILD.split(q)[-1]
    if not (head_p.startswith(head_q) or head_q.startswith(head_p)):
        return False
    if not (tail_p.endswith(tail_q) or tail_q.endswith(tail_p)):
        return False
    if len(p) * len(q) > _MAX_COMPARED:
        return True
    return _meet(_tokens(p), _tokens(q), "*", _token_meet)


@lru_cache(maxsize=4096)
def _tokens(segment: str) -> tuple[str, ...]:
    """A segment pattern as tokens: ``*``, ``?``, a ``[...]`` set, or one literal character."""
    tokens: list[str] = []
    position = 0
    while position < len(segment):
        found = _CLASS.match(segment, position) if segment[position] == "[" else None
        token = found.group() if found else segment[position]
        if not (token == "*" and tokens and tokens[-1] == "*"):
            tokens.append(token)
        position += len(token)
    return tuple(tokens)


def _token_meet(p: str, q: str) -> bool:
    """Whether one character can match both tokens; two sets are assumed to share one."""
    if p == "?" or q == "?" or (len(p) > 1 and len(q) > 1):
        return True
    if len(p) > 1 or len(q) > 1:
        char, pattern = (q, p) if len(p) > 1 else (p, q)
        return fnmatch.fnmatchcase(char, pattern)
    return p == q
