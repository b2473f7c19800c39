"""The installation scenarios: the plugin installed with the pinned Codex CLI, a boss's tool_search, and doctor.

Every scenario starts from a fresh home (``tests/install/fresh_home.py``), as a new user does. The plugin's
server command is ``uvx codex-subagents serve``; where a scenario starts the server, a ``uvx`` stand-in on
``PATH`` runs this checkout's server, so the installed plugin files are used as they are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import JsonValue
from pytest_bdd import given, parsers, scenarios, then, when

from codex_subagents.codex_home.skill import packaged_skill, skill_files
from codex_subagents.core.compat import NEWEST_TESTED, OLDEST_TESTED, REPORT_URL, dotted, install_command, range_text
from codex_subagents.scripted_model import ScriptedModel, parse_scripts
from codex_under_test import codex_under_test, release_under_test
from install.fresh_home import (
    GOOD_KEYS,
    Home,
    by_hand,
    doctor,
    install_plugin,
    make_home,
    uvx_script,
)

pytestmark = pytest.mark.codex

scenarios("installation.feature")

CACHE = Path(".codex") / "plugins" / "cache" / "codex-subagents" / "codex-subagents"


@dataclass
class Installation:
    """What an installation scenario has built and seen."""

    home: Home
    repo: Path
    code: int | None = None
    checks: dict[str, dict[str, str]] = field(default_factory=dict[str, dict[str, str]])
    boss_input: list[dict[str, JsonValue]] = field(default_factory=list[dict[str, JsonValue]])
    boss_output: str = ""
    said: str = ""
    doctor_args: list[str] = field(default_factory=list[str])


@given("a fresh home", target_fixture="installation")
def fresh_home(tmp_path: Path) -> Installation:
    """A new user's home with the pinned Codex CLI on PATH, and a git repository to work in."""
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return Installation(make_home(tmp_path), repo)


@when("the user installs the plugin from this repository")
@given("the plugin is installed with uv on PATH")
def plugin_installed(installation: Installation) -> None:
    """codex plugin marketplace add and codex plugin add, then a uvx on PATH."""
    anyio.run(install_plugin, installation.home)
    installation.home.shim("uvx", "exit 0\n")


@then(
    parsers.parse(
        'Codex lists the server "{name}" run as "{command}" with a tool timeout of {tool:d} s '
        "and a startup timeout of {startup:d} s"
    )
)
def listed(installation: Installation, name: str, command: str, tool: int, startup: int) -> None:
    """What codex mcp get reports for the server."""
    entry = json.loads(installation.home.run(["codex", "mcp", "get", name, "--json"]))
    transport = entry["transport"]
    assert " ".join([transport["command"], *transport["args"]]) == command
    assert (entry["tool_timeout_sec"], entry["startup_timeout_sec"]) == (tool, startup)


@then("the installed server entry is required and approves every tool")
def required_and_approved(installation: Installation) -> None:
    """The keys codex mcp get does not show, read from the installed plugin's server file."""
    (installed,) = (installation.home.path / CACHE).iterdir()
    entry = json.loads((installed / ".mcp.json").read_text())["mcpServers"]["codex-subagents"]
    assert (entry["required"], entry["default_tools_approval_mode"]) == (True, "approve")


@then("the installed skill is the repository's skill")
def same_skill(installation: Installation) -> None:
    """The plugin's copy of the skill, as installed, equals skills/codex-subagents."""
    (installed,) = (installation.home.path / CACHE).iterdir()
    assert skill_files(installed / "skills" / "codex-subagents") == skill_files(packaged_skill())


