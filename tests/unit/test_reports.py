"""Digests say what a job's newest event is in a few words."""

from __future__ import annotations

from codex_subagents.jobs.events import parse_line
from codex_subagents.jobs.models import describe


def said(line: str) -> str | None:
    """Describe the event a raw line becomes."""
    return describe(parse_line(line.encode(), 0, 0))


def test_each_kind_of_event_is_described_by_what_matters_in_it() -> None:
    """Commands show their exit code, patches their paths, messages their text, calls their tool."""
    assert (
        said(
            '{"type":"item.completed","item":{"id":"1","type":"command_execution","command":"make test",'
            '"aggregated_output":"","exit_code":2,"status":"failed"}}'
        )
        == "item.completed command_execution make test (exit 2)"
    )
    assert (
        said(
            '{"type":"item.started","item":{"id":"1","type":"file_change","changes":[{"path":"/w/a.py","kind":"update"}],'
            '"status":"in_progress"}}'
        )
        == "item.started file_change update /w/a.py"
    )
    assert said('{"type":"item.completed","item":{"id":"1","type":"agent_message","text":"done"}}') == (
        "item.completed agent_message done"
    )
    assert (
        said(
            '{"type":"item.completed","item":{"id":"1","type":"mcp_tool_call","server":"s","tool":"t","status":"completed"}}'
        )
        == "item.completed mcp_tool_call s.t"
    )
    assert said('{"type":"item.completed","item":{"id":"1","type":"reasoning","text":"hm"}}') == (
        "item.completed reasoning"
    )
    assert said('{"type":"turn.failed","error":{"message":"overloaded"}}') == "turn.failed overloaded"
    assert said('{"type":"error","message":"Reconnecting... 1/5"}') == "error Reconnecting... 1/5"
    assert said("garbage") == "unparsed not valid JSON: Invalid JSON: expected value at line 1 column 1"
    assert said('{"type":"turn.started"}') == "turn.started"
    assert describe(None) is None
