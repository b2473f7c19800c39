"""The worker-contract scenarios, played through a real MCP session with real Codex workers.

The server of these scenarios also allows a plain directory that is no git
worktree, so that a spawn there can be refused for that reason alone.
"""

from __future__ import annotations

import json

import pytest
from harness import SERVE, make_repo
from pytest_bdd import given, parsers, scenarios, then, when

from codex_subagents.worker import JOB_ENV
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
    """The user's entry for this server is disabled in the worker, so codex_spawn is out of reach."""
    offered = tools_offered(world, name)
    assert not [tool for tool in offered if "codex_spawn" in tool or "codex-subagents" in tool], offered


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
