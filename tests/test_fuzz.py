"""Hostile and arbitrary arguments to every tool give typed errors, never a crash, a hang or a stray process.

Hypothesis draws a tool and a dictionary of arguments (every parameter the server declares for that tool, and
junk keys, with values of every JSON type and known-hostile strings: flags, escapes, globs, git-quoted paths),
calls it through a real in-memory MCP session, and checks the answer: a refusal says what was wrong, never the
bare "Error executing tool NAME" a crash gives, and the server logs no traceback. The worker is a stand-in that
counts its own starts, so a refused spawn that still started a process would be caught.
"""

from __future__ import annotations

import logging
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
from codex_subagents.core.config import Settings
from codex_subagents.jobs.models import SpawnResult


def _parameters() -> dict[str, list[str]]:
    """Each tool's parameters, as the server declares them, so a new argument is fuzzed without a word here."""
    tools = anyio.run(build_server(Settings()).list_tools)
    return {tool.name: sorted(tool.input_schema.get("properties", {})) for tool in tools}


PARAMETERS = _parameters()
HOSTILE = [
    "--help", "-rf", "--dangerously-bypass-approvals-and-sandbox", "danger-full-access", "../../..", "/etc/passwd",
    "a\x00b", "x" * 5000, "sandbox_mode=danger-full-access", "mcp_servers.codex-subagents.enabled=true",
    'notify=["sh", "-c", "id"]', "model_provider=evil", "model=gpt-5.5",
    "$(touch /tmp/x)", "é🙂", "", " ", "-", "..", "refs/heads/main", "HEAD~1", ".git", ".git/hooks/pre-commit",
    '"\\777"', '"\\400"', '"caf\\351.txt"', '"\\"', '"', '""', '"a\\qb"', '"-x"', '"../x"', '"\\056\\056/x"',
    "*", "**", "**/*", "a/**/b", "[", "[!", "[]", "[!]", "[a-", "\\", "?", "./", "a//b", "~", "~/x", "\ud800",
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
) | st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3)


class Tracebacks(logging.Handler):
    """Keeps every log record that carries a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info is not None:
            self.records.append(record)


class Session:
    """An in-memory MCP session whose worker counts how often it was started, and the tracebacks logged."""

    def __init__(self, portal: BlockingPortal, client: Client, starts: Path, tracebacks: Tracebacks) -> None:
        self.portal, self.client, self.starts, self.tracebacks = portal, client, starts, tracebacks

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
    tracebacks = Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    try:
        with (
            start_blocking_portal("asyncio") as portal,
            portal.wrap_async_context_manager(Client(build_server(settings_))) as client,
        ):
            yield Session(portal, client, starts, tracebacks)
    finally:
        logging.getLogger().removeHandler(tracebacks)


def answers_well(session: Session, tool: str, arguments: dict[str, object]) -> None:
    """Call ``tool``: no crash or hang, no traceback logged, a refusal says why, a refused spawn starts nothing."""
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
    if refused:
        said = text.removeprefix(f"Error executing tool {tool}:").strip()
        assert said, f"{tool}({arguments!r}) was refused without a word of why"
    logged = [record.getMessage() for record in session.tracebacks.records]
    session.tracebacks.records.clear()
    assert not logged, f"{tool}({arguments!r}) logged a traceback: {logged}"
    if refused and tool == "codex_spawn":
        assert session.started() == before, f"a refused spawn started a worker: {arguments!r}"


FUZZ = settings(max_examples=90, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
"""Ninety examples for each tool: about what each got when 1,100 were shared among the tools at random."""


def hostile_call(session: Session, tool: str, data: st.DataObject) -> None:
    """Draw up to five of the tool's parameters and junk keys, with any JSON or hostile values, and call it."""
    keys = st.sampled_from([*PARAMETERS[tool], "junk", "__proto__"])
    answers_well(session, tool, data.draw(st.dictionaries(keys, json_values, max_size=5)))


@pytest.mark.parametrize("tool", sorted(set(PARAMETERS) - {"codex_baseline"}))
@FUZZ
@given(data=st.data())
def test_every_tool_answers_hostile_arguments_with_a_typed_error_or_a_result(
    session: Session, tool: str, data: st.DataObject
) -> None:
    """No crash, no hang, no traceback logged, a refusal that says why, and no worker started by a refused spawn."""
    hostile_call(session, tool, data)


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_codex_baseline_answers_hostile_arguments_with_a_typed_error_or_a_result(
    session: Session, data: st.DataObject
) -> None:
    """As for every tool, with thirty examples: most draws are answered with a whole baseline of the same repository,
    taken in a child process at a hundred times the cost of a refusal, and thirty still draw each of its two
    parameters and the junk keys many times."""
    hostile_call(session, "codex_baseline", data)


@pytest.mark.parametrize("value", [value for value in HOSTILE if value.startswith(('"', "*", "[", "?", "\\"))])
@pytest.mark.parametrize(
    ("tool", "given"), [("codex_spawn", {"prompt": "p"}), ("codex_rollback", {"baseline_id": "b-1"})]
)
def test_every_quoted_path_and_glob_in_scope_and_paths_is_answered_well(
    session: Session, tool: str, given: dict[str, object], value: str
) -> None:
    """Each git-quoted path and glob of the hostile list, in an otherwise valid call, is answered as above: drawn at
    random, the one that names no byte may never come up."""
    answers_well(session, tool, {**given, "scope" if tool == "codex_spawn" else "paths": [value]})
