"""The tested Codex range is declared once, and the pins, the README and the install hints follow it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codex_subagents.core.compat import (
    NEWEST_TESTED,
    OLDEST_TESTED,
    dotted,
    install_command,
    parse_version,
    requirement,
)
from codex_subagents.core.config import find_codex
from codex_subagents.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_file_pins_the_oldest_as_the_default_and_the_newest_beside_it() -> None:
    """``@openai/codex`` (what scripts/test runs) is the oldest tested release; ``codex-newest`` holds the newest."""
    root = json.loads((ROOT / "package.json").read_text())["dependencies"]
    newest = json.loads((ROOT / "tools" / "codex-newest" / "package.json").read_text())["dependencies"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    pinned = (root["@openai/codex"], newest["@openai/codex"])
    assert pinned == (dotted(OLDEST_TESTED), dotted(NEWEST_TESTED))
    installed = (
        locked["node_modules/@openai/codex"]["version"],
        locked["tools/codex-newest/node_modules/@openai/codex"]["version"],
    )
    assert installed == pinned


def test_the_readme_says_the_range_not_a_pin() -> None:
    """The README names the oldest release needed and the newest tested, as `requirement` words it."""
    readme = (ROOT / "README.md").read_text()
    assert f"Codex CLI {requirement()}" in readme
    assert "@openai/codex@" not in readme


def test_a_missing_codex_is_answered_with_the_install_command_of_the_newest_tested(tmp_path: Path) -> None:
    """The hint names the newest tested release, the one doctor then passes."""
    assert install_command() == f"npm install -g @openai/codex@{dotted(NEWEST_TESTED)}"
    with pytest.raises(ConfigError) as raised:
        find_codex(tmp_path / "missing")
    assert install_command() in str(raised.value)


@pytest.mark.parametrize(
    ("printed", "version"),
    [("codex-cli 0.171.0\n", (0, 171, 0)), ("codex-cli 1.2.3-alpha.4", (1, 2, 3)), ("codex-cli dev", None)],
)
def test_a_version_is_read_from_what_codex_prints(printed: str, version: tuple[int, int, int] | None) -> None:
    """``codex --version`` gives the release; a build without one gives none."""
    assert parse_version(printed) == version
