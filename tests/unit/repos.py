"""Real git repositories for the unit tests: git run as a user would, and a repository with a first commit."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` as a user or a worker would, and return what it printed."""
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def committed(root: Path, files: dict[str, str]) -> Path:
    """Make ``root`` a repository whose first commit holds ``files`` (name -> text)."""
    root.mkdir()
    git(root, "init", "-q")
    for name, text in files.items():
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root