@when(parsers.parse('a codex exec boss set up by the plugin searches its tools for "{query}" and calls codex_baseline'))
def boss_searches(installation: Installation, query: str) -> None:
    """Install the plugin, then run a real boss whose scripted model searches and records a baseline."""
    home, repo = installation.home, installation.repo
    boss = {
        "match": "INSTALL-BOSS",
        "turns": [
            {"calls": [{"id": "find", "tool_search": {"query": query, "limit": 20}}]},
            {"calls": [{"id": "base", "mcp": {"namespace": "mcp__codex_subagents", "name": "codex_baseline"}}]},
            {"final": "{{output:base.baseline_id}}"},
        ],
    }

    async def run() -> None:
        async with ScriptedModel(parse_scripts({"scripts": {"boss": boss}})) as model:
            model.prepare_codex_home(home.codex_home)
            await install_plugin(home)
            home.shim("uvx", uvx_script(["--allow-root", str(repo), "--state-dir", str(repo.parent / "state")]))
            argv = ["codex", "exec", "--skip-git-repo-check", "--ephemeral", "-s", "read-only", "-m", "gpt-5.5"]
            installation.boss_output = await anyio.to_thread.run_sync(
                lambda: home.run([*argv, "INSTALL-BOSS record a baseline"], cwd=repo, timeout=120)
            )
            last = [request for request in model.requests if request.script == "boss"][-1]
            installation.boss_input = last.input_items("tool_search_output")

    anyio.run(run)


@then(parsers.parse('the search returned the namespace "{namespace}" with "{tools}"'))
def search_returned(installation: Installation, namespace: str, tools: str) -> None:
    """The tool_search output Codex sent back to the model."""
    (found,) = installation.boss_input
    listed: list[dict[str, Any]] = json.loads(json.dumps(found["tools"]))
    spaces = {str(space["name"]): {str(tool["name"]) for tool in space["tools"]} for space in listed}
    assert set(tools.split(", ")) <= spaces[namespace]


@then("the codex_baseline call returned a baseline id")
def baseline_returned(installation: Installation) -> None:
    """The boss's final answer is the baseline id the server returned."""
    assert installation.boss_output.strip().startswith("b-")


@given(parsers.parse('the server was added with codex mcp add and its table says "{line}"'))
def added_by_hand(installation: Installation, line: str) -> None:
    """The manual set-up with one setting changed from the documented value."""
    key = line.split(" = ")[0]
    keys = "\n".join(item for item in GOOD_KEYS.strip().splitlines() if not item.startswith(key))
    by_hand(installation.home, f"{line}\n{keys}")


@given(parsers.parse('an older copy of the skill is in "{folder}"'))
def stale_copy(installation: Installation, folder: str) -> None:
    """A copy of the skill whose text differs from the package's."""
    stale = installation.home.path / folder.removeprefix("~/")
    stale.parent.mkdir(parents=True)
    (stale / "agents").mkdir(parents=True)
    (stale / "SKILL.md").write_text((packaged_skill() / "SKILL.md").read_text().replace("Boss workflow", "Old boss"))


@when("the user runs codex-subagents doctor")
def run_doctor(installation: Installation) -> None:
    """doctor --json in the user's repository."""
    installation.code, installation.checks = doctor(installation.home, *installation.doctor_args, cwd=installation.repo)


@then(parsers.parse("doctor exits with {code:d} and no check failed"))
def passed(installation: Installation, code: int) -> None:
    """The exit code, and no failed check."""
    failed = [name for name, check in installation.checks.items() if check["status"] == "fail"]
    assert (installation.code, failed) == (code, [])


@then(parsers.parse('doctor exits with {code:d} and only the "{name}" check failed'))
def failed_only(installation: Installation, code: int, name: str) -> None:
    """The exit code, and the one failed check."""
    failed = [check for check, found in installation.checks.items() if found["status"] == "fail"]
    assert (installation.code, failed) == (code, [name])


@then(parsers.parse('the fix of "{name}" says "{text}"'))
def fix_says(installation: Installation, name: str, text: str) -> None:
    """The check's fix holds the words."""
    assert text in str(installation.checks[name]["fix"])


@then(parsers.parse('the detail of "{name}" names "{folder}"'))
def detail_names(installation: Installation, name: str, folder: str) -> None:
    """The check's detail names the folder (``~`` being the user's home)."""
    assert str(installation.home.path / folder.removeprefix("~/")) in installation.checks[name]["detail"]


@given(parsers.parse('the repository holds an executable "{file}"'))
def repository_binary(installation: Installation, file: str) -> None:
    """A program the repository ships under a name a Codex CLI could have."""
    path = installation.repo / file
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\necho codex-cli 9.9.9\n")
    path.chmod(0o755)


