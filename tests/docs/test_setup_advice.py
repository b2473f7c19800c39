"""What the pages tell a user to type for setting up the server does what they say it does."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from codex_subagents.commands import cli

ROOT = Path(__file__).resolve().parents[2]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "skills" / "codex-subagents" / "SKILL.md",
]
PLUGIN_ENTRY = json.loads((ROOT / "plugins" / "codex-subagents" / ".mcp.json").read_text())["mcpServers"][
    "codex-subagents"
]


def registration_blocks(text: str) -> list[dict[str, object]]:
    """Each TOML block of a page that sets up this server's entry, parsed (a block without a header is one)."""
    found: list[dict[str, object]] = []
    for block in re.findall(r"```toml\n(.*?)```", text, re.DOTALL):
        if "tool_timeout_sec" not in block:
            continue
        settings = tomllib.loads(block)
        found.append(settings.get("mcp_servers", {}).get("codex-subagents", settings))
    return found


def serve_commands(text: str) -> list[list[str]]:
    """Each ``serve ...`` command a page quotes in code, as the arguments after ``serve``."""
    commands: list[list[str]] = []
    for code in re.findall(r"`([^`\n]*\bserve\b[^`\n]*)`", text):
        words = shlex.split(code)
        commands.append(words[words.index("serve") + 1 :])
    return commands


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_registration_by_hand_has_the_settings_the_plugin_ships(page: Path) -> None:
    """A by-hand entry sets each of the plugin's timeouts, approval and requirement to the plugin's value."""
    wanted = {key: value for key, value in PLUGIN_ENTRY.items() if key not in {"command", "args"}}
    assert {"startup_timeout_sec", "tool_timeout_sec", "required", "default_tools_approval_mode"} <= wanted.keys()
    for block in registration_blocks(page.read_text()):
        assert {key: block.get(key) for key in wanted} == wanted


def test_the_pages_quote_registration_blocks_to_check() -> None:
    """The check above reads the README's, getting started's, configuration's and the skill's blocks."""
    assert all(registration_blocks(page.read_text()) for page in PAGES if page.stem in {"README", "SKILL"})
    assert registration_blocks((ROOT / "docs" / "getting-started.md").read_text())
    assert registration_blocks((ROOT / "docs" / "configuration.md").read_text())


def test_the_container_advice_makes_workers_run_without_the_sandbox() -> None:
    """Every quoted ``serve`` line that permits danger-full-access also makes it the workers' sandbox."""
    advised = [
        words
        for page in PAGES
        for words in serve_commands(page.read_text())
        if "--allow-danger-full-access" in words and "--help" not in words
    ]
    assert len(advised) >= 3
    parser = cli._parser()  # pyright: ignore[reportPrivateUsage] -- the one parser the command runs
    for words in advised:
        args = parser.parse_args(["serve", *words])
        assert (args.allow_danger_full_access, args.sandbox) == (True, "danger-full-access"), words
