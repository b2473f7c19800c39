"""Each scripted turn becomes the Responses API event stream codex 0.169 reads."""

from __future__ import annotations

import json

from inline_snapshot import snapshot
from pydantic import JsonValue

from codex_subagents.scripted_model import parse_scripts
from codex_subagents.scripted_model._sse import Pause, Step, reported_usage, sse, turn_steps

SCRIPTS = parse_scripts(
    {
        "scripts": {
            "w": {
                "match": "W",
                "turns": [
                    {
                        "reasoning": "plan",
                        "calls": [
                            {"shell": "ls {{output:prev}}", "yield_time_ms": 500, "login": False},
                            {"id": "p", "patch": "*** Begin Patch\n*** End Patch\n"},
                            {"mcp": {"namespace": "mcp__s", "name": "t", "arguments": {"id": "{{output:prev.id}}"}}},
                        ],
                    },
                    {"fail": "disconnect"},
                    {"fail": "server_error", "fail_message": "boom"},
                    {"final_json": {"job": "{{output:prev.id}}"}, "stream_chunks": 2, "stream_interval_s": 0.5},
                ],
            },
            "h": {"match": "H", "turns": [{"final": "ok", "hang_s": 2}]},
        }
    }
)
SCRIPT, HANG = SCRIPTS
OUTPUTS = {"w:0:prev": 'Output:\n{"id":"j-1"}'}


def _decode(steps: list[Step]) -> list[JsonValue]:
    """Check each frame's ``event:`` line against its data's type and return the data (pauses as seconds)."""
    decoded: list[JsonValue] = []
    for step in steps:
        if isinstance(step, Pause):
            decoded.append(step.seconds)
            continue
        event_line, data_line, blank, end = step.decode().split("\n")
        data: dict[str, JsonValue] = json.loads(data_line.removeprefix("data: "))
        assert (event_line, blank, end) == (f"event: {data['type']}", "", "")
        decoded.append(data)
    return decoded


def test_an_event_is_framed_as_event_and_data_lines() -> None:
    """The data line is compact JSON and the frame ends with a blank line."""
    assert sse({"type": "response.created", "response": {"id": "r"}}) == (
        b'event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'
    )


def test_a_tool_turn_sends_reasoning_then_each_call_with_a_turn_stamped_id() -> None:
    """Shell becomes ``exec_command``, a patch the freeform ``apply_patch``, and MCP a namespaced call."""
    assert _decode(turn_steps(SCRIPT, 0, OUTPUTS, request_bytes=400)) == snapshot(
        [
            {"type": "response.created", "response": {"id": "resp_w_0"}},
            {
                "type": "response.output_item.done",
                "item": {"type": "reasoning", "id": "rs_w_0", "summary": [{"type": "summary_text", "text": "plan"}]},
            },
            {
                "type": "response.output_item.done",
                "item": {
                    "type": "function_call",
                    "call_id": "w:0:0",
                    "name": "exec_command",
                    "arguments": '{"cmd":"ls {\\"id\\":\\"j-1\\"}","yield_time_ms":500,"login":false}',
                },
            },
            {
                "type": "response.output_item.done",
                "item": {
                    "type": "custom_tool_call",
                    "call_id": "w:0:p",
                    "name": "apply_patch",
                    "input": """\
*** Begin Patch
*** End Patch
""",
                },
            },
            {
                "type": "response.output_item.done",
                "item": {
                    "type": "function_call",
                    "call_id": "w:0:2",
                    "namespace": "mcp__s",
                    "name": "t",
                    "arguments": '{"id":"j-1"}',
                },
            },
            {
                "type": "response.completed",
                "response": {
                    "id": "resp_w_0",
                    "usage": {
                        "input_tokens": 100,
                        "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens": 115,
                        "output_tokens_details": {"reasoning_tokens": 1},
                        "total_tokens": 215,
                    },
                },
            },
        ]
    )


def test_failures_end_the_stream_without_completing_it() -> None:
    """``disconnect`` stops after ``response.created``; an error code sends ``response.failed``."""
    assert _decode(turn_steps(SCRIPT, 1, {}, 0)) == snapshot(
        [{"type": "response.created", "response": {"id": "resp_w_1"}}]
    )
    assert _decode(turn_steps(SCRIPT, 2, {}, 0))[1:] == snapshot(
        [
            {
                "type": "response.failed",
                "response": {"id": "resp_w_2", "error": {"code": "server_error", "message": "boom"}},
            }
        ]
    )


def test_a_final_answer_is_announced_streamed_in_paced_chunks_and_finished() -> None:
    """``final_json`` is rendered and sent as compact JSON, split into deltas with a pause after each."""
    assert _decode(turn_steps(SCRIPT, 3, OUTPUTS, 0))[1:-1] == snapshot(
        [
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "message", "role": "assistant", "id": "msg_w_3", "content": []},
            },
            {
                "type": "response.output_text.delta",
                "item_id": "msg_w_3",
                "output_index": 0,
                "content_index": 0,
                "delta": '{"job":',
            },
            0.5,
            {
                "type": "response.output_text.delta",
                "item_id": "msg_w_3",
                "output_index": 0,
                "content_index": 0,
                "delta": '"j-1"}',
            },
            0.5,
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": {
                    "type": "message",
                    "role": "assistant",
                    "id": "msg_w_3",
                    "content": [{"type": "output_text", "text": '{"job":"j-1"}'}],
                },
            },
        ]
    )


def test_a_hang_waits_before_response_completed() -> None:
    """``hang_s`` holds the finished response back, like a slow model that has stopped talking."""
    steps = _decode(turn_steps(HANG, 0, {}, 0))
    assert steps[-2] == 2
    assert isinstance(completed := steps[-1], dict)
    assert completed["type"] == "response.completed"


def test_a_search_turn_sends_a_finished_web_search_call_before_the_answer() -> None:
    """Codex shows a hosted web search as a web_search item; the model sends it done, then its answer."""
    (script,) = parse_scripts(
        {"scripts": {"s": {"match": "S", "turns": [{"search": "codex exec json", "final": "ok"}]}}}
    )
    decoded = _decode(turn_steps(script, 0, {}, 40))
    assert decoded[1] == {
        "type": "response.output_item.done",
        "item": {
            "type": "web_search_call",
            "id": "ws_s_0",
            "status": "completed",
            "action": {"type": "search", "query": "codex exec json"},
        },
    }
    assert [step["type"] for step in decoded if isinstance(step, dict)][-1] == "response.completed"


def test_the_reported_usage_is_the_one_in_response_completed() -> None:
    """Tests compare Codex's turn usage with what the model reported; a failed answer reports none."""
    steps = turn_steps(SCRIPT, 3, OUTPUTS, 400)
    completed = _decode(steps)[-1]
    assert isinstance(completed, dict) and isinstance(completed["response"], dict)
    assert reported_usage(steps) == completed["response"]["usage"]
    assert reported_usage(turn_steps(SCRIPT, 2, OUTPUTS, 400)) is None
