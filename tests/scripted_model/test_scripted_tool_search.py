"""A scripted turn can search codex's deferred tools, as a bundled model does before calling MCP tools."""

from __future__ import annotations

import json

import pytest
from pydantic import JsonValue

from codex_subagents.scripted_model import ScriptError, parse_scripts
from codex_subagents.scripted_model._route import call_outputs, next_turn
from codex_subagents.scripted_model._sse import turn_steps

BOSS = parse_scripts(
    {
        "scripts": {
            "boss": {
                "match": "BOSS",
                "turns": [
                    {"tool_search": {"query": "baseline spawn"}, "calls": [{"id": "find", "shell": "true"}]},
                    {"final": "done"},
                ],
            }
        }
    }
)[0]


def test_a_tool_search_call_is_sent_as_a_client_executed_tool_search_call() -> None:
    """The item carries the query, the limit (8 unless given) and ``execution: client``, as codex expects."""
    frames = [step for step in turn_steps(BOSS, 0, {}, 100) if isinstance(step, bytes)]
    items = [json.loads(frame.split(b"\n")[1].removeprefix(b"data: "))["item"] for frame in frames[1:-1]]
    assert items[1] == {
        "type": "tool_search_call",
        "call_id": "boss:0:1",
        "execution": "client",
        "arguments": {"query": "baseline spawn", "limit": 8},
    }


def test_a_tool_search_call_in_the_history_counts_as_a_played_turn() -> None:
    """Codex resends the search and its output; the next request is answered by the next turn."""
    search: dict[str, JsonValue] = {"type": "tool_search_call", "call_id": "boss:0:1", "execution": "client"}
    found: dict[str, JsonValue] = {
        "type": "tool_search_output",
        "call_id": "boss:0:1",
        "tools": [{"type": "namespace", "name": "mcp__s", "tools": []}],
    }
    body: JsonValue = {"input": [search, found]}
    assert next_turn(BOSS, body) == 1
    assert call_outputs(body) == {"boss:0:1": '[{"type":"namespace","name":"mcp__s","tools":[]}]'}


def test_a_call_with_both_a_search_and_a_shell_command_is_refused() -> None:
    """A call is one kind of call."""
    with pytest.raises(ScriptError, match="exactly one of shell, patch, mcp or tool_search"):
        parse_scripts(
            {"scripts": {"x": {"match": "X", "turns": [{"calls": [{"shell": "ls", "tool_search": {"query": "q"}}]}]}}}
        )
