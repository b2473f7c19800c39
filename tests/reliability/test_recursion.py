"""A worker that reaches this server through its own Codex MCP configuration cannot start a sub-agent.

The worker is real Codex; its configuration registers a second copy of this
server as an MCP server named ``inner``, the way a user's config would, and its
model calls ``codex_spawn`` there. Codex starts that server with only a few
variables of its own environment, so the server must find the job marker on an
ancestor process. The server is started through ``sh`` so the test can see
exactly which environment Codex gave it.

The inner server is registered ``required``, as the plugin and the docs register
this server: Codex then waits for its handshake before the first turn. A server
that is not required is simply missing from a turn that starts before it is up,
and on a busy machine that is any turn. The shell holds the server back for
``SLOW_START_S`` so that a missing ``required`` fails every run, not only the
runs of a loaded machine.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from codex_subagents.jobs.worker import JOB_ENV
from codex_subagents.scripted_model import ScriptedModel
from reliability.support import SERVE, final, items, make_repo, prompt, scripts, serve

pytestmark = [pytest.mark.anyio, pytest.mark.codex]

SCRIPTS = scripts(
    nested=[
        {"mcp": {"namespace": "mcp__inner", "name": "codex_spawn", "arguments": {"prompt": "a sub-agent"}}},
        final(),
    ]
)


SLOW_START_S = 3
"""How long the inner server takes to start: longer than an idle worker takes to reach its first turn."""


def inner_server(repo: Path, state: Path, env_file: Path) -> list[str]:
    """Worker config that registers a slow-starting copy of this server as the required MCP server ``inner``.

    Its calls are approved, and its start may take up to a minute before Codex gives up on it.
    """
    inner = [str(SERVE), "serve", "--isolated", "--allow-root", str(repo), "--state-dir", str(state)]
    script = f"env > {shlex.quote(str(env_file))}; sleep {SLOW_START_S}; exec {shlex.join(inner)}"
    settings = [
        f"mcp_servers.inner={{command = {json.dumps('sh')}, args = {json.dumps(['-c', script])}}}",
        'mcp_servers.inner.default_tools_approval_mode="approve"',
        "mcp_servers.inner.required=true",
        "mcp_servers.inner.startup_timeout_sec=60",
    ]
    return [argument for setting in settings for argument in ("--worker-config", setting)]


async def test_a_server_started_by_a_workers_codex_refuses_to_spawn(tmp_path: Path) -> None:
    """The inner server refuses codex_spawn, starts no worker, and saw the marker only on an ancestor.

    The worker's first turn already has the tools, although the server took seconds to start.
    """
    repo = make_repo(tmp_path / "repo")
    inner_state, env_file = tmp_path / "inner-state", tmp_path / "inner-env.txt"
    async with (
        ScriptedModel(SCRIPTS) as model,
        serve(repo, tmp_path / "state", model, *inner_server(repo, inner_state, env_file)) as server,
    ):
        job_id = (await server.call("codex_spawn", prompt=prompt("nested")))["job_id"]
        waited = await server.call("codex_wait_any", job_ids=[job_id], timeout_s=50)
        assert [job["state"] for job in items(waited["finished"])] == ["succeeded"], waited
        events = items((await server.call("codex_events", job_id=job_id, limit=500))["events"])
    calls = [event["item"] for event in events if event["type"] == "item.completed"]
    (call,) = [item for item in items(calls) if item["type"] == "mcp_tool_call"]
    assert (call["server"], call["tool"], call["status"]) == ("inner", "codex_spawn", "failed"), call
    assert "workers must not start sub-agents" in json.dumps(call["result"]), call
    assert not (inner_state / "jobs").exists() or not any((inner_state / "jobs").iterdir())
    passed = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert JOB_ENV not in passed, "Codex passed the marker itself: the ancestor walk is untested here"
