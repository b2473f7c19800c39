"""The server answers real HTTP clients over loopback, records what they sent, and survives clients leaving."""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from contextlib import suppress
from functools import partial
from pathlib import Path

import anyio
import httpx2
import pytest
from pydantic import JsonValue

from codex_subagents.scripted_model import ScriptedModel, parse_scripts

pytestmark = pytest.mark.anyio

SCRIPTS = parse_scripts(
    {
        "scripts": {
            "echo": {
                "match": "ECHO",
                "turns": [
                    {"calls": [{"id": "hi", "shell": "echo hi"}]},
                    {"final": "said {{output:hi}}", "stream_chunks": 2, "stream_interval_s": 0.001},
                ],
            },
            "broken": {"match": "BROKEN", "turns": [{"fail": 503, "fail_message": "overloaded"}]},
            "hang": {"match": "HANG", "turns": [{"final": "late", "hang_s": 600}]},
            "delay": {"match": "DELAY", "turns": [{"final": "late", "delay_s": 600}]},
        }
    }
)


def _body(prompt: str, *history: JsonValue) -> dict[str, JsonValue]:
    user: JsonValue = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]}
    return {"model": "gpt-5.5", "input": [user, *history], "tools": [{"type": "custom", "name": "apply_patch"}]}


def _events(text: str) -> list[dict[str, JsonValue]]:
    return [json.loads(line.removeprefix("data: ")) for line in text.splitlines() if line.startswith("data: ")]


async def _raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes and read the whole answer, for requests no HTTP client would send."""
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(request)
        answer = b""
        with suppress(anyio.EndOfStream):
            while True:
                answer += await stream.receive()
    return answer


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client that ignores proxy settings from the environment."""
    async with httpx2.AsyncClient(trust_env=False) as client:
        yield client


async def test_a_turn_is_streamed_and_the_next_request_gets_the_next_turn(
    client: httpx2.AsyncClient, tmp_path: Path
) -> None:
    """The first request gets the call; the request carrying its output gets the final answer, filled in."""
    log = tmp_path / "requests.jsonl"
    async with ScriptedModel(SCRIPTS, log_path=log) as model:
        with anyio.fail_after(5):
            first = await client.post(f"{model.base_url}/responses", json=_body("ECHO"))
            call: JsonValue = {"type": "function_call", "call_id": "echo:0:hi", "name": "exec_command"}
            output: JsonValue = {"type": "function_call_output", "call_id": "echo:0:hi", "output": "Output:\nhi\n"}
            second = await client.post(f"{model.base_url}/responses", json=_body("ECHO", call, output))
    assert first.headers["content-type"] == "text/event-stream"
    first_item = _events(first.text)[1]["item"]
    assert isinstance(first_item, dict)
    assert (first_item["call_id"], first_item["arguments"]) == ("echo:0:hi", '{"cmd":"echo hi"}')
    assert [event["type"] for event in _events(second.text)][-2:] == ["response.output_item.done", "response.completed"]
    assert _events(second.text)[-2]["item"] == {
        "type": "message",
        "role": "assistant",
        "id": "msg_echo_1",
        "content": [{"type": "output_text", "text": "said hi\n"}],
    }
    assert [(r.path, r.status, r.script, r.turn, r.error) for r in model.requests] == [
        ("/v1/responses", 200, "echo", 0, None),
        ("/v1/responses", 200, "echo", 1, None),
    ]
    assert model.requests[0].headers["content-type"] == "application/json"
    assert model.requests[0].tools() == {"apply_patch": {"type": "custom", "name": "apply_patch"}}
    assert model.requests[1].input_items("function_call_output") == [output]
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(entry["script"], entry["turn"], entry["body"]["model"]) for entry in logged] == [
        ("echo", 0, "gpt-5.5"),
        ("echo", 1, "gpt-5.5"),
    ]


async def test_a_request_matching_no_script_gets_a_400_naming_the_markers(client: httpx2.AsyncClient) -> None:
    """Codex shows a 400's body as the turn's error, so the body says what would have matched."""
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await client.post(f"{model.base_url}/responses", json=_body("hello"))
    assert answer.status_code == 400
    assert answer.text.startswith("scripted model: no script's match string occurs in the user messages; known: 'ECHO'")
    assert model.requests[0].status == 400
    assert model.requests[0].error == answer.text


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [("GET", "/v1/models", b""), ("POST", "/v1/chat/completions", b"{}"), ("POST", "/v1/responses", b"[1]")],
)
async def test_anything_but_a_responses_call_is_refused(
    client: httpx2.AsyncClient, method: str, path: str, content: bytes
) -> None:
    """Other endpoints and non-object bodies get a 400 explaining what is served."""
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await client.request(method, f"http://127.0.0.1:{model.port}{path}", content=content)
    assert answer.status_code == 400
    assert model.requests[0].error == answer.text


async def test_a_scripted_http_failure_is_sent_with_that_status(client: httpx2.AsyncClient) -> None:
    """``fail = 503`` answers with status 503 and an OpenAI-style JSON error body."""
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await client.post(f"{model.base_url}/responses", json=_body("BROKEN"))
    assert (answer.status_code, answer.json()) == (
        503,
        {"error": {"message": "overloaded", "type": "scripted_failure"}},
    )
    assert (model.requests[0].status, model.requests[0].script) == (503, "broken")


