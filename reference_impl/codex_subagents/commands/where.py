"""Where a command works: the repository it is started in, and that repository's state dir.

``serve``, ``doctor`` and the views (``watch``, ``log``, ``report``) find the state
dir the same way, so a person who starts a view where Codex runs the server sees
that server's jobs.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path


def git_dirs(here: Path) -> tuple[Path | None, Path | None]:
    """Return the worktree top and the common git dir of ``here``, or Nones outside git."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--path-format=absolute", "--git-common-dir"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return Path(out[0]), Path(out[1])


def default_state_dir(here: Path, git_dir: Path | None) -> Path:
    """Where job journals live without --state-dir: in the git dir, else under the XDG state home."""
    if git_dir is not None:
        return git_dir / "codex-subagents"
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "codex-subagents" / hashlib.sha256(str(here).encode()).hexdigest()[:16]


def state_dir(given: str | None, here: Path, git_dir: Path | None) -> Path:
    """The state dir a ``--state-dir`` names, or the default one of ``here``."""
    return Path(given).expanduser().resolve() if given else default_state_dir(here, git_dir)
