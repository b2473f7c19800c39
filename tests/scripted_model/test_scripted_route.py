"""Requests are routed by their content alone, and placeholders are filled from earlier tool outputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import JsonValue

from codex_subagents.scripted_model import parse_scripts
from codex_subagents.scripted_model._route import (
    UnanswerableError,
    call_outputs,
    choose_script,
    next_turn,
    user_text,
)
from codex_subagents.scripted_model._template import render, render_text

SCRIPTS = parse_scripts(
    {
        "scripts": {
            "worker": {"match": "WORKER", "turns": [{"shell": "a"}, {"shell": "b"}, {"final": "c"}]},
            "worker-a": {"match": "WORKER-A", "turns": [{"final": "a"}]},
            "also-a": {"match": "ORKER-A!", "turns": [{"final": "a"}]},
        }
    }
)
WORKER = SCRIPTS[0]


def _request(*items: JsonValue) -> JsonValue:
    developer: JsonValue = {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}]}
    return {"input": [developer, *items]}


def _user(text: str) -> JsonValue:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _call(call_id: str, kind: str = "function_call") -> JsonValue:
    return {"type": kind, "call_id": call_id, "name": "exec_command", "arguments": "{}"}


def _output(call_id: str, output: JsonValue, kind: str = "function_call_output") -> JsonValue:
    return {"type": kind, "call_id": call_id, "output": output}


def test_only_user_messages_are_searched_for_the_marker() -> None:
    """Developer messages and tool calls never select a script; user messages are joined in order."""
    empty: JsonValue = {"type": "message", "role": "user", "content": None}
    body = _request(_user("<environment_context/>"), empty, _user("do WORKER-A"), _call("WORKER-A"))
    assert user_text(body) == "<environment_context/>\ndo WORKER-A"
    assert user_text("not a request") == ""


@pytest.mark.parametrize(
    ("prompt", "chosen"),
    [("WORKER go", "worker"), ("WORKER-A go", "worker-a"), ("WORKER-A! go", "worker-a")],
)
def test_the_longest_match_wins_and_ties_go_to_the_first_declared(prompt: str, chosen: str) -> None:
    """``WORKER-A`` beats ``WORKER``; of two equally long matches the first declared answers."""
    assert choose_script(SCRIPTS, _request(_user(prompt))).name == chosen


def test_a_request_matching_no_script_is_refused_with_the_known_markers() -> None:
    """The refusal lists every marker, since codex shows it as the turn's error."""
    with pytest.raises(UnanswerableError) as caught:
        choose_script(SCRIPTS, _request(_user("hello")))
    assert str(caught.value) == (
        "scripted model: no script's match string occurs in the user messages; "
        "known: 'WORKER' (worker), 'WORKER-A' (worker-a), 'ORKER-A!' (also-a)"
    )


@pytest.mark.parametrize(
    ("history", "turn"),
    [
        ([], 0),
        ([_call("worker:0:0"), _output("worker:0:0", "ok")], 1),
        ([_call("worker:1:x", "custom_tool_call"), _call("worker:0:0")], 2),
        ([_call("other:1:0"), _call("worker:x:0"), _call("worker:0"), _call("call_abc")], 0),
    ],
)
def test_the_turn_is_one_past_the_highest_turn_in_this_scripts_call_ids(history: list[JsonValue], turn: int) -> None:
    """Only call ids of the form ``<this script>:<turn>:<k>`` count, whatever order they come in."""
    assert next_turn(WORKER, _request(_user("WORKER"), *history)) == turn


def test_a_request_past_the_last_turn_is_refused() -> None:
    """Once every turn was played the script cannot answer again."""
    with pytest.raises(UnanswerableError, match="has only 3 turns"):
        next_turn(WORKER, _request(_call("worker:2:0")))


def test_outputs_are_read_from_strings_and_content_lists() -> None:
    """Codex sends a tool's output as a string, or as a list of text parts for some MCP results."""
    parts: JsonValue = [
        {"type": "input_text", "text": "a"},
        {"type": "input_image"},
        {"type": "input_text", "text": "b"},
    ]
    body = _request(_output("x:0:0", "plain"), _output("x:0:1", parts, "custom_tool_call_output"))
    assert call_outputs(body) == {"x:0:0": "plain", "x:0:1": "ab"}


OUTPUTS = {
    "boss:0:spawn": 'Wall time: 0.1 seconds\nOutput:\n{"job_id":"j-1","jobs":[{"id":"j-2"}],"n":3}',
    "boss:1:0": "no marker here",
    "boss:2:spawn": 'Output:\n{"job_id":"j-9"}',
}


@pytest.mark.parametrize(
    ("template", "value"),
    [
        ("{{output:0:spawn.job_id}}", "j-1"),
        ("{{output:spawn.job_id}}", "j-9"),
        ("{{output:boss:0:spawn.n}}", 3),
        ("{{output:0:spawn.jobs.0}}", {"id": "j-2"}),
        ("{{output:1:0}}", "no marker here"),
        ("job {{output:0:spawn.job_id}} of {{output:0:spawn.n}}", "job j-1 of 3"),
        ("{{output:0:spawn.jobs}}!", '[{"id":"j-2"}]!'),
    ],
)
def test_placeholders_read_fields_of_the_json_after_output(template: str, value: JsonValue) -> None:
    """A reference may be any call-id suffix (the last match wins); a lone placeholder keeps the JSON type."""
    assert render(template, OUTPUTS) == value


def test_placeholders_are_filled_inside_nested_arguments() -> None:
    """Strings in lists and objects are rendered; other values pass through."""
    arguments: JsonValue = {"ids": ["{{output:spawn.job_id}}", 7], "wait": True, "note": None}
    assert render(arguments, OUTPUTS) == {"ids": ["j-9", 7], "wait": True, "note": None}
    assert render_text("{{output:0:spawn.n}}", OUTPUTS) == "3"


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{output:nope.job_id}}", "names no call output"),
        ("{{output:1:0.job_id}}", "the output is not JSON"),
        ("{{output:0:spawn.missing}}", "no 'missing'"),
        ("{{output:0:spawn.jobs.5}}", "no '5'"),
        ("{{output:0:spawn.job_id.deeper}}", "no 'deeper'"),
    ],
)
def test_a_placeholder_that_cannot_be_filled_refuses_the_request(template: str, problem: str) -> None:
    """A bad reference becomes a 400 the test author can read, not a silently wrong command."""
    with pytest.raises(UnanswerableError, match=problem):
        render(template, OUTPUTS)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet="ab{}: .\n"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


@given(_json)
def test_values_without_placeholders_are_unchanged(value: JsonValue) -> None:
    """Rendering is the identity on any JSON value that holds no ``{{output:...}}`` placeholder."""
    assert render(value, OUTPUTS) == value
