"""Build-time pages: the tool reference from the server's real schemas, and the specifications from openspec/.

Nothing here is written by hand twice: the tool reference is rendered from the
tools `build_server` registers (names, descriptions, annotations, input and
output schemas), and each capability's page is the text of its
``openspec/specs/<capability>/spec.md``. Mermaid comes from the npm package pinned in
``package.json``, so the site's diagrams need no CDN.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import anyio
from mcp_types import Tool
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

TOOLS_MARKER = "<!-- generated: tools -->"
SPECS_MARKER = "<!-- generated: specs -->"
ROOT = Path(__file__).resolve().parents[2]


class ListsTools(Protocol):
    """Anything that lists MCP tools, such as an `MCPServer`."""

    async def list_tools(self) -> list[Tool]: ...


def render_tools(server: ListsTools) -> str:
    """Render every tool of ``server`` as Markdown: description, hints, inputs and result fields."""
    tools: list[Tool] = anyio.run(server.list_tools)
    return "\n".join(_render_tool(tool) for tool in tools)


def _render_tool(tool: Tool) -> str:
    hints = tool.annotations
    kind = (
        "read-only"
        if hints and hints.read_only_hint
        else "destructive"
        if hints and hints.destructive_hint
        else "writes"
    )
    lines = [
        f"## `{tool.name}`",
        "",
        f"*{kind}*",
        "",
        tool.description or "",
        "",
        "| input | type | default | description |",
    ]
    lines.append("| --- | --- | --- | --- |")
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    for name, schema in properties.items():
        default = "required" if name in required else f"`{schema.get('default')!r}`"
        lines.append(f"| `{name}` | {_type(schema)} | {default} | {schema.get('description', '')} |")
    output: dict[str, Any] = (tool.output_schema or {}).get("properties", {})
    if output:
        lines += ["", "| result field | type | description |", "| --- | --- | --- |"]
        for name, schema in output.items():
            lines.append(f"| `{name}` | {_type(schema)} | {schema.get('description', '')} |")
    return "\n".join(lines) + "\n"


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = str(schema.get("type", "object"))
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return kind


def _server() -> ListsTools:
    from codex_subagents.config import Settings
    from codex_subagents.server import build_server

    with tempfile.TemporaryDirectory() as scratch:
        return build_server(Settings(state_dir=Path(scratch), allow_roots=(ROOT,)))


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one page per OpenSpec capability, and the pinned Mermaid so diagrams render without a CDN."""
    mermaid = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    files.append(File.generated(config, "assets/javascripts/mermaid.min.js", abs_src_path=str(mermaid)))
    for spec in sorted((ROOT / "openspec" / "specs").glob("*/spec.md")):
        files.append(File.generated(config, f"specs/{spec.parent.name}.md", content=spec.read_text()))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the generated parts of the tool reference and the specifications index."""
    del config, files
    if TOOLS_MARKER in markdown:
        markdown = markdown.replace(TOOLS_MARKER, render_tools(_server()))
    if SPECS_MARKER in markdown:
        specs = sorted((ROOT / "openspec" / "specs").glob("*/spec.md"))
        listing = "\n".join(f"- [{spec.parent.name}]({spec.parent.name}.md)" for spec in specs)
        markdown = markdown.replace(SPECS_MARKER, listing)
    del page
    return markdown


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Keep diagram sources out of the search index: a reader searches prose, not Mermaid syntax."""
    del page, config, files
    return html.replace('<pre class="mermaid">', '<pre class="mermaid" data-search-exclude>')
