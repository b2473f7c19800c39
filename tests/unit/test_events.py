"""Every line a worker prints becomes one typed event, and bad lines are kept as `unparsed`."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from inline_snapshot import snapshot

from codex_subagents.jobs.events import EVENT_ADAPTER, ItemEvent, Unparsed, parse_line
from codex_subagents.jobs.framing import LineFramer, oversize, to_event


def dump(line: bytes) -> object:
    """Parse a line and show the event as the tools return it."""
    return EVENT_ADAPTER.dump_python(parse_line(line, 7, 1.5), mode="json")


def test_a_command_item_keeps_its_command_output_and_exit_code() -> None:
    """A completed command_execution line is normalized with its fields and the server's stamp."""
    line = (
        b'{"type":"item.completed","item":{"id":"item_1","type":"command_execution",'
        b'"command":"/bin/bash -lc \'echo hi\'","aggregated_output":"hi\\n","exit_code":0,"status":"completed",'
        b'"extra":"dropped"}}'
    )
    assert dump(line) == snapshot(
        {
            "seq": 7,
            "at": 1.5,
            "type": "item.completed",
            "item": {
                "type": "command_execution",
                "id": "item_1",
                "command": "/bin/bash -lc 'echo hi'",
                "aggregated_output": "hi\n",
                "exit_code": 0,
                "status": "completed",
            },
        }
    )


def test_a_turn_completed_line_carries_all_five_usage_counts() -> None:
    """Usage is read with the 0.169 fields, cache writes and reasoning included."""
    line = (
        b'{"type":"turn.completed","usage":{"input_tokens":300,"cached_input_tokens":140,'
        b'"cache_write_input_tokens":2,"output_tokens":30,"reasoning_output_tokens":4}}'
    )
    assert dump(line) == snapshot(
        {
            "seq": 7,
            "at": 1.5,
            "type": "turn.completed",
            "usage": {
                "input_tokens": 300,
                "cached_input_tokens": 140,
                "cache_write_input_tokens": 2,
                "output_tokens": 30,
                "reasoning_output_tokens": 4,
            },
        }
    )


def test_file_change_and_mcp_items_are_typed() -> None:
    """Patches list their paths; MCP calls keep arguments, result and error."""
    patch = parse_line(
        b'{"type":"item.started","item":{"id":"item_0","type":"file_change","changes":'
        b'[{"path":"/w/new.txt","kind":"add"},{"path":"/w/old.txt","kind":"update"}],"status":"in_progress"}}',
        0,
        0,
    )
    call = parse_line(
        b'{"type":"item.completed","item":{"id":"item_1","type":"mcp_tool_call","server":"s","tool":"t",'
        b'"arguments":{"x":1},"result":null,"error":{"message":"needs approval"},"status":"failed"}}',
        1,
        0,
    )
    assert isinstance(patch, ItemEvent) and patch.item.type == "file_change"
    assert [(change.path, change.kind) for change in patch.item.changes] == [
        ("/w/new.txt", "add"),
        ("/w/old.txt", "update"),
    ]
    assert isinstance(call, ItemEvent) and call.item.type == "mcp_tool_call"
    assert (call.item.arguments, call.item.error and call.item.error.message) == ({"x": 1}, "needs approval")


def test_web_search_keeps_both_of_its_duplicate_id_keys() -> None:
    """Codex writes `id` twice on web_search items; the item id stays and the second becomes search_id."""
    event = parse_line(
        b'{"type":"item.started","item":{"id":"item_1","type":"web_search","id":"ws_1","query":"q",'
        b'"action":{"type":"search","query":"q"}}}',
        0,
        0,
    )
    assert isinstance(event, ItemEvent) and event.item.type == "web_search"
    assert (event.item.id, event.item.search_id, event.item.query) == ("item_1", "ws_1", "q")


def test_bad_lines_become_unparsed_with_a_reason() -> None:
    """Malformed JSON, unknown types, wrong shapes and binary bytes are kept, each with why."""
    reasons = {
        line: parse_line(line, 0, 0)
        for line in (
            b"not json",
            b'{"type":"item.plan.delta","delta":"x"}',
            b'{"type":"item.completed","item":{"id":"i","type":"plan"}}',
            b'{"type":"turn.failed"}',
            b"\xff\xfe\x00binary",
            b"[1, 2]",
        )
    }
    assert all(isinstance(event, Unparsed) for event in reasons.values())
    assert {line: event.reason for line, event in reasons.items() if isinstance(event, Unparsed)} == snapshot(
        {
            b"not json": "not valid JSON: Invalid JSON: expected ident at line 1 column 2",
            b'{"type":"item.plan.delta","delta":"x"}': "unknown type 'item.plan.delta' at top level",
            b'{"type":"item.completed","item":{"id":"i","type":"plan"}}': "unknown type 'plan' at item.completed.item",
            b'{"type":"turn.failed"}': "unexpected shape at turn.failed.error: Field required",
            b"\xff\xfe\x00binary": "not UTF-8 text: byte 0xff at offset 0",
            b"[1, 2]": "unexpected shape at top level: Input should be an object",
        }
    )


def test_an_oversize_line_is_described_by_its_size_and_head() -> None:
    """Only the head of an over-long line is kept, with its real size."""
    event = oversize(b"x" * 3000, 5_000_000, 4096, 3, 0)
    assert (event.size, event.reason, len(event.excerpt)) == (
        5_000_000,
        "line size of 5000000 bytes exceeds the 4096-byte limit",
        500,
    )


@given(
    lines=st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=7000), max_size=30),
    limit=st.integers(min_value=1, max_value=200),
    final_newline=st.booleans(),
)
def test_framing_returns_every_line_with_its_size_however_the_stream_is_cut(
    lines: list[bytes], cuts: list[int], limit: int, final_newline: bool
) -> None:
    """Any chunking of a stream gives back each line whole, or its head when it is over the limit."""
    stream = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    framer = LineFramer(limit)
    framed: list[tuple[bytes, int]] = []
    start = 0
    for cut in sorted(cut for cut in cuts if cut < len(stream)):
        framed += framer.feed(stream[start:cut])
        start = max(start, cut)
    framed += framer.feed(stream[start:])
    framed += framer.end()
    expected = [(line if len(line) <= limit else line[:2000], len(line)) for line in lines]
    if lines and not final_newline and not lines[-1]:
        expected.pop()
    assert framed == expected


def test_blank_lines_make_no_event_and_long_ones_an_oversize_event() -> None:
    """Framed lines become events by size: blank is skipped, over the limit is `unparsed` with its size."""
    assert to_event(b"   ", 3, 10, 0, 0) is None
    event = to_event(b"x" * 10, 50, 10, 0, 0)
    assert isinstance(event, Unparsed)
    assert event.size == 50
