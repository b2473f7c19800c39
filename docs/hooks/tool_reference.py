"""Markdown for the tool reference and the quick reference, read from the tools' real JSON schemas.

Only what `list_tools` returns is used: names, descriptions, annotations, and the
input and output schemas with their ``$defs``. Nested result types are defined
once at the end of the page, under the names the schemas give them, so a model
that moves from one module to another changes nothing here. Limits come from the
schemas' own keywords (``maxLength``, ``maximum``, ``minItems``...); the few
inputs that a server setting bounds further name that setting and its default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from mcp_types import Tool

Schema = Mapping[str, Any]

_LIMIT_WORDS = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
)
_NOT_EMPTY = {("minLength", 1), ("minItems", 1)}


def type_anchor(name: str) -> str:
    """The id of the heading that defines the nested type ``name``."""
    return f"type-{name.lower()}"


def render_reference(tools: Sequence[Tool], caps: Mapping[tuple[str, str], str]) -> str:
    """The whole tool reference: one section per tool, then every nested type the results use.

    ``caps`` adds a note to an input that a server setting bounds beyond its schema,
    keyed by ``(tool name, input name)``.
    """
    definitions: dict[str, Schema] = {}
    for tool in tools:
        for schema in (tool.input_schema, tool.output_schema or {}):
            for name, definition in schema.get("$defs", {}).items():
                if definitions.setdefault(name, definition) != definition:
                    raise ValueError(f"two different result types are both called {name!r}; rename one of them")
    sections = [_render_tool(tool, caps) for tool in tools]
    sections.append("## Result types\n\nThe objects that results nest, under the names their schemas give them.\n")
    sections += [_render_type(name, definitions[name]) for name in sorted(definitions)]
    return "\n".join(sections)


def referenced_types(tools: Sequence[Tool]) -> set[str]:
    """The name of every ``$ref`` any tool's schema uses."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Mapping):
            for key, value in cast(Mapping[str, object], node).items():
                if key == "$ref" and isinstance(value, str):
                    found.add(value.rsplit("/", 1)[-1])
                walk(value)
        elif isinstance(node, list):
            for value in cast(list[object], node):
                walk(value)

    for tool in tools:
        walk(tool.input_schema)
        walk(tool.output_schema)
    return found


def render_quick_table(tools: Sequence[Tool]) -> str:
    """One row per tool: its inputs (``?`` when optional, ``=`` its default) and every result field."""
    rows = ["| tool | input | result |", "| --- | --- | --- |"]
    for tool in tools:
        required = set(tool.input_schema.get("required", []))
        inputs: list[str] = []
        for name, schema in tool.input_schema.get("properties", {}).items():
            default = schema.get("default")
            shown = name if name in required else f"{name}?" if default is None else f"{name}={_json(default)}"
            inputs.append(f"`{shown}`")
        fields = [f"`{name}`" for name in (tool.output_schema or {}).get("properties", {})]
        rows.append(f"| `{tool.name}` | {', '.join(inputs)} | {', '.join(fields)} |")
    return "\n".join(rows) + "\n"


def _render_tool(tool: Tool, caps: Mapping[tuple[str, str], str]) -> str:
    hints = tool.annotations
    kind = (
        "read-only"
        if hints and hints.read_only_hint
        else "destructive"
        if hints and hints.destructive_hint
        else "writes"
    )
    lines = [f"## `{tool.name}`", "", f"*{kind}*", "", tool.description or "", ""]
    properties: Mapping[str, Schema] = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    if properties:
        lines += ["| input | type | default | limits | description |", "| --- | --- | --- | --- | --- |"]
    else:
        lines.append("No input.")
    for name, schema in properties.items():
        default = "required" if name in required else f"`{_json(schema.get('default'))}`"
        limits = "; ".join(filter(None, [_limits(schema), caps.get((tool.name, name), "")]))
        lines.append(f"| `{name}` | {_type(schema)} | {default} | {limits} | {_cell(schema.get('description', ''))} |")
    output = tool.output_schema or {}
    if output.get("properties"):
        lines += ["", f"Result: **{output.get('title', 'object')}**. {_cell(output.get('description', ''))}", ""]
        lines += _field_table(output)
    return "\n".join(lines) + "\n"


def _render_type(name: str, schema: Schema) -> str:
    lines = [f"### {name} {{ #{type_anchor(name)} }}", "", _cell(schema.get("description", "")), ""]
    if schema.get("properties"):
        lines += _field_table(schema)
    else:
        lines.append(f"Type: {_type(schema)}.")
    return "\n".join(lines) + "\n"


def _field_table(schema: Schema) -> list[str]:
    required = set(schema.get("required", []))
    lines = ["| field | type | description |", "| --- | --- | --- |"]
    for name, field in schema.get("properties", {}).items():
        note = _cell(field.get("description", ""))
        if name not in required and "default" in field:
            note = f"{note} (default `{_json(field['default'])}`)".strip()
        lines.append(f"| `{name}` | {_type(field)} | {note} |")
    return lines


def _type(schema: Schema) -> str:
    """A schema's type in words, linking nested types to their definitions."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#{type_anchor(name)})"
    for union in ("anyOf", "oneOf"):
        if union in schema:
            options = " or ".join(_type(option) for option in schema[union])
            key = schema.get("discriminator", {}).get("propertyName")
            return f"{options} (by `{key}`)" if key else options
    if "const" in schema:
        return f"`{_json(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{_json(value)}`" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"map of string to {_type(schema['additionalProperties'])}"
    if kind is None:
        return "any JSON value"
    return str(kind)


def _limits(schema: Schema) -> str:
    """The schema's bounds in words, including those of its non-null options."""
    options = [schema, *[option for option in schema.get("anyOf", []) if option.get("type") != "null"]]
    words = [
        "not empty" if (key, option[key]) in _NOT_EMPTY else template.format(_number(option[key]))
        for option in options
        for key, template in _LIMIT_WORDS
        if key in option
    ]
    return ", ".join(words)


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
