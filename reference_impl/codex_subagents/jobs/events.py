"""Turn one line of ``codex exec --json`` output into one typed event, whatever the line holds.

The models mirror Codex 0.169's own JSONL shapes (``type`` names, nested
``item``), so a well-formed line is parsed and normalized in one pass by
pydantic-core, and unknown fields are dropped. Anything else, malformed JSON,
binary bytes, an unknown event or item type (and, in `framing`, a line over the
size limit) becomes an ``unparsed`` event that keeps an excerpt and says why: the reader
of a worker's stream never stops on bad input. Sequence numbers and receive
times are stamped by the supervisor, not taken from the child. The journal keeps
a line read `as_printed` as the worker printed it, and reads it the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

ItemStatus = Literal["in_progress", "completed", "failed", "declined"]

_WEB_SEARCH = b'"web_search"'
_EXCERPT_CHARS = 500
EXCERPT_BYTES = 4 * _EXCERPT_CHARS
"""The most bytes of a line an excerpt can show (a UTF-8 character has at most four)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Usage(_Model):
    """Token counts of a turn, summed over its model requests."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0


class AgentMessage(_Model):
    """A message from the worker; the last one is its final answer."""

    type: Literal["agent_message"]
    id: str
    text: str


class Reasoning(_Model):
    """The summary of the worker's reasoning."""

    type: Literal["reasoning"]
    id: str
    text: str


class CommandExecution(_Model):
    """A shell command the worker ran, with its combined output."""

    type: Literal["command_execution"]
    id: str
    command: str
    aggregated_output: str = ""
    exit_code: int | None = None
    status: ItemStatus


class FileChangeEntry(_Model):
    """One path a patch added, deleted or updated (absolute, as Codex reports it)."""

    path: str
    kind: Literal["add", "delete", "update"]


class FileChange(_Model):
    """A patch the worker applied."""

    type: Literal["file_change"]
    id: str
    changes: list[FileChangeEntry]
    status: ItemStatus


class McpError(_Model):
    """Why an MCP tool call failed at the transport or approval level."""

    message: str


class McpToolCall(_Model):
    """A call the worker made to an MCP tool."""

    type: Literal["mcp_tool_call"]
    id: str
    server: str
    tool: str
    arguments: JsonValue = None
    result: JsonValue = None
    error: McpError | None = None
    status: ItemStatus


class WebSearch(_Model):
    """A web search; Codex writes its ``id`` key twice, the second is kept as ``search_id``."""

    type: Literal["web_search"]
    id: str
    search_id: str | None = None
    query: str = ""
    action: JsonValue = None


class TodoEntry(_Model):
    """One step of the worker's plan."""

    text: str
    completed: bool


class TodoList(_Model):
    """The worker's plan and how far it got."""

    type: Literal["todo_list"]
    id: str
    items: list[TodoEntry]


class CollabToolCall(_Model):
    """A Codex-native sub-agent call; a worker making one breaks its contract."""

    type: Literal["collab_tool_call"]
    id: str
    tool: str
    prompt: str | None = None
    receiver_thread_ids: list[str] = Field(default_factory=list[str])
    status: ItemStatus


class ErrorItem(_Model):
    """A non-fatal notice from Codex (config warnings, model metadata, reroutes)."""

    type: Literal["error"]
    id: str
    message: str


Item = Annotated[
    AgentMessage
    | Reasoning
    | CommandExecution
    | FileChange
    | McpToolCall
    | WebSearch
    | TodoList
    | CollabToolCall
    | ErrorItem,
    Field(discriminator="type"),
]


class _Stamped(_Model):
    seq: int = 0
    at: float = 0.0


class ThreadStarted(_Stamped):
    """The worker's Codex thread began."""

    type: Literal["thread.started"]
    thread_id: str


class TurnStarted(_Stamped):
    """The worker's turn began."""

    type: Literal["turn.started"]


class TurnCompleted(_Stamped):
    """The turn succeeded; its usage is the whole turn's."""

    type: Literal["turn.completed"]
    usage: Usage = Field(default_factory=Usage)


class TurnFailure(_Model):
    """Why a turn failed."""

    message: str


class TurnFailed(_Stamped):
    """The turn failed and will not be retried."""

    type: Literal["turn.failed"]
    error: TurnFailure


class ItemEvent(_Stamped):
    """An item started, changed or reached its final state."""

    type: Literal["item.started", "item.updated", "item.completed"]
    item: Item


class StreamError(_Stamped):
    """A stream-level error; retry notices ("Reconnecting...") are not fatal."""

    type: Literal["error"]
    message: str


class Unparsed(_Stamped):
    """A line that could not be understood, kept as an excerpt with the reason."""

    type: Literal["unparsed"] = "unparsed"
    reason: str
    excerpt: str
    size: int


Event = Annotated[
    ThreadStarted | TurnStarted | TurnCompleted | TurnFailed | ItemEvent | StreamError | Unparsed,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
# The adapter's own validate_json adds a Python call per line around this one, about a sixth of its cost.
_VALIDATE_JSON: Callable[[bytes], Event] = EVENT_ADAPTER.validator.validate_json


def parse_line(line: bytes, seq: int, at: float) -> Event:
    """Normalize one complete JSONL line (without its newline) into an event stamped ``seq`` and ``at``."""
    try:
        if _WEB_SEARCH in line:
            event = EVENT_ADAPTER.validate_python(_load_keeping_duplicate_ids(line))
        else:
            event = _VALIDATE_JSON(line)
    except (ValidationError, ValueError, RecursionError) as exc:
        return Unparsed(reason=_reason(exc, line), excerpt=excerpt(line), size=len(line), seq=seq, at=at)
    # What pydantic's __setattr__ does for a field without a validator, minus checks that cost more than the parse.
    vars(event).update(seq=seq, at=at)
    event.__pydantic_fields_set__.update(("seq", "at"))
    return event


def as_printed(event: Event, line: bytes) -> bool:
    """Whether `parse_line` read ``line`` as it stands: validated again, it gives ``event`` (stamps aside)."""
    return not isinstance(event, Unparsed) and _WEB_SEARCH not in line


def _load_keeping_duplicate_ids(line: bytes) -> object:
    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in items:
            if key == "id" and "id" in out:
                out["search_id"] = value
            else:
                out[key] = value
        return out

    return json.loads(line, object_pairs_hook=pairs)


def _reason(exc: ValidationError | ValueError | RecursionError, line: bytes) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to parse"
    try:
        line.decode()
    except UnicodeDecodeError as bad:
        return f"not UTF-8 text: byte {line[bad.start]:#04x} at offset {bad.start}"
    if not isinstance(exc, ValidationError):
        return f"not valid JSON: {exc}"
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["type"] == "json_invalid":
        return f"not valid JSON: {first['msg']}"
    if first["type"] == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag")
        return f"unknown type {tag!r} at {where or 'top level'}"[:200]
    return f"unexpected shape at {where or 'top level'}: {first['msg']}"


def excerpt(line: bytes) -> str:
    """The first characters of a line, for a reader, whatever bytes it holds."""
    return line[:EXCERPT_BYTES].decode("utf-8", errors="replace")[:_EXCERPT_CHARS]