@given(parsers.parse('an enabled plugin "{selector}" whose manifest is not JSON'))
def broken_plugin(installation: Installation, selector: str) -> None:
    """An installed, enabled plugin whose .codex-plugin/plugin.json does not parse."""
    plugin, _, marketplace = selector.partition("@")
    manifest = installation.home.codex_home / "plugins" / "cache" / marketplace / plugin / "1.0.0" / ".codex-plugin"
    manifest.mkdir(parents=True)
    (manifest / "plugin.json").write_text("{not json")
    config = installation.home.codex_home / "config.toml"
    before = config.read_text() if config.exists() else ""
    config.write_text(f'{before}\n[plugins."{selector}"]\nenabled = true\n')


@when(parsers.parse('the user starts codex-subagents serve with "{flags}"'))
def serve_with(installation: Installation, flags: str) -> None:
    """Start the server as this user in the repository, without a client; keep its exit code and what it said."""
    done = subprocess.run(
        [sys.executable, "-m", "codex_subagents", "serve", *flags.split()],
        cwd=installation.repo,
        env=installation.home.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    installation.code, installation.said = done.returncode, done.stderr


@then(parsers.parse('it exits with code {code:d} and says "{text}"'))
def exits_saying(installation: Installation, code: int, text: str) -> None:
    """The exit code, and the words on standard error."""
    assert installation.code == code and text in installation.said, (installation.code, installation.said)


@then(parsers.parse('the detail of "{name}" says "{text}"'))
def detail_says(installation: Installation, name: str, text: str) -> None:
    """The check's detail holds the words."""
    assert text in installation.checks[name]["detail"], installation.checks[name]


@then(parsers.parse('the detail of "{name}" does not name the repository\'s "{file}"'))
def detail_not_naming(installation: Installation, name: str, file: str) -> None:
    """The check's detail does not name the repository's file."""
    assert str(installation.repo / file) not in installation.checks[name]["detail"], installation.checks[name]


@given("the server was added with codex mcp add and the documented settings")
def added_as_documented(installation: Installation) -> None:
    """The manual set-up with every setting as the docs give it."""
    by_hand(installation.home)


@given("the workers run a tested Codex CLI release")
def codex_in_range(installation: Installation) -> None:
    """Doctor is pointed at the Codex CLI under test, one end of the tested range."""
    installation.doctor_args = ["--codex", str(codex_under_test())]


@given(parsers.parse("the workers run a Codex CLI one minor release {direction} than the {end} tested"))
def untested_codex(installation: Installation, direction: str, end: str) -> None:
    """A Codex CLI that reports a release just outside the range and otherwise runs the one under test."""
    major, minor, _ = {"newest": NEWEST_TESTED, "oldest": OLDEST_TESTED}[end]
    release = (major, minor + {"newer": 1, "older": -1}[direction], 0)
    script = (
        f'[ "$1" = --version ] && {{ echo "codex-cli {dotted(release)}"; exit 0; }}\nexec {codex_under_test()} "$@"\n'
    )
    installation.doctor_args = ["--codex", str(installation.home.shim("other-codex", script))]


@then(parsers.parse('doctor exits with {code:d} and the "{name}" check is "{status}"'))
def check_is(installation: Installation, code: int, name: str, status: str) -> None:
    """The exit code, and the status of one check."""
    assert (installation.code, installation.checks[name]["status"]) == (code, status), installation.checks[name]


@then(parsers.parse('the detail of "{name}" names the release of the Codex CLI under test'))
def detail_names_release(installation: Installation, name: str) -> None:
    """Doctor checked the Codex CLI the user runs: the one the tests run, whichever end of the range."""
    detail_says(installation, name, dotted(release_under_test()))


@then(parsers.parse('the detail of "{name}" names the tested range'))
def detail_names_range(installation: Installation, name: str) -> None:
    """The check's detail gives the oldest and the newest tested release."""
    assert range_text() in installation.checks[name]["detail"]


@then(parsers.parse('the fix of "{name}" says where to report a problem and not "{word}"'))
def fix_reports(installation: Installation, name: str, word: str) -> None:
    """The check's fix gives the place to report a problem, and never the word."""
    fix = str(installation.checks[name]["fix"])
    assert REPORT_URL in fix and word not in fix.lower(), fix


@then(parsers.parse('the fix of "{name}" is the command that installs the newest tested Codex CLI'))
def fix_installs(installation: Installation, name: str) -> None:
    """The check's fix is the install command of the newest tested release."""
    assert installation.checks[name]["fix"] == install_command()
