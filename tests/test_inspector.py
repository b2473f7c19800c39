"""A second, independent MCP client, the MCP Inspector CLI, talks to `codex-subagents serve` over stdio."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
INSPECTOR = PROJECT_ROOT / "node_modules" / ".bin" / "mcp-inspector"
SERVE = PROJECT_ROOT / ".venv" / "bin" / "codex-subagents"


def inspector(repo: Path, *method: str) -> dict[str, object]:
    """Run one Inspector CLI call against a fresh server on ``repo`` and return its JSON answer."""
    run = subprocess.run(
        [str(INSPECTOR), "--cli", str(SERVE), "serve", "--allow-root", str(repo), *method],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, object] = json.loads(run.stdout)
    return answer


def test_the_inspector_lists_every_tool_with_clean_descriptions(tmp_path: Path) -> None:
    """tools/list returns all twelve tools, each described without source indentation."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    tools = inspector(tmp_path, "--method", "tools/list")["tools"]
    assert isinstance(tools, list)
    names = sorted(str(tool["name"]) for tool in tools)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    assert names == sorted(
        [
            "codex_spawn", "codex_events", "codex_wait_any", "codex_result", "codex_cancel", "codex_status",
            "codex_baseline", "codex_baselines", "codex_baseline_drop", "codex_overlaps", "codex_rollback",
            "codex_integrity",
        ]
    )  # fmt: skip
    assert all("\n    " not in str(tool["description"]) for tool in tools)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]


def test_the_inspector_calls_codex_status_and_gets_structured_content(
    tmp_path: Path, idle_status: dict[str, object]
) -> None:
    """tools/call of codex_status returns the structured status of an idle server."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    answer = inspector(tmp_path, "--method", "tools/call", "--tool-name", "codex_status")
    assert answer["isError"] is False
    assert answer["structuredContent"] == idle_status
