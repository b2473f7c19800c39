"""Turn one scripted turn into the Responses API server-sent events codex 0.169 expects.

The output is a list of steps, framed bytes or pauses, so the framing can be checked without
a socket and the server only has to write and sleep. Shapes follow codex's own test helpers:
``response.created``, one ``response.output_item.done`` per item (a message is also announced with
``response.output_item.added`` and streamed as ``response.output_text.delta`` parts), then
``response.completed`` with a usage block or ``response.failed`` with an error code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import JsonValue

from ._route import call_id
from ._script import Call, Script, Turn
from ._template import render, render_text


@dataclass(frozen=True)
class Pause:
    """Wait this long before the next step."""

    seconds: float


Step = bytes | Pause


def _dump(value: JsonValue) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def sse(event: dict[str, JsonValue]) -> bytes:
    """Frame one event as ``event: <type>`` and ``data: <json>`` lines and a blank line."""
    return f"event: {event['type']}\ndata: {_dump(event)}\n\n".encode()


def turn_steps(script: Script, index: int, outputs: Mapping[str, str], request_bytes: int) -> list[Step]:
    """Return the steps that answer turn ``index`` of ``script``, placeholders filled from ``outputs``.

    ``request_bytes`` sizes the plausible ``usage`` reported in ``response.completed``.

    Raises:
        UnanswerableError: a placeholder cannot be filled.
    """
    turn = script.turns[index]
    response_id = f"resp_{script.name}_{index}"
    steps: list[Step] = [sse({"type": "response.created", "response": {"id": response_id}})]
    if isinstance(turn.fail, str):
        if turn.fail != "disconnect":
            error: dict[str, JsonValue] = {"code": turn.fail, "message": turn.fail_message}
            steps.append(sse({"type": "response.failed", "response": {"id": response_id, "error": error}}))
        return steps
    items: list[dict[str, JsonValue]] = []
    if turn.reasoning is not None:
        summary: list[JsonValue] = [{"type": "summary_text", "text": turn.reasoning}]
        items.append({"type": "reasoning", "id": f"rs_{script.name}_{index}", "summary": summary})
    if turn.search is not None:
        action: dict[str, JsonValue] = {"type": "search", "query": turn.search}
        items.append(
            {"type": "web_search_call", "id": f"ws_{script.name}_{index}", "status": "completed", "action": action}
        )
    items += [_call_item(call, call_id(script, index, k, call.id), outputs) for k, call in enumerate(turn.calls)]
    steps += [sse({"type": "response.output_item.done", "item": item}) for item in items]
    text = _final_text(turn, outputs)
    if text is not None:
        steps += _message_steps(f"msg_{script.name}_{index}", len(items), text, turn)
    if turn.hang_s:
        steps.append(Pause(turn.hang_s))
    output_chars = sum(len(_dump(item)) for item in items) + len(text or "")
    usage = _usage(request_bytes, output_chars, len(turn.reasoning or ""))
    steps.append(sse({"type": "response.completed", "response": {"id": response_id, "usage": usage}}))
    return steps


def reported_usage(steps: list[Step]) -> JsonValue:
    """The usage block the steps report in ``response.completed``; None when they end otherwise."""
    last = steps[-1]
    if isinstance(last, Pause) or not last.startswith(b"event: response.completed\n"):
        return None
    data: dict[str, dict[str, JsonValue]] = json.loads(last.split(b"\n")[1].removeprefix(b"data: "))
    return data["response"]["usage"]


def _call_item(call: Call, cid: str, outputs: Mapping[str, str]) -> dict[str, JsonValue]:
    if call.patch is not None:
        patch = render_text(call.patch, outputs)
        return {"type": "custom_tool_call", "call_id": cid, "name": "apply_patch", "input": patch}
    if call.tool_search is not None:
        query: dict[str, JsonValue] = {"query": call.tool_search.query, "limit": call.tool_search.limit}
        return {"type": "tool_search_call", "call_id": cid, "execution": "client", "arguments": query}
    if call.mcp is not None:
        arguments = _dump(render(call.mcp.arguments, outputs))
        return {
            "type": "function_call",
            "call_id": cid,
            "namespace": call.mcp.namespace,
            "name": call.mcp.name,
            "arguments": arguments,
        }
    command: dict[str, JsonValue] = {"cmd": render_text(call.shell or "", outputs)}
    if call.yield_time_ms is not None:
        command["yield_time_ms"] = call.yield_time_ms
    if call.login is not None:
        command["login"] = call.login
    return {"type": "function_call", "call_id": cid, "name": "exec_command", "arguments": _dump(command)}


def _final_text(turn: Turn, outputs: Mapping[str, str]) -> str | None:
    if turn.final_json is not None:
        return _dump(render(turn.final_json, outputs))
    return None if turn.final is None else render_text(turn.final, outputs)


def _message_steps(message_id: str, position: int, text: str, turn: Turn) -> list[Step]:
    """Announce the message, send its text in ``stream_chunks`` deltas with a pause after each, then finish it."""

    def message(content: list[JsonValue]) -> dict[str, JsonValue]:
        return {"type": "message", "role": "assistant", "id": message_id, "content": content}

    steps: list[Step] = [sse({"type": "response.output_item.added", "output_index": position, "item": message([])})]
    size = -(-len(text) // turn.stream_chunks)
    for k in range(turn.stream_chunks):
        delta: dict[str, JsonValue] = {
            "type": "response.output_text.delta",
            "item_id": message_id,
            "output_index": position,
            "content_index": 0,
            "delta": text[k * size : (k + 1) * size],
        }
        steps.append(sse(delta))
        if turn.stream_interval_s:
            steps.append(Pause(turn.stream_interval_s))
    done = message([{"type": "output_text", "text": text}])
    steps.append(sse({"type": "response.output_item.done", "output_index": position, "item": done}))
    return steps


def _usage(request_bytes: int, output_chars: int, reasoning_chars: int) -> dict[str, JsonValue]:
    """Estimate token counts at four characters a token, as a real response would report them."""
    input_tokens, reasoning_tokens = request_bytes // 4, reasoning_chars // 4
    output_tokens = output_chars // 4 + reasoning_tokens
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }
