"""Worktree paths as the tools show and accept them, for every name git can hold.

Inside the server a path is a root-relative POSIX ``str`` decoded the way the
file system names it (``os.fsdecode``), so a name that is not UTF-8 survives as
surrogate escapes. JSON cannot carry those, so the tools show such a name the
way git quotes it (``"caf\\351.txt"``, in double quotes with octal escapes) and
accept that form back: `git_quoted` and `git_unquoted` round-trip every name. A real name
that itself starts with a double quote is shown quoted too, so the form is never
ambiguous.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from .errors import InputError

_ESCAPES = {"\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r", '"': '"', "\\": "\\"}
_UNESCAPES = {value: key for key, value in _ESCAPES.items()}
_QUOTED = re.compile(r'\\([0-7]{3}|[abtnvfr"\\])')


def git_quoted(path: str) -> str:
    """The form of ``path`` a tool returns: itself, or git's quoted form when JSON or a reader needs it."""
    if not path.startswith('"') and path.isprintable() and not _has_surrogates(path):
        return path
    out = ['"']
    for char in path:
        if char in _ESCAPES:
            out.append("\\" + _ESCAPES[char])
        elif "\udc80" <= char <= "\udcff":
            out.append(f"\\{ord(char) - 0xDC00:03o}")
        elif not char.isprintable():
            out.extend(f"\\{byte:03o}" for byte in char.encode())
        else:
            out.append(char)
    return "".join([*out, '"'])


def git_unquoted(text: str) -> str:
    """The path a tool argument names, undoing `git_quoted`'s quoting.

    Raises:
        InputError: for an octal escape above ``\\377``, which names no byte.
    """
    if not (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        return text
    raw = bytearray()
    body = text[1:-1]
    position = 0
    for match in _QUOTED.finditer(body):
        raw += body[position : match.start()].encode("utf-8", "surrogateescape")
        code = match.group(1)
        if code.isdigit() and int(code, 8) > 0o377:
            raise InputError(
                f"path {text!r} has the escape \\{code}, which names no byte (\\000 to \\377); "
                "quote a name as git does, or pass it unquoted."
            )
        raw += bytes([int(code, 8)]) if code.isdigit() else _UNESCAPES[code].encode()
        position = match.end()
    raw += body[position:].encode("utf-8", "surrogateescape")
    return os.fsdecode(bytes(raw))


def confined(root: Path, text: str) -> str:
    """Return the root-relative path a tool argument names, refusing any that could leave ``root``.

    Raises:
        InputError: for an empty, absolute or ``..`` path, a leading ``-``, a NUL,
            or one whose parent directory leads outside through a symlink.
    """
    path = git_unquoted(text)
    pure = PurePosixPath(path)
    if not path or "\0" in path or path.startswith("-") or pure.is_absolute() or ".." in pure.parts:
        raise InputError(f"path {text!r} must be relative to the worktree root, without '..', not starting with '-'.")
    normal = pure.as_posix()
    if normal == ".":
        raise InputError(f"path {text!r} names the whole worktree; leave paths out to roll back every change.")
    parent = (root / normal).parent.resolve()
    if parent != root and not parent.is_relative_to(root):
        raise InputError(f"path {text!r} leads outside the worktree {str(root)!r} through a symlink.")
    return normal


def relative_to_root(root: Path, cwd: Path, path: str) -> str | None:
    """Return a worker's path (absolute, or relative to its cwd) relative to ``root``; None if outside."""
    if not path or "\0" in path:
        return None
    absolute = Path(os.path.normpath(cwd / path))
    try:
        relative = absolute.relative_to(root)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts else None


def under(path: str, prefixes: frozenset[str]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or lies below one of them (``a/b`` is below ``a``).

    Plain string cuts, not ``PurePosixPath``: this runs for every path of a snapshot.
    """
    while prefixes:
        if path in prefixes:
            return True
        cut = path.rfind("/")
        if cut <= 0:
            return False
        path = path[:cut]
    return False


def parents(path: str) -> list[str]:
    """Every directory above ``path`` (``a/b/c`` -> ``a/b``, ``a``), nearest first, by plain string cuts."""
    found: list[str] = []
    cut = path.rfind("/")
    while cut > 0:
        path = path[:cut]
        found.append(path)
        cut = path.rfind("/")
    return found


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)
