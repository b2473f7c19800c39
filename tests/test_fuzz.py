"""Hostile and arbitrary arguments to every tool give typed errors, never a crash, a hang or a stray process.

Hypothesis draws a tool and a dictionary of arguments (the tool's own parameter names and junk
keys, with values of every JSON type and known-hostile strings), calls it through a real in-memory
MCP session, and checks the answer. The worker is a stand-in that counts its own starts, so a
refused spawn that still started a process would be caught.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from codex_subagents import build_server
from codex_subagents.config import Settings
from codex_subagents.reports import SpawnResult

PARAMETERS = {
    "codex_spawn": [
        "prompt", "cwd", "label", "model", "profile", "sandbox", "config", "wall_timeout_s", "idle_timeout_s",
    ],
    "codex_events": ["job_id", "cursor", "limit"],
    "codex_wait_any": ["job_ids", "timeout_s"],
    "codex_result": ["job_id"],
    "codex_cancel": ["job_id"],
    "codex_status": ["job_ids"],
    "codex_baseline": ["cwd", "label"],
    "codex_baselines": ["cwd"],
    "codex_baseline_drop": ["baseline_id", "cwd"],
    "codex_overlaps": ["baseline_id", "job_ids", "cwd"],
    "codex_rollback": ["baseline_id", "paths", "cwd"],
    "codex_integrity": ["job_id", "baseline_id", "cwd"],
}  # fmt: skip
HOSTILE = [
    "--help", "-rf", "--dangerously-bypass-approvals-and-sandbox", "danger-full-access", "../../..", "/etc/passwd",
    "a\x00b", "x" * 5000, "sandbox_mode=danger-full-access", "mcp_servers.codex-subagents.enabled=true",
    "$(touch /tmp/x)", "é🙂", "", " ", "-", "..", "refs/heads/main", "HEAD~1",
]  # fmt: skip
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(HOSTILE),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


class Session:
    """An in-memory MCP session whose worker counts how often it was started."""

    def __init__(self, portal: BlockingPortal, client: Client, starts: Path) -> None:
        self.portal, self.client, self.starts = portal, client, starts

    def started(self) -> int:
        """How many worker processes have started so far."""
        return len(self.starts.read_text()) if self.starts.exists() else 0


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """One server for all examples, on a real repository, with a counting stand-in worker."""
    base = tmp_path_factory.mktemp("fuzz")
    repo = base / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    starts = base / "starts"
    codex = base / "codex"
    codex.write_text(f'#!/bin/sh\nprintf x >> "{starts}"\nexec "{sys.executable}" -c "import sys; sys.exit(1)"\n')
    codex.chmod(0o755)
    settings_ = Settings(cap=2, queue_limit=1000, state_dir=base / "state", allow_roots=(repo,), codex=codex)
    with (
        start_blocking_portal("asyncio") as portal,
        portal.wrap_async_context_manager(Client(build_server(settings_))) as client,
    ):
        yield Session(portal, client, starts)


@settings(max_examples=1100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tool=st.sampled_from(sorted(PARAMETERS)),
    data=st.data(),
)
def test_every_tool_answers_hostile_arguments_with_a_typed_error_or_a_result(
    session: Session, tool: str, data: st.DataObject
) -> None:
    """No crash, no hang, and no worker started by a refused spawn."""
    keys = st.sampled_from([*PARAMETERS[tool], "junk", "__proto__"])
    arguments = data.draw(st.dictionaries(keys, json_values, max_size=5))
    before = session.started()

    async def call() -> tuple[bool, str]:
        with anyio.fail_after(30):
            try:
                result = await session.client.call_tool(tool, arguments)
            except MCPError as error:
                assert error.code == INVALID_PARAMS, error  # noqa: PT017 -- the protocol plane allows only this code
                return True, error.message
            text = " ".join(getattr(block, "text", "") for block in result.content)
            if tool == "codex_spawn" and not result.is_error:
                job = SpawnResult.model_validate(result.structured_content).job_id
                await session.client.call_tool("codex_wait_any", {"job_ids": [job], "timeout_s": 20})
        return result.is_error, text

    refused, text = session.portal.call(call)
    assert text.strip() != f"Error executing tool {tool}", f"{tool}({arguments!r}) crashed"
    if refused and tool == "codex_spawn":
        assert session.started() == before, f"a refused spawn started a worker: {arguments!r}"