async def test_a_chunked_request_body_is_read_whole(client: httpx2.AsyncClient) -> None:
    """A body sent with ``transfer-encoding: chunked`` is reassembled before it is parsed."""
    payload = json.dumps(_body("ECHO")).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 7):
            yield payload[start : start + 7]

    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await client.post(f"{model.base_url}/responses", content=chunks())
    assert answer.status_code == 200
    assert model.requests[0].headers["transfer-encoding"] == "chunked"
    assert model.requests[0].body == _body("ECHO")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"NONSENSE\r\n\r\n", 400),
        (b"POST /v1/responses HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"POST /v1/responses HTTP/1.1\r\ncontent-length: -1\r\n\r\n", 400),
        (b"POST /v1/responses HTTP/1.1\r\ncontent-encoding: gzip\r\ncontent-length: 0\r\n\r\n", 415),
        (b"POST /v1/responses HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST /v1/responses HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n4000001\r\n", 413),
    ],
)
async def test_malformed_http_gets_a_plain_error(request_bytes: bytes, status: int) -> None:
    """Broken framing is answered with a status and a reason, never by dropping the connection."""
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await _raw_exchange(model.port, request_bytes)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    assert b"connection: close\r\n" in answer


async def test_a_chunked_body_with_trailers_is_accepted() -> None:
    """Chunk extensions and trailer headers, legal in HTTP/1.1, do not confuse the reader."""
    body = json.dumps(_body("ECHO")).encode()
    request = b"POST /v1/responses HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
    request += f"{len(body):x};ext=1\r\n".encode() + body + b"\r\n0\r\nx-trailer: 1\r\n\r\n"
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            answer = await _raw_exchange(model.port, request)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert model.requests[0].script == "echo"


async def test_slow_answers_run_side_by_side_and_clients_may_abandon_them(client: httpx2.AsyncClient) -> None:
    """A delayed and a hanging answer are in flight while a third request is answered; their clients then
    drop the connections, as an interrupted codex does, and the server carries on."""
    async with ScriptedModel(SCRIPTS) as model:
        url = f"{model.base_url}/responses"
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(partial(client.post, url, json=_body("HANG")))
                group.start_soon(partial(client.post, url, json=_body("DELAY")))
                await model.wait_for(lambda request: request.script == "hang")
                await model.wait_for(lambda request: request.script == "delay")
                assert (await client.post(url, json=_body("ECHO"))).status_code == 200
                group.cancel_scope.cancel()
            assert (await client.post(url, json=_body("ECHO"))).status_code == 200


async def test_leaving_the_context_ends_open_streams_and_stops_listening(client: httpx2.AsyncClient) -> None:
    """A stream still hanging is cut short, without ``response.completed``, and the port is closed."""
    with anyio.fail_after(5):
        async with ScriptedModel(SCRIPTS) as model:
            url = f"{model.base_url}/responses"
            response = await client.send(client.build_request("POST", url, json=_body("HANG")), stream=True)
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("data: ") and json.loads(line[6:])["type"] == "response.output_item.done":
                    break
        rest = [line async for line in lines]
        await response.aclose()
        with pytest.raises(httpx2.ConnectError):
            await client.post(url, json=_body("ECHO"))
    assert not any("response.completed" in line for line in rest)


async def test_wait_for_returns_a_request_already_recorded(client: httpx2.AsyncClient) -> None:
    """A predicate that matches an earlier request returns at once, with that request."""
    async with ScriptedModel(SCRIPTS) as model:
        with anyio.fail_after(5):
            await client.post(f"{model.base_url}/responses", json=_body("ECHO"))
            found = await model.wait_for(lambda request: request.script == "echo")
    assert found is model.requests[0]


async def test_codex_is_pointed_at_the_server_by_overrides_or_by_a_config_file(tmp_path: Path) -> None:
    """Both forms select the provider, name the ``/v1`` base URL and turn codex's retries off."""
    async with ScriptedModel(SCRIPTS) as model:
        overrides = model.codex_overrides("mock", stream_idle_timeout_ms=1000)
        home = model.prepare_codex_home(tmp_path / "home", extra_config="[features]\nshell_tool = true\n")
        expected = {
            "name": "mock",
            "base_url": f"http://127.0.0.1:{model.port}/v1",
            "wire_api": "responses",
            "request_max_retries": 0,
            "stream_max_retries": 0,
            "stream_idle_timeout_ms": 1000,
        }
    assert overrides[0] == "model_provider=mock"
    assert tomllib.loads(overrides[1]) == {"model_providers": {"mock": expected}}
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["model_provider"] == "scripted"
    assert config["model_providers"]["scripted"] == {**expected, "name": "scripted", "stream_idle_timeout_ms": 30000}
    assert config["features"] == {"shell_tool": True}


def test_the_address_is_unknown_outside_the_context() -> None:
    """Asking for the port or URL before the server listens is a programming error."""
    with pytest.raises(RuntimeError):
        _ = ScriptedModel(SCRIPTS).base_url
