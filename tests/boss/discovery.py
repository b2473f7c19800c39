"""Read a boss's history off the scripted model's request log: which tools it found, which it called.

Codex 0.169 defers MCP tools behind ``tool_search``: the model sees only that tool until a search
returns the server's namespace. A boss that calls a tool no search returned is guessing names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import JsonValue


@dataclass
class ToolUse:
    """The searches a boss made, the namespaced tools it called, and those called before any search found them."""

    searches: int = 0
    called: list[str] = field(default_factory=list[str])
    undiscovered: list[str] = field(default_factory=list[str])


def tool_use(body: JsonValue) -> ToolUse:
    """Walk one request's ``input`` in order (a boss's last request holds its whole history)."""
    use, found = ToolUse(), set[str]()
    items = body.get("input") if isinstance(body, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "tool_search_output":
            use.searches += 1
            found |= _names(item.get("tools"))
        elif item.get("type") == "function_call" and isinstance(namespace := item.get("namespace"), str):
            name = f"{namespace}.{item.get('name')}"
            use.called.append(name)
            if name not in found:
                use.undiscovered.append(name)
    return use


def _names(tools: JsonValue) -> set[str]:
    """The ``namespace.tool`` names in a ``tool_search_output``'s ``tools``."""
    names = set[str]()
    for space in tools if isinstance(tools, list) else []:
        if isinstance(space, dict) and isinstance(members := space.get("tools"), list):
            names |= {f"{space.get('name')}.{tool.get('name')}" for tool in members if isinstance(tool, dict)}
    return names
