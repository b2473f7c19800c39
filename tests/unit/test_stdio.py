"""The stdio transport: whole JSON-RPC lines from any chunking, every byte written, and a fallback for files."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import mcp_types
import pytest
from anyio.abc import Process
from mcp.shared.message import SessionMessage

from codex_subagents.server.stdio import read_lines, write_lines

SERVE = Path(sys.executable).parent / "codex-subagents"
pytestmark = pytest.mark.anyio


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe whose ends are non-blocking, as the transport makes its wire."""
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    os.set_blocking(write_end, False)
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):
            os.close(fd)


def _ping(number: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": number, "method": "ping"}).encode()


async def test_lines_split_across_reads_arrive_whole_and_a_bad_line_arrives_as_its_error(
    pipe: tuple[int, int],
) -> None:
    """Half a line, then its rest, a line that is not JSON-RPC and a last line ended by EOF: two messages, one error."""
    read_end, write_end = pipe
    sink, received = anyio.create_memory_object_stream[SessionMessage | Exception](10)
    first = _ping(1)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read_lines, read_end, sink)
            os.write(write_end, first[:7])
            await anyio.wait_all_tasks_blocked()
            os.write(write_end, first[7:] + b"\nnot json\n" + _ping(2))
            os.close(write_end)
        async with received:
            items = [item async for item in received]
    assert isinstance(items[1], ValueError)
    messages = [item.message for item in items if isinstance(item, SessionMessage)]
    assert len(messages) == 2
    assert [m.id for m in messages if isinstance(m, mcp_types.JSONRPCRequest)] == [1, 2]


async def test_a_message_larger_than_the_pipe_is_written_whole_while_the_reader_drains_it(
    pipe: tuple[int, int],
) -> None:
    """A 1 MiB answer meets a full pipe many times; every byte arrives, then the newline."""
    read_end, write_end = pipe
    payload = "x" * (1 << 20)
    message = mcp_types.JSONRPCResponse(jsonrpc="2.0", id=7, result={"text": payload})
    source_in, source = anyio.create_memory_object_stream[SessionMessage](1)
    received = bytearray()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(write_lines, write_end, source)
            async with source_in:
                await source_in.send(SessionMessage(message))
            while not received.endswith(b"\n"):
                await anyio.wait_readable(read_end)
                received += os.read(read_end, 1 << 16)
    assert json.loads(received)["result"]["text"] == payload


async def test_serve_answers_a_client_on_a_terminal_through_the_sdks_transport(tmp_path: Path) -> None:
    """stdin a terminal, which this transport does not wait on: the server falls back to the SDK's and answers."""
    await anyio.run_process(["git", "init", "-q"], cwd=tmp_path)
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": mcp_types.LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "terminal", "version": "1"},
        },
    }
    lines = [initialize, {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    lines.append({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    controller, terminal = os.openpty()
    tty.setraw(terminal)
    command = [str(SERVE), "serve", "--state-dir", str(tmp_path / "state")]
    try:
        with anyio.fail_after(90):
            async with await anyio.open_process(
                command, stdin=terminal, stderr=subprocess.DEVNULL, cwd=tmp_path
            ) as server:
                os.write(controller, "".join(json.dumps(line) + "\n" for line in lines).encode())
                answers = await _answers(server, until=2)
                server.terminate()
    finally:
        os.close(controller)
        os.close(terminal)
    assert "codex_spawn" in {tool["name"] for tool in answers[2]["result"]["tools"]}


async def _answers(server: Process, until: int) -> dict[int, dict[str, Any]]:
    """Read the server's answers by id until the one numbered ``until`` has come."""
    assert server.stdout is not None
    answers: dict[int, dict[str, Any]] = {}
    pending = b""
    async for chunk in server.stdout:
        *lines, pending = (pending + chunk).split(b"\n")
        answers.update((reply["id"], reply) for reply in map(json.loads, lines) if "id" in reply)
        if until in answers:
            break
    return answers
