"""The stdio transport: whole JSON-RPC lines from any chunking, every byte written, and a fallback for files."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import mcp_types
import pytest
from mcp.shared.message import SessionMessage

from codex_subagents.stdio import read_lines, write_lines

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
    """Half a line, then its rest with a line that is not JSON-RPC, then EOF: two messages and one error."""
    read_end, write_end = pipe
    sink, received = anyio.create_memory_object_stream[SessionMessage | Exception](10)
    first = _ping(1)
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(read_lines, read_end, sink)
            os.write(write_end, first[:7])
            await anyio.wait_all_tasks_blocked()
            os.write(write_end, first[7:] + b"\nnot json\n" + _ping(2) + b"\n")
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


def test_serve_answers_a_client_whose_requests_come_from_a_file(tmp_path: Path) -> None:
    """stdin a regular file, which no event loop can wait on: the server falls back and still answers."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    requests = tmp_path / "requests.jsonl"
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": mcp_types.LATEST_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "file", "version": "1"},
        },
    }
    lines = [initialize, {"jsonrpc": "2.0", "method": "notifications/initialized"}]
    lines.append({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    requests.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with requests.open("rb") as stdin:
        done = subprocess.run(
            [str(SERVE), "serve", "--state-dir", str(tmp_path / "state")],
            stdin=stdin,
            capture_output=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    answers = {reply["id"]: reply for reply in map(json.loads, done.stdout.splitlines())}
    assert done.returncode == 0, done.stderr.decode()
    assert "codex_spawn" in {tool["name"] for tool in answers[2]["result"]["tools"]}
