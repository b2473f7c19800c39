"""The scripted model server: a loopback Responses API endpoint that plays scenario scripts to codex.

`ScriptedModel` is an async context manager that owns one TCP listener and one task group; each
connection carries one request, answered from the request body alone (see `_route`), so any number
of codex processes may share the server. Every well-formed HTTP request is recorded, in memory and
optionally as JSONL, so tests can assert what codex sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream
from pydantic import JsonValue

from ._codex_config import codex_overrides, prepare_codex_home
from ._http import HttpError, HttpRequest, read_request, response_head
from ._route import UnanswerableError, call_outputs, choose_script, input_items, next_turn, user_text
from ._script import Script
from ._sse import Pause, Step, reported_usage, turn_steps

_HOST = "127.0.0.1"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received and how it answered: the script and turn, or the error."""

    time: float
    method: str
    path: str
    headers: dict[str, str]
    body: JsonValue
    status: int
    script: str | None = None
    turn: int | None = None
    error: str | None = None
    usage: JsonValue = None
    """The token counts the answer reported in ``response.completed``, for tests that check what Codex sums."""

    def input_items(self, *types: str) -> list[dict[str, JsonValue]]:
        """Return the items of the request's ``input`` whose ``type`` is one of ``types``."""
        return list(input_items(self.body, *types))

    def user_text(self) -> str:
        """Return the text of the request's user messages, where prompts and injected skills appear."""
        return user_text(self.body)

    def tools(self) -> dict[str, dict[str, JsonValue]]:
        """Return the tools offered to the model by name (by type for unnamed ones such as ``web_search``)."""
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        listed = [tool for tool in (tools if isinstance(tools, list) else []) if isinstance(tool, dict)]
        return {str(tool.get("name", tool.get("type"))): tool for tool in listed}


