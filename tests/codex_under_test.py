"""The Codex CLI the tests run: the pinned oldest tested release, or the one ``CODEX_SUBAGENTS_CODEX`` names.

``scripts/test-codex newest`` sets the variable to the newest tested release installed beside the pinned one,
so the same suite runs against each end of the range `codex_subagents.core.compat` declares. Every test that
starts Codex itself, and the server the acceptance tests start, takes the CLI from here.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

from codex_subagents.core.compat import Version, dotted, parse_version

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PINNED = PROJECT_ROOT / "node_modules" / ".bin" / "codex"


def codex_under_test() -> Path:
    """The Codex CLI the tests run: ``CODEX_SUBAGENTS_CODEX`` if set, else the pinned one."""
    chosen = os.environ.get("CODEX_SUBAGENTS_CODEX")
    return Path(chosen) if chosen else PINNED


@cache
def release_under_test() -> Version:
    """The release of `codex_under_test`, as its ``--version`` prints it."""
    output = subprocess.run([str(codex_under_test()), "--version"], capture_output=True, text=True, check=True)
    found = parse_version(output.stdout)
    assert found is not None, f"{codex_under_test()} --version printed {output.stdout!r}"
    return found


def release_name() -> str:
    """``codex-cli 0.171.0``: how a failing contract test names the release it ran."""
    return f"codex-cli {dotted(release_under_test())}"
