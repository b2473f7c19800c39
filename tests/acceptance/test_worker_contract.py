"""The worker-contract scenarios, played through a real MCP session with real Codex workers.

The server of these scenarios also allows a plain directory that is no git
worktree, so that a spawn there can be refused for that reason alone.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import anyio
import pytest
from harness import SERVE, make_repo
from pytest_bdd import given, parsers, scenarios, then, when

from codex_subagents.codex_home.skill import packaged_skill
from codex_subagents.jobs.worker import JOB_ENV
from install.fresh_home import Home, by_hand, install_plugin, make_home, uvx_script
from world import World, first_request, items, records, spawn

scenarios("worker-contract.feature")


@pytest.fixture
def world(world: World) -> World:
    """The shared world, with one more allowed root that is not a git worktree."""
    plain = world.tmp / "plain"
    plain.mkdir()
    world.server_args += ["--allow-root", str(plain)]
    return world


def tools_offered(world: World, name: str) -> list[str]:
    """The tools of the worker's first model request, as ``namespace.name`` or ``name``."""
    offered: list[str] = []
    for tool in records(first_request(world, name)["tools"]):
        offered.append(f"{tool.get('namespace', '')}.{tool.get('name', tool['type'])}".lstrip("."))
        offered += [f"{tool['name']}.{inner['name']}" for inner in records(tool.get("tools", []))]
    return offered


def skills_listed(world: World, name: str) -> list[str]:
    """The names under "Available skills" in the worker's first model request, without a plugin's prefix."""
    listed: list[str] = []
    for message in records(first_request(world, name)["input"]):
        for part in records(message.get("content", [])):
            text = str(part.get("text", ""))
            if "<skills_instructions>" in text:
                catalog = text.split("### Available skills", 1)[1].split("\n###", 1)[0]
                listed += [found.split(":")[-1] for found in re.findall(r"^- (\S+): ", catalog, re.MULTILINE)]
    return listed


def user_home(world: World) -> Home:
    """A fresh user home whose Codex home the server and its workers read; a server start there is logged."""
    home = make_home(world.tmp)
    world.server_env |= {"HOME": str(home.path), "CODEX_HOME": str(home.codex_home), "PATH": home.env["PATH"]}
    world.isolated = False
    return home


def started_log(world: World) -> Path:
    """Where a server that a user's set-up starts notes each start (the boss's own server is started apart)."""
    return world.tmp / "server-starts.log"


def command_output(world: World, name: str) -> str:
    """What the job's one shell command printed."""
    events = records(world.live.call("codex_events", job_id=world.job(name), limit=500)["events"])
    completed = items(events, "command_execution")["completed"]
    return str(completed["aggregated_output"])


# -- the server --------------------------------------------------------------------------------------


@given("the user's Codex configuration registers this server")
def registered(world: World) -> None:
    """A Codex home whose config starts this server, as `codex mcp add` leaves it; workers read it."""
    home = world.tmp / "codex-home"
    home.mkdir()
    entry = {"command": str(SERVE), "args": ["serve"]}
    (home / "config.toml").write_text(f"[mcp_servers.codex-subagents]\ncommand = {json.dumps(entry['command'])}\n")
    with (home / "config.toml").open("a") as config:
        config.write(f"args = {json.dumps(entry['args'])}\n")
    world.server_env["CODEX_HOME"] = str(home)
    world.isolated = False


@given("the user installed the plugin")
def plugin_installed(world: World) -> None:
    """The plugin added from this repository with the Codex CLI; its ``uvx`` runs this checkout's server."""
    home = user_home(world)
    anyio.run(install_plugin, home)
    home.shim("uvx", f"echo uvx >> {started_log(world)}\n" + uvx_script([]))


@given("the user added this server with codex mcp add and copied the skill to their Codex home")
def added_by_hand(world: World) -> None:
    """The documented manual set-up: codex mcp add, then the skill copied to ``$CODEX_HOME/skills``."""
    home = user_home(world)
    by_hand(home)
    command = home.bin / "codex-subagents"
    real = command.readlink()
    command.unlink()
    home.shim("codex-subagents", f'echo by-hand >> {started_log(world)}\nexec {real} "$@"\n')


@given(parsers.parse('the repository holds the skill in "{folder}" next to a skill "{other}"'))
def project_skill(world: World, folder: str, other: str) -> None:
    """The boss skill and one more skill, both where Codex finds a project's skills."""
    shutil.copytree(packaged_skill(), world.path(folder))
    extra = world.path(folder).parent / other
    extra.mkdir()
    (extra / "SKILL.md").write_text(f"---\nname: {other}\ndescription: The rules of this house.\n---\n\nBe tidy.\n")


@given("the server is running with a worker's environment")
def inside_a_worker(world: World) -> None:
    """A server started under a worker: the job marker is in its environment."""
    world.server_env[JOB_ENV] = "j-outer"
    world.start_server()