class _Listening:
    """A loopback TCP listener and the task group that serves each connection while the context is open."""

    def __init__(self, port: int) -> None:
        self._requested_port = port
        self._port: int | None = None
        self._stack = AsyncExitStack()

    @property
    def port(self) -> int:
        """The bound port; only known inside the context."""
        if self._port is None:
            raise RuntimeError("the scripted model is not serving; use it as `async with ScriptedModel(...)`")
        return self._port

    @property
    def base_url(self) -> str:
        """The provider ``base_url`` codex needs, ending in ``/v1``."""
        return f"http://{_HOST}:{self.port}/v1"

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            listener = await anyio.create_tcp_listener(local_host=_HOST, local_port=self._requested_port)
            stack.push_async_callback(listener.aclose)
            task_group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(task_group.cancel_scope.cancel)
            task_group.start_soon(listener.serve, self._handle, task_group)
            self._port = listener.extra(SocketAttribute.local_port)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._port = None
        await self._stack.__aexit__(exc_type, exc, tb)

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            with suppress(anyio.IncompleteRead, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self._serve_one(stream)  # the client may go away, as codex does when interrupted

    async def _serve_one(self, stream: SocketStream) -> None:
        """Answer the one request ``stream`` carries: what the server is for, given by the subclass."""
        raise NotImplementedError


class ScriptedModel(_Listening):
    """Serve ``scripts`` on ``127.0.0.1`` while the context is open; ``port=0`` picks a free port."""

    def __init__(self, scripts: Sequence[Script], *, log_path: str | Path | None = None, port: int = 0) -> None:
        self.scripts = tuple(scripts)
        self.requests: list[RecordedRequest] = []
        self._log_path = None if log_path is None else Path(log_path)
        super().__init__(port)
        self._arrived = anyio.Event()
        self._log_lock = anyio.Lock()
        self._gates: dict[str, anyio.Event] = {}

    def add_scripts(self, scripts: Sequence[Script]) -> None:
        """Serve ``scripts`` too, from the next request on (names must stay unique)."""
        taken = {script.name for script in self.scripts}
        clash = sorted(taken & {script.name for script in scripts})
        if clash:
            raise ValueError(f"scripts {clash} are already served; give new scripts new names")
        self.scripts = (*self.scripts, *scripts)

    def release(self, script_name: str) -> None:
        """Let the turns of ``script_name`` marked ``hold = true`` answer (now, or as soon as they are asked)."""
        self._gate(script_name).set()

    def _gate(self, script_name: str) -> anyio.Event:
        return self._gates.setdefault(script_name, anyio.Event())

    def codex_overrides(self, provider_name: str = "scripted", *, stream_idle_timeout_ms: int = 30_000) -> list[str]:
        """Return the ``-c`` values that point codex at this server (pass each after a ``-c``)."""
        return codex_overrides(self.base_url, provider_name, stream_idle_timeout_ms)

    def prepare_codex_home(self, path: str | Path, extra_config: str = "", provider_name: str = "scripted") -> Path:
        """Create a ``CODEX_HOME`` whose ``config.toml`` selects this server, plus ``extra_config`` TOML (see
        `prepare_codex_home`)."""
        return prepare_codex_home(self.base_url, Path(path), extra_config, provider_name)

    async def wait_for(self, predicate: Callable[[RecordedRequest], bool]) -> RecordedRequest:
        """Wait until a recorded request satisfies ``predicate`` and return the first that does."""
        while True:
            arrived = self._arrived
            if found := next((request for request in self.requests if predicate(request)), None):
                return found
            await arrived.wait()

    async def _serve_one(self, stream: SocketStream) -> None:
        received = time.time()
        try:
            request = await read_request(BufferedByteReceiveStream(stream))
        except HttpError as exc:
            await _send_text(stream, exc.status, str(exc))
            return
        body = _parse_json(request.body)
        record = RecordedRequest(received, request.method, request.path, request.headers, body, status=200)
        try:
            script, turn, steps = plan_answer(self.scripts, request, body)
        except UnanswerableError as exc:
            await self._record(replace(record, status=400, error=str(exc)))
            await _send_text(stream, 400, str(exc))
            return
        usage = reported_usage(steps)
        fail = script.turns[turn].fail
        status = fail if isinstance(fail, int) else 200
        await self._record(replace(record, status=status, script=script.name, turn=turn, usage=usage))
        await _answer(stream, script, turn, steps, self._gate(script.name))

    async def _record(self, request: RecordedRequest) -> None:
        self.requests.append(request)
        self._arrived.set()
        self._arrived = anyio.Event()
        if self._log_path is not None:
            async with self._log_lock, await anyio.open_file(self._log_path, "a", encoding="utf-8") as log:
                await log.write(json.dumps(asdict(request), ensure_ascii=False) + "\n")


def _parse_json(data: bytes) -> JsonValue:
    try:
        value: JsonValue = json.loads(data)
    except ValueError:
        return None
    return value


async def _send_text(stream: SocketStream, status: int, text: str, content_type: str = "text/plain") -> None:
    payload = text.encode()
    await stream.send(response_head(status, f"{content_type}; charset=utf-8", len(payload)) + payload)


async def _answer(stream: SocketStream, script: Script, turn: int, steps: list[Step], gate: anyio.Event) -> None:
    """Send the scripted answer: an error status, or the event stream (after the gate opens, for a held turn)."""
    fail = script.turns[turn].fail
    await anyio.sleep(script.turns[turn].delay_s)
    if isinstance(fail, int):
        error = {"error": {"message": script.turns[turn].fail_message, "type": "scripted_failure"}}
        await _send_text(stream, fail, json.dumps(error), "application/json")
        return
    await stream.send(response_head(200, "text/event-stream"))
    if script.turns[turn].hold:
        await gate.wait()
    for step in steps:
        if isinstance(step, Pause):
            await anyio.sleep(step.seconds)
        else:
            await stream.send(step)


def plan_answer(scripts: Sequence[Script], request: HttpRequest, body: JsonValue) -> tuple[Script, int, list[Step]]:
    """Choose the script, turn and events that answer ``request``.

    Raises:
        UnanswerableError: the request is not a Responses API call, or no script or turn fits it.
    """
    if request.method != "POST" or not request.path.endswith("/responses"):
        raise UnanswerableError(f"scripted model: serves only POST /v1/responses, not {request.method} {request.path}")
    if not isinstance(body, dict):
        raise UnanswerableError("scripted model: the request body is not a JSON object")
    script = choose_script(scripts, body)
    turn = next_turn(script, body)
    return script, turn, turn_steps(script, turn, call_outputs(body), len(request.body))
