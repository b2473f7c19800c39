"""Scenario scripts: what the scripted model answers, turn by turn, in TOML, JSON or Python dicts.

A file holds several named scripts under ``[scripts.<name>]`` (names use letters, digits, ``_`` and
``-``). A request is answered by the script whose ``match`` string occurs in the text of the
request's ``user`` messages; when several match, the **longest** ``match`` wins, and among equally
long ones the first declared. Each script is a list of ``turns``; a turn is one model response::

    [scripts.worker-a]
    match = "WORKER-A"                   # a marker the test puts in the worker's prompt

    [[scripts.worker-a.turns]]           # turn 0: reasoning plus one patch
    reasoning = "Add the file."
    patch = '''
    *** Begin Patch
    *** Add File: a.txt
    +alpha
    *** End Patch
    '''

    [[scripts.worker-a.turns]]           # turn 1: two calls, which codex runs in order
    [[scripts.worker-a.turns.calls]]
    shell = "printf b > b.txt"
    login = false                        # bash -c, not -lc: no login-shell noise in the output
    [[scripts.worker-a.turns.calls]]
    id = "spawn"                         # the call id becomes worker-a:1:spawn
    mcp = { namespace = "mcp__codex_subagents", name = "codex_spawn", arguments = { prompt = "WORKER-B" } }

    [[scripts.worker-a.turns]]           # turn 2: the final answer, streamed slowly
    final_json = { summary = "job {{output:spawn.job_id}} started", modifiedFiles = ["a.txt"] }
    stream_chunks = 5
    stream_interval_s = 0.2

Turn keys:

* Tool calls, as ``calls`` or one of them directly on the turn: ``shell = "cmd"`` (an
  ``exec_command`` function call; ``yield_time_ms``, ``login``), ``patch = "*** Begin Patch ..."`` (the
  freeform ``apply_patch`` custom tool, offered for bundled models such as ``-m gpt-5.5``),
  ``mcp = {namespace, name, arguments}`` (a namespaced function call) and
  ``tool_search = {query, limit}`` (a client-executed ``tool_search_call``: codex answers with a
  ``tool_search_output`` listing the matching deferred tools, which is how bundled models such as
  ``-m gpt-5.5`` discover MCP tools). A call may carry an ``id``.
* ``reasoning``: a reasoning summary shown as a ``reasoning`` item.
* ``search``: a query the model searched the web for, sent as a finished hosted ``web_search_call``
  item (id ``ws_<script>_<turn>``) before the turn's calls or answer; codex shows it as ``web_search``.
* The final answer: ``final = "text"``, or ``final_json = {...}`` sent as compact JSON text (for
  ``--output-schema`` runs). Only the last turn may lack tool calls (failing turns aside), since codex
  ends its turn at a response without them.
* ``fail``: a ``response.failed`` error code (``"server_error"``, ``"context_length_exceeded"``...),
  ``"disconnect"`` (close the stream before ``response.completed``), or an HTTP status such as ``500``;
  ``fail_message`` sets the text. A failing turn holds nothing else.
* Pacing: ``delay_s`` waits before answering, ``hold = true`` waits until the test calls
  ``ScriptedModel.release(script_name)``, ``hang_s`` waits before ``response.completed``, and a
  final message may be split into ``stream_chunks`` deltas ``stream_interval_s`` apart.

**Turn selection** never counts requests (many codex processes share one server). Every call id is
``<script>:<turn>:<id or index>``, and the turn answered is one past the highest turn number among
the calls already in the request's ``input``.

**Templating:** any string in a call or final answer may contain ``{{output:REF}}`` or
``{{output:REF.field.0.name}}``. ``REF`` is a call id or its suffix (``spawn``, ``1:spawn``); the value
is that call's output text from the request's ``input`` (the part after ``Output:\\n`` when present),
and a dotted path reads a field of it parsed as JSON. A string that is exactly one placeholder takes
the field's JSON value and type; otherwise the value is spliced in as text.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Self, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, model_validator

_NAME = r"^[A-Za-z0-9_-]+$"


class ScriptError(ValueError):
    """Raised when a script file or mapping cannot be read or does not follow the format."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class McpCall(_Model):
    """A function call to a namespaced tool, as codex exposes MCP servers (``mcp__<server>``)."""

    namespace: str
    name: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict[str, JsonValue])


class ToolSearch(_Model):
    """A search of codex's deferred tools (MCP tools, for bundled models), run by codex itself."""

    query: Annotated[str, Field(min_length=1)]
    limit: Annotated[int, Field(ge=1)] = 8


