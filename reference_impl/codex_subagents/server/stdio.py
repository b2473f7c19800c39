"""The server's stdio transport: JSON-RPC lines read and written by the event loop itself, with no thread.

The SDK's stdio transport hands every read and every write to a worker thread.
On a busy machine (eight workers compiling on two cores) each hand-off waits
for a processor twice, once for the thread and once for the loop, and one
``codex_status`` answer met several of them: its round trip grew from
milliseconds to hundreds. Here the loop reads stdin when the pipe is readable
and writes stdout itself, so an answer waits for a processor once.

Like the SDK's transport, it first moves the wire to private descriptors and
points fd 0 at the null device and fd 1 at stderr, so that nothing a child or a
stray print writes can corrupt the protocol; both are put back on exit. Only
pipes and sockets can be waited on this way: for anything else on stdin or
stdout (a file, a terminal) `serve` falls back to the SDK's transport.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

import anyio
import mcp_types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import CallToolResult, InputRequiredResult

from ..core.errors import SubagentsError

_CHUNK = 1 << 16
State = TypeVar("State")


class Server(MCPServer[State], Generic[State]):
    """An `MCPServer` whose stdio transport is this module's, where stdin and stdout allow it, and which reports a
    `SubagentsError` as the tool's error, message and all."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[State, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call the tool; a `SubagentsError` it raises becomes the SDK's `ToolError`, whose message reaches the
        client (the SDK keeps the text of any other exception on the server, as a crash's)."""
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            if isinstance(exc.__cause__, SubagentsError):
                raise ToolError(f"{exc}: {exc.__cause__}") from exc.__cause__
            raise

    async def run_stdio_async(self) -> None:
        """Serve one client over stdin and stdout until stdin closes."""
        transport = streams() if all(_pollable(fd) for fd in (0, 1)) else stdio_server()
        async with transport as (read_stream, write_stream):
            options = self._lowlevel_server.create_initialization_options()
            await self._lowlevel_server.run(read_stream, write_stream, options)


@asynccontextmanager
async def streams() -> AsyncGenerator[
    tuple[MemoryObjectReceiveStream[SessionMessage | Exception], MemoryObjectSendStream[SessionMessage]]
]:
    """Claim stdin and stdout and yield the message streams the MCP server reads and writes."""
    read_sender, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_stream, write_receiver = anyio.create_memory_object_stream[SessionMessage](0)
    with _claimed(0) as wire_in, _claimed(1) as wire_out:
        async with anyio.create_task_group() as tg:
            tg.start_soon(read_lines, wire_in, read_sender)
            tg.start_soon(write_lines, wire_out, write_receiver)
            yield read_stream, write_stream
            # The server is done: a reader still waiting for input has nothing left to give it.
            tg.cancel_scope.cancel()


async def read_lines(fd: int, sink: MemoryObjectSendStream[SessionMessage | Exception]) -> None:
    """Send each JSON-RPC line read from ``fd`` as a message (a line that is not one, as its error) until EOF."""
    async with sink:
        pending = b""
        while chunk := await _read(fd):
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                await sink.send(_message(line))
        if pending.strip():
            await sink.send(_message(pending))  # the last line, ended by EOF rather than a newline


def _message(line: bytes) -> SessionMessage | Exception:
    try:
        return SessionMessage(mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False))
    except ValueError as exc:
        return exc


async def write_lines(fd: int, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    """Write each message to ``fd`` as one JSON line, waiting only while the pipe is full."""
    async with source:
        async for item in source:
            line = item.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n"
            data = memoryview(line.encode())
            while data:
                try:
                    data = data[os.write(fd, data) :]
                except BlockingIOError:
                    await anyio.wait_writable(fd)


async def _read(fd: int) -> bytes:
    while True:
        await anyio.wait_readable(fd)
        with contextlib.suppress(BlockingIOError):
            return os.read(fd, _CHUNK)


def _pollable(fd: int) -> bool:
    """Whether ``fd`` is a pipe or a socket, which the event loop can wait on."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextlib.contextmanager
def _claimed(fd: int) -> Generator[int]:
    """Move stdin's or stdout's wire to a private non-blocking descriptor (children do not inherit it), leave
    the null device or stderr in its place, and put the wire back on exit."""
    wire = os.dup(fd)
    stand_in = os.open(os.devnull, os.O_RDONLY) if fd == 0 else os.dup(2)
    os.dup2(stand_in, fd)
    os.close(stand_in)
    os.set_blocking(wire, False)
    try:
        yield wire
    finally:
        os.set_blocking(wire, True)
        os.dup2(wire, fd)
        os.close(wire)
