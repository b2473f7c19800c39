"""Decide which script and turn answer a request, from the request body alone.

Nothing here counts requests or keeps state between them: many codex processes share one
server, and each request resends its whole history in ``input``. The script is chosen by its
``match`` marker in the user messages, and the turn by the call ids already in the history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from pydantic import JsonValue

from ._script import Script

_CALL_TYPES = ("function_call", "custom_tool_call", "tool_search_call")
_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output", "tool_search_output")


class UnanswerableError(Exception):
    """Raised when a request cannot be answered; the server sends the message as an HTTP 400 body."""


def input_items(body: JsonValue, *types: str) -> Iterator[dict[str, JsonValue]]:
    """Yield the items of the request's ``input`` whose ``type`` is one of ``types``."""
    items = body.get("input") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and item.get("type") in types:
            yield item


def _texts(content: JsonValue) -> Iterator[str]:
    """Yield the text parts of a message content or tool output, which is a string or a list of parts."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(text := part.get("text"), str):
                yield text


def user_text(body: JsonValue) -> str:
    """Join the text of every ``user`` message in the request, the haystack for ``match``."""
    messages = (item for item in input_items(body, "message") if item.get("role") == "user")
    return "\n".join(text for message in messages for text in _texts(message.get("content")))


def choose_script(scripts: Sequence[Script], body: JsonValue) -> Script:
    """Return the script whose marker occurs in the user messages: the longest, then the first declared.

    Raises:
        UnanswerableError: no marker occurs.
    """
    text = user_text(body)
    found = [script for script in scripts if script.match in text]
    if not found:
        known = ", ".join(f"{script.match!r} ({script.name})" for script in scripts) or "none"
        raise UnanswerableError(f"scripted model: no script's match string occurs in the user messages; known: {known}")
    return max(found, key=lambda script: len(script.match))


def call_id(script: Script, turn: int, index: int, name: str | None) -> str:
    """Name a call so that later requests reveal which turn made it: ``<script>:<turn>:<name or index>``."""
    return f"{script.name}:{turn}:{name if name is not None else index}"


def next_turn(script: Script, body: JsonValue) -> int:
    """Return the turn to answer: one past the highest turn of this script's calls in the history.

    Raises:
        UnanswerableError: every turn of the script has been played.
    """
    played = [-1]
    for item in input_items(body, *_CALL_TYPES):
        parts = str(item.get("call_id")).split(":")
        if len(parts) == 3 and parts[0] == script.name and parts[1].isdecimal():
            played.append(int(parts[1]))
    turn = max(played) + 1
    if turn >= len(script.turns):
        raise UnanswerableError(
            f"scripted model: script {script.name!r} has only {len(script.turns)} turns; all were played"
        )
    return turn


def call_outputs(body: JsonValue) -> dict[str, str]:
    """Map each call id in the history to its output text, the source of ``{{output:...}}`` values.

    A ``tool_search_output`` has no text: its ``tools`` list stands in, as JSON.
    """
    return {str(item.get("call_id")): _output_text(item) for item in input_items(body, *_OUTPUT_TYPES)}


def _output_text(item: dict[str, JsonValue]) -> str:
    if item.get("type") == "tool_search_output":
        return json.dumps(item.get("tools"), separators=(",", ":"))
    return "".join(_texts(item.get("output")))
