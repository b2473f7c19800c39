"""A secret in the server's environment never reaches a worker's shell unless the server is told to pass it.

The server runs over stdio with ``SECRET_TOKEN`` and other secret-looking
variables in its own environment; a real Codex worker runs ``env`` in its
sandboxed shell, and the test reads the command's output from the job's
``command_execution`` event, as a boss would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_subagents.scripted_model import ScriptedModel
from machine import lacking
from reliability.support import Server, final, items, make_repo, prompt, scripts, serve

pytestmark = [pytest.mark.anyio, pytest.mark.codex]

SECRETS = {
    "SECRET_TOKEN": "s3cr3t-token-value",
    "GITHUB_TOKEN": "ghp-not-for-workers",
    "AWS_SECRET_ACCESS_KEY": "aws-not-for-workers",
}
SCRIPTS = scripts(env=[{"shell": "env", "login": False}, final()])


async def worker_environment(server: Server) -> dict[str, str]:
    """Run a worker whose shell prints its environment; return what it printed."""
    job_id = (await server.call("codex_spawn", prompt=prompt("env")))["job_id"]
    waited = await server.call("codex_wait_any", job_ids=[job_id], timeout_s=60)
    assert [job["state"] for job in items(waited["finished"])] == ["succeeded"], waited
    events = items((await server.call("codex_events", job_id=job_id, limit=500))["events"])
    completed = [event["item"] for event in events if event["type"] == "item.completed"]
    outputs = [str(item["aggregated_output"]) for item in items(completed) if item.get("type") == "command_execution"]
    assert len(outputs) == 1, events
    if "bwrap:" in outputs[0]:
        lacking(f"bubblewrap cannot sandbox commands on this machine: {outputs[0]!r}")
    return dict(line.split("=", 1) for line in outputs[0].splitlines() if "=" in line)


async def test_a_secret_of_the_server_does_not_reach_a_workers_shell(tmp_path: Path) -> None:
    """By default none of the server's secrets is in the worker's ``env``; the job marker is."""
    repo = make_repo(tmp_path / "repo")
    async with ScriptedModel(SCRIPTS) as model, serve(repo, tmp_path / "state", model, environ=SECRETS) as server:
        seen = await worker_environment(server)
    assert not set(SECRETS) & set(seen), {name: seen[name] for name in set(SECRETS) & set(seen)}
    assert not [value for value in seen.values() if value in SECRETS.values()]
    assert seen["CODEX_SUBAGENTS_JOB_ID"].startswith("j-")
    assert "PATH" in seen


async def test_env_allow_passes_exactly_the_named_secret(tmp_path: Path) -> None:
    """With ``--env-allow SECRET_TOKEN`` that one variable reaches the shell, unchanged; the others still do not."""
    repo = make_repo(tmp_path / "repo")
    allow = ("--env-allow", "SECRET_TOKEN")
    async with (
        ScriptedModel(SCRIPTS) as model,
        serve(repo, tmp_path / "state", model, *allow, environ=SECRETS) as server,
    ):
        seen = await worker_environment(server)
    assert seen["SECRET_TOKEN"] == SECRETS["SECRET_TOKEN"]
    assert "GITHUB_TOKEN" not in seen and "AWS_SECRET_ACCESS_KEY" not in seen
