"""The documentation's code runs, and its tool reference is generated from the real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "docs_src"), str(ROOT / "tests" / "acceptance"), str(ROOT / "docs" / "hooks")]

from built_site import load_hook  # noqa: E402
from harness import boss_session, make_repo  # noqa: E402

import connect  # noqa: E402
import read_events  # noqa: E402


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.anyio
async def test_the_stdio_client_snippet_lists_the_tools_and_reads_the_status(
    repo: Path, idle_status: dict[str, object]
) -> None:
    """docs_src/connect.py starts the real server over stdio and gets its status."""
    with anyio.fail_after(60):
        tools, answer = await connect.status(repo, str(ROOT / ".venv" / "bin" / "codex-subagents"))
    assert "codex_spawn" in tools and len(tools) == 12
    assert answer == idle_status


WORKER = """
[scripts.notes]
match = "[script notes]"

[[scripts.notes.turns]]
shell = "echo hello > notes.txt"
login = false

[[scripts.notes.turns]]
final_json = { summary = "wrote notes.txt", modifiedFiles = ["notes.txt"] }
"""


def test_the_events_snippet_reads_a_real_workers_whole_stream_in_small_pages(tmp_path: Path) -> None:
    """docs_src/read_events.py waits for a real Codex worker and pages its events, two at a time, to the last one."""
    repo = make_repo(tmp_path / "repo", {"README.md": "hi\n"})
    script = tmp_path / "notes.toml"
    script.write_text(WORKER)
    with boss_session(repo, tmp_path / "state", scripts=[script]) as boss:

        async def read() -> list[str]:
            with anyio.fail_after(120):
                return await read_events.run_and_read(boss.client, "[script notes] write the notes")

        kinds = boss.portal.call(read)
    assert kinds[:2] == ["thread.started", "turn.started"]
    assert "item.completed command_execution" in kinds
    assert kinds[-2:] == ["item.completed agent_message", "turn.completed"]
    assert (repo / "notes.txt").read_text() == "hello\n"


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
    assert "| `prompt` | string | required | not empty, at most 500,000 characters | The worker's task |" in page


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


def test_the_boss_script_example_parses_and_uses_the_namespace_the_demo_runs_with() -> None:
    """docs_src/boss.toml is a valid script whose MCP calls use the namespace real Codex accepts in the demo."""
    from codex_subagents.scripted_model import load_scripts

    def namespaces(path: Path) -> set[str]:
        return {
            call.mcp.namespace
            for script in load_scripts(path)
            for turn in script.turns
            for call in turn.calls
            if call.mcp
        }

    example = namespaces(ROOT / "docs_src" / "boss.toml")
    assert example == {"mcp__codex_subagents"}
    assert example == namespaces(ROOT / "reference_impl" / "codex_subagents" / "commands" / "demo.toml")


def test_the_orchestration_guide_names_every_tool_and_field_the_skill_teaches() -> None:
    """Each tool, argument and result field the skill quotes is in the guide too, so the guide never says less."""
    skill = (ROOT / "skills" / "codex-subagents" / "SKILL.md").read_text()
    guide = (ROOT / "docs" / "orchestration.md").read_text()
    quoted = {match.group(1) for match in re.finditer(r"`([a-z_]+)[`(]", skill)}
    assert {"codex_wait_any", "codex_events", "label", "contract_error", "tool_search"} <= quoted
    assert sorted(name for name in quoted if name not in guide) == []
