"""One Codex plugin install gives a boss the skill and the server, set up to run every tool from ``codex exec``.

The plugin is installed from this checkout with the pinned Codex CLI into a fresh home, offline,
exactly as ``codex plugin marketplace add`` and ``codex plugin add`` do it for a user. The shipped
server command is ``uvx codex-subagents serve``; a ``uvx`` stand-in on ``PATH`` runs this checkout's
server instead of fetching the package, so the installed plugin files are used as they are.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import cast

import anyio
import pytest
from fresh_home import PROJECT_ROOT, install_plugin, make_home
from pydantic import JsonValue

from boss.discovery import tool_use
from codex_subagents.codex_home.skill import packaged_skill, skill_files
from codex_subagents.commands.demo import BOSS_PROMPT, BossSetup, tell_story
from codex_subagents.core.config import find_codex

VERSION = version("codex-subagents")
PLUGIN = PROJECT_ROOT / "plugins" / "codex-subagents"


def _json(path: Path) -> dict[str, JsonValue]:
    data = json.loads(path.read_text())
    assert isinstance(data, dict)
    return cast("dict[str, JsonValue]", data)


def test_the_plugin_ships_the_one_skill_of_the_repository() -> None:
    """The plugin's copy of the skill is byte for byte skills/codex-subagents (Codex copies no symlinks).

    After editing the skill, refresh the copy: rm -rf plugins/codex-subagents/skills/codex-subagents &&
    cp -r skills/codex-subagents plugins/codex-subagents/skills/
    """
    assert skill_files(PLUGIN / "skills" / "codex-subagents") == skill_files(
        PROJECT_ROOT / "skills" / "codex-subagents"
    )


def test_the_plugin_server_waits_longer_than_the_server_and_may_run_every_tool() -> None:
    """The tool timeout outlasts the longest codex_wait_any (240 s), exec waits for the server, and no tool asks."""
    server = _json(PLUGIN / ".mcp.json")["mcpServers"]
    assert isinstance(server, dict)
    entry = server["codex-subagents"]
    assert isinstance(entry, dict)
    assert (entry["command"], entry["args"]) == ("uvx", ["codex-subagents", "serve"])
    assert isinstance(timeout := entry["tool_timeout_sec"], int) and timeout > 240
    assert isinstance(startup := entry["startup_timeout_sec"], int) and startup >= 60
    assert (entry["required"], entry["default_tools_approval_mode"]) == (True, "approve")


def test_the_plugin_carries_the_package_version() -> None:
    """plugin.json repeats pyproject's version, the one source the installed package reports."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert _json(PLUGIN / ".codex-plugin" / "plugin.json")["version"] == project["version"] == VERSION


@pytest.mark.codex
def test_one_plugin_install_registers_the_server_and_the_skill(tmp_path: Path) -> None:
    """Codex lists the server with the plugin's timeouts and holds a current copy of the skill."""
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    listed = json.loads(home.run(["codex", "mcp", "get", "codex-subagents", "--json"]))
    assert (listed["tool_timeout_sec"], listed["startup_timeout_sec"]) == (300.0, 120.0)
    (installed,) = (home.codex_home / "plugins" / "cache" / "codex-subagents" / "codex-subagents").iterdir()
    assert installed.name == VERSION
    assert skill_files(installed / "skills" / "codex-subagents") == skill_files(packaged_skill())


@pytest.mark.codex
def test_a_boss_with_the_plugin_finds_its_tools_and_recovers_from_a_collision(tmp_path: Path) -> None:
    """A real codex exec boss gets the skill and the server from the plugin alone, finds the tools with
    tool_search, and runs baseline, spawn, wait, result, overlaps, rollback and the re-runs on real workers."""
    said: list[tuple[str, str]] = []
    home = make_home(tmp_path)

    async def install(setup: BossSetup) -> Mapping[str, str]:
        await install_plugin(home, setup)
        return home.env

    def say(kind: str, text: str, *, elapsed: float | None = None) -> None:
        del elapsed
        said.append((kind, text))

    prompt = BOSS_PROMPT.replace("$codex-subagents", "$codex-subagents:codex-subagents")
    assert anyio.run(lambda: tell_story(find_codex(), tmp_path, say, prompt=prompt, install=install)) == 0, said
    log = [json.loads(line) for line in (tmp_path / "model-requests.jsonl").read_text().splitlines()]
    boss = [request["body"] for request in log if request["script"] == "boss"]
    use = tool_use(boss[-1])
    assert use.searches == 1 and use.undiscovered == []
    called = {name.rsplit(".", 1)[1] for name in use.called}
    assert {"codex_baseline", "codex_spawn", "codex_wait_any", "codex_result", "codex_overlaps"} <= called
    assert ("boss", "rolls back to the baseline: restored ['greet.py']") in said
    assert "<name>codex-subagents:codex-subagents</name>" in json.dumps(boss[0])
    greet = (tmp_path / "repo" / "greet.py").read_text()
    assert greet.index("def goodbye") < greet.index("def shout")


@pytest.mark.codex
def test_a_plugin_server_that_cannot_start_stops_the_boss_before_its_first_turn(tmp_path: Path) -> None:
    """The plugin marks the server required: codex exec fails at once instead of running without the tools."""
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    home.shim("uvx", "exit 3\n")
    argv = ["codex", "exec", "--skip-git-repo-check", "--ephemeral", "-s", "read-only", "hello"]
    done = subprocess.run(
        argv, cwd=tmp_path, env=home.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1, f"{done.stdout}\n{done.stderr}"
    assert "required MCP servers failed to initialize: codex-subagents" in done.stderr, done.stderr