class Call(_Model):
    """One tool call: exactly one of ``shell``, ``patch``, ``mcp`` or ``tool_search``."""

    id: Annotated[str | None, Field(pattern=_NAME)] = None
    shell: str | None = None
    yield_time_ms: int | None = None
    login: bool | None = None
    patch: str | None = None
    mcp: McpCall | None = None
    tool_search: ToolSearch | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if sum(kind is not None for kind in (self.shell, self.patch, self.mcp, self.tool_search)) != 1:
            raise ValueError("a call needs exactly one of shell, patch, mcp or tool_search")
        if (self.yield_time_ms is not None or self.login is not None) and self.shell is None:
            raise ValueError("yield_time_ms and login only apply to shell")
        return self


class Turn(_Model):
    """One model response: reasoning, then tool calls or a final answer, or a failure."""

    reasoning: str | None = None
    search: str | None = None
    calls: tuple[Call, ...] = ()
    final: str | None = None
    final_json: dict[str, JsonValue] | None = None
    fail: str | Annotated[int, Field(ge=400, le=599)] | None = None
    fail_message: str = "scripted failure"
    delay_s: Annotated[float, Field(ge=0)] = 0.0
    hang_s: Annotated[float, Field(ge=0)] = 0.0
    hold: bool = False
    stream_chunks: Annotated[int, Field(ge=1)] = 1
    stream_interval_s: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="before")
    @classmethod
    def _inline_call(cls, data: object) -> object:
        """Move a call written directly on the turn (``shell = ...``) to the end of ``calls``."""
        if not isinstance(data, Mapping):
            return data
        fields = {str(key): value for key, value in cast("Mapping[object, object]", data).items()}
        calls = fields.get("calls", [])
        keys = [key for key in ("shell", "yield_time_ms", "login", "patch", "mcp", "tool_search") if key in fields]
        if keys and isinstance(calls, list):
            fields["calls"] = [*cast("list[object]", calls), {key: fields.pop(key) for key in keys}]
        return fields

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.final is not None and self.final_json is not None:
            raise ValueError("a turn has final or final_json, not both")
        answers = self.final is not None or self.final_json is not None
        if self.fail is not None and (self.calls or answers or self.reasoning or self.search):
            raise ValueError("a failing turn holds nothing but fail and fail_message")
        if self.calls and answers:
            raise ValueError("a turn has tool calls or a final answer, not both")
        return self


class Script(_Model):
    """A named conversation: the marker that selects it and its turns in order."""

    name: Annotated[str, Field(pattern=_NAME)]
    match: Annotated[str, Field(min_length=1)]
    turns: Annotated[tuple[Turn, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        for index, turn in enumerate(self.turns[:-1]):
            if not turn.calls and turn.fail is None:
                raise ValueError(f"turn {index + 1} is unreachable: turn {index} makes no tool call")
        return self


def parse_scripts(data: Mapping[str, object]) -> tuple[Script, ...]:
    """Build scripts from a mapping shaped like a script file: ``{"scripts": {name: {...}}}``.

    Raises:
        ScriptError: the mapping does not follow the format.
    """
    scripts = data.get("scripts")
    if not isinstance(scripts, Mapping) or set(data) != {"scripts"}:
        raise ScriptError('a script file holds one table, "scripts", of named scripts')
    built: list[Script] = []
    for name, body in cast("Mapping[object, object]", scripts).items():
        if not isinstance(body, Mapping):
            raise ScriptError(f"script {name!r} must be a table")
        try:
            built.append(Script.model_validate({**body, "name": name}))
        except ValidationError as exc:
            raise ScriptError(f"script {name!r}: {exc}") from exc
    return tuple(built)


def load_scripts(paths: str | Path | Sequence[str | Path]) -> tuple[Script, ...]:
    """Read scripts from TOML (or ``.json``) files, in order; names must be unique across files.

    Raises:
        ScriptError: a file is missing, malformed, or repeats a script name.
    """
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    scripts: list[Script] = []
    for file in map(Path, files):
        try:
            text = file.read_text(encoding="utf-8")
            data = json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
        except (OSError, ValueError) as exc:
            raise ScriptError(f"cannot read script file {str(file)!r}: {exc}") from exc
        if not isinstance(data, dict):
            raise ScriptError(f"script file {str(file)!r} must hold a table")
        try:
            scripts.extend(parse_scripts(cast("dict[str, object]", data)))
        except ScriptError as exc:
            raise ScriptError(f"{file}: {exc}") from exc
    names = [script.name for script in scripts]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise ScriptError(f"script names must be unique; repeated: {', '.join(duplicates)}")
    return tuple(scripts)
