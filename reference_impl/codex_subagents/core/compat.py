"""The Codex CLI releases this server is tested with, declared once: the oldest and the newest.

The acceptance suite runs against both ends (the oldest is pinned as ``@openai/codex`` in
``package.json``, the newest as the ``codex-newest`` alias beside it). `doctor` grades the Codex a
user runs against this range, the docs print it, and the tests check that the pins match it.
A release between the ends is expected to work; one past the newest is untested, not refused.
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]

OLDEST_TESTED: Version = (0, 169, 0)
"""The oldest Codex CLI release the acceptance suite passes on; older ones are refused."""
NEWEST_TESTED: Version = (0, 171, 0)
"""The newest Codex CLI release the acceptance suite has passed on."""
REPORT_URL = "https://github.com/codex-subagents/codex-subagents/issues"
"""Where a user reports a Codex release that breaks the server."""


def dotted(version: Version) -> str:
    """Write a version as Codex prints it: ``0.171.0``."""
    return ".".join(map(str, version))


def parse_version(text: str) -> Version | None:
    """The first ``X.Y.Z`` in ``text`` (``codex --version`` prints ``codex-cli 0.171.0``), or None."""
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    return None if match is None else (int(match[1]), int(match[2]), int(match[3]))


def install_command() -> str:
    """The command that installs the newest tested Codex CLI."""
    return f"npm install -g @openai/codex@{dotted(NEWEST_TESTED)}"


def requirement() -> str:
    """What a user needs, as the README and getting started say it: ``0.169 or newer (tested up to 0.171.0)``."""
    major, minor, _ = OLDEST_TESTED
    return f"{major}.{minor} or newer (tested up to {dotted(NEWEST_TESTED)})"


def range_text() -> str:
    """The range in words, as the README and the docs say it: ``0.169.0 to 0.171.0``."""
    return f"{dotted(OLDEST_TESTED)} to {dotted(NEWEST_TESTED)}"
