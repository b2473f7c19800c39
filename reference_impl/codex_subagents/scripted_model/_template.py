"""Fill ``{{output:REF.path}}`` placeholders with values from earlier tool outputs.

A boss's later calls need values known only at run time, such as the job id an earlier
``codex_spawn`` returned. Codex hands tool results back as text (``Wall time: ...\\nOutput:\\n{json}``
for MCP tools), so a placeholder names the call and, optionally, a dotted path into the JSON object
after ``Output:``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from pydantic import JsonValue

from ._route import UnanswerableError

_PLACEHOLDER = re.compile(r"\{\{output:([A-Za-z0-9_:-]+)((?:\.[A-Za-z0-9_-]+)*)\}\}")
_OUTPUT_MARK = "Output:\n"


def render(value: JsonValue, outputs: Mapping[str, str]) -> JsonValue:
    """Return ``value`` with every placeholder in its strings filled from ``outputs`` (call id to text).

    Raises:
        UnanswerableError: a placeholder names no known output or a missing field.
    """
    if isinstance(value, dict):
        return {key: render(item, outputs) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, outputs) for item in value]
    if not isinstance(value, str):
        return value
    if whole := _PLACEHOLDER.fullmatch(value):
        return _lookup(whole, outputs)
    return _PLACEHOLDER.sub(lambda match: _as_text(_lookup(match, outputs)), value)


def render_text(text: str, outputs: Mapping[str, str]) -> str:
    """Fill the placeholders in ``text``, always giving text (for commands, patches and messages)."""
    return _as_text(render(text, outputs))


def _as_text(value: JsonValue) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _lookup(placeholder: re.Match[str], outputs: Mapping[str, str]) -> JsonValue:
    ref, path = placeholder.group(1), placeholder.group(2)
    texts = [text for call, text in outputs.items() if call == ref or call.endswith(f":{ref}")]
    if not texts:
        raise UnanswerableError(
            f"scripted model: {placeholder.group()} names no call output in the request; have {list(outputs)}"
        )
    text = texts[-1].split(_OUTPUT_MARK, 1)[-1]
    if not path:
        return text
    try:
        value: JsonValue = json.loads(text)
    except ValueError as exc:
        raise UnanswerableError(
            f"scripted model: {placeholder.group()}: the output is not JSON: {text[:200]!r}"
        ) from exc
    for key in path[1:].split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdecimal() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise UnanswerableError(f"scripted model: {placeholder.group()}: no {key!r} in {json.dumps(value)[:200]}")
    return value
