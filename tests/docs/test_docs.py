"""The documentation's code runs, and its tool reference is generated from the real server."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "docs_src"))

import connect  # noqa: E402


def load_hook() -> ModuleType:
    """Import the mkdocs hook that generates pages."""
    spec = importlib.util.spec_from_file_location("docs_hook", ROOT / "docs" / "hooks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.anyio
async def test_the_stdio_client_snippet_lists_the_tools_and_reads_the_status(repo: Path) -> None:
    """docs_src/connect.py starts the real server over stdio and gets its status."""
    with anyio.fail_after(60):
        tools, answer = await connect.status(repo, str(ROOT / ".venv" / "bin" / "codex-subagents"))
    assert "codex_spawn" in tools and len(tools) == 12
    assert answer == {"jobs": [], "running": 0, "queued": 0, "cap": 4}


def test_the_reference_lists_every_tool_with_its_real_parameters() -> None:
    """Every tool the server exposes appears with each of its input parameters."""
    hook = load_hook()
    server = hook._server()
    page = hook.render_tools(server)
    tools = anyio.run(server.list_tools)
    for tool in tools:
        assert f"## `{tool.name}`" in page
        for name in tool.input_schema.get("properties", {}):
            assert f"| `{name}` |" in page
    assert "| `prompt` | string | required | The worker's task |" in page


def test_changing_a_tool_description_changes_the_page() -> None:
    """The page is rendered from the tool's docstring, not written by hand."""
    hook = load_hook()

    def page_for(doc: str) -> str:
        server = MCPServer("t")

        def probe(x: int) -> int:
            return x

        probe.__doc__ = doc
        server.add_tool(probe)
        return hook.render_tools(server)

    assert "Count the stars." in page_for("Count the stars.")
    assert "Count the stars." not in page_for("Count the moons.")