@given("the server is running in a directory that is not a git worktree")
def outside_git(world: World) -> None:
    """A server started, and allowed to work, only in the plain directory: a spawn's default cwd is there."""
    world.repo = world.tmp / "plain"
    world.answers["bad cwd"] = {"cwd": str(world.repo)}
    world.start_server()


@given(parsers.parse('the server is running with "{variable}" in its environment'))
def with_secret(world: World, variable: str) -> None:
    """A secret the server has and its workers must not get."""
    world.server_env[variable] = "s3cr3t-value-for-the-server-only"
    world.start_server()


# -- the boss's calls ------------------------------------------------------------------------------


@when(parsers.parse('the boss spawns a worker running script "{name}" with a cwd outside every allowed root'))
def spawn_outside(world: World, name: str) -> None:
    """A spawn into another git repository that the server was not told to allow."""
    elsewhere = make_repo(world.tmp / "elsewhere", {"x.txt": "x\n"})
    world.answers["bad cwd"] = {"cwd": str(elsewhere)}
    spawn(world, name, cwd=str(elsewhere))


@when(
    parsers.parse(
        'the boss spawns a worker running script "{name}" with a cwd in an allowed root that is not a git worktree'
    )
)
def spawn_plain(world: World, name: str) -> None:
    """A spawn into an allowed directory without git."""
    world.answers["bad cwd"] = {"cwd": str(world.tmp / "plain")}
    spawn(world, name, cwd=str(world.tmp / "plain"))


@when(parsers.parse('the boss spawns a worker running script "{name}" with config "{item}"'))
def spawn_with_config(world: World, name: str, item: str) -> None:
    """A spawn with one per-spawn config item."""
    spawn(world, name, config=[item])


# -- what the boss sees ----------------------------------------------------------------------------


@then(parsers.parse('the first model request of job "{name}" offers no tool that spawns an agent'))
def no_agent_tools(world: World, name: str) -> None:
    """Codex's own sub-agent tools are switched off for workers."""
    offered = tools_offered(world, name)
    assert offered, "the request offered no tools at all"
    assert not [tool for tool in offered if "agent" in tool], offered


@then(parsers.parse('the first model request of job "{name}" offers no tool of this server'))
def no_own_tools(world: World, name: str) -> None:
    """No tool of this server is offered, up front or deferred behind tool_search, so codex_spawn is out of reach."""
    offered = tools_offered(world, name)
    assert not [tool for tool in offered if "codex_spawn" in tool or "codex-subagents" in tool], offered
    assert "mcp__codex_subagents" not in json.dumps(first_request(world, name))


@then(parsers.parse('the first model request of job "{name}" lists no skill "{skill}"'))
def no_skill(world: World, name: str, skill: str) -> None:
    """The skill is missing from the worker's skills catalog."""
    assert skill not in skills_listed(world, name)


@then(parsers.parse('the first model request of job "{name}" lists the skill "{skill}"'))
def has_skill(world: World, name: str, skill: str) -> None:
    """The skill is in the worker's skills catalog."""
    assert skill in skills_listed(world, name)


@then("no worker started this server")
def not_started(world: World) -> None:
    """The command the user's set-up registers for the server never ran."""
    assert not started_log(world).exists(), started_log(world).read_text()


@then("no worker process was started")
def nothing_started(world: World) -> None:
    """No job exists and the model heard from no worker."""
    assert world.live.call("codex_status")["jobs"] == []
    assert world.live.model.requests == []


@then("the call is a tool error mentioning that cwd")
def names_cwd(world: World) -> None:
    """The refusal names the directory."""
    cwd = str(world.answers["bad cwd"]["cwd"])
    assert world.error is not None and cwd in world.error, world.error


@then(parsers.parse('the call is a tool error mentioning that cwd and "{words}"'))
def names_cwd_and(world: World, words: str) -> None:
    """The refusal names the directory and what it lacks."""
    names_cwd(world)
    assert world.error is not None and words in world.error, world.error


@then(parsers.parse('job "{name}" ran with the sandbox "{sandbox}"'))
def ran_with_sandbox(world: World, name: str, sandbox: str) -> None:
    """Codex told its model the sandbox mode it enforces for the worker."""
    text = json.dumps(first_request(world, name))
    assert f"`sandbox_mode` is `{sandbox}`" in text, text[:2000]


@then(parsers.parse('the output of the shell command of job "{name}" does not mention "{word}"'))
def output_lacks(world: World, name: str, word: str) -> None:
    """The worker's shell never saw it."""
    output = command_output(world, name)
    assert output and word not in output and "s3cr3t" not in output, output


@then(parsers.parse('the output of the shell command of job "{name}" mentions "{word}"'))
def output_has(world: World, name: str, word: str) -> None:
    """The worker's shell saw it."""
    assert word in command_output(world, name)


@then(parsers.parse('the first model request of job "{name}" holds "{text}" as task text'))
def task_text(world: World, name: str, text: str) -> None:
    """The flag-like prompt reached the model as words of the task."""
    assert text in json.dumps(first_request(world, name)["input"])
