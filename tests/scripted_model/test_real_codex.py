"""The real, pinned Codex CLI runs scripted turns end to end: patches, shell commands, MCP calls, schema answers.

Each test starts the scripted model, runs ``codex exec --json`` as a worker would be run, in a fresh
git repository with a fresh ``CODEX_HOME``, and checks the files on disk, the JSONL stream and the
requests codex sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from pydantic import JsonValue

from codex_subagents.scripted_model import Script, ScriptedModel, parse_scripts
from machine import lacking

pytestmark = [pytest.mark.anyio, pytest.mark.codex]

JOBS_SERVER = Path(__file__).resolve().parent / "jobs_mcp_server.py"
WORKER_FLAGS = ["--skip-git-repo-check", "--ephemeral", "--disable", "multi_agent", "--disable", "multi_agent_v2"]
SCHEMA: dict[str, JsonValue] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}, "modifiedFiles": {"type": "array", "items": {"type": "string"}}},
    "required": ["summary", "modifiedFiles"],
    "additionalProperties": False,
}


async def _codex(codex: Path, home: Path, repo: Path, *args: str) -> list[dict[str, JsonValue]]:
    """Run ``codex exec --json`` with stdin closed and no inherited OpenAI or Codex settings; return its events."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "CODEX_"))}
    command = [str(codex), "exec", "--json", *WORKER_FLAGS, "-s", "workspace-write", "-C", str(repo), "-m", "gpt-5.5"]
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [*command, *args], stdin=subprocess.DEVNULL, env={**env, "CODEX_HOME": str(home)}, check=False
        )
    events: list[dict[str, JsonValue]] = [json.loads(line) for line in done.stdout.decode().splitlines()]
    for item in _items(events, "command_execution"):
        if "bwrap:" in str(item.get("aggregated_output")):
            lacking(f"bubblewrap cannot sandbox commands on this machine: {item['aggregated_output']!r}")
    assert done.returncode == 0, f"codex exited {done.returncode}: {done.stderr.decode()[-2000:]}"
    assert events[-1]["type"] == "turn.completed"
    return events


def _items(events: list[dict[str, JsonValue]], kind: str) -> list[dict[str, JsonValue]]:
    """Return the completed items of one type."""
    items = [event["item"] for event in events if event["type"] == "item.completed"]
    return [item for item in items if isinstance(item, dict) and item["type"] == kind]


def _overrides(model: ScriptedModel) -> list[str]:
    return [arg for value in model.codex_overrides() for arg in ("-c", value)]


async def test_codex_writes_files_by_patch_and_shell_then_answers(
    codex_bin: Path, example: tuple[Script, ...], repo: Path, tmp_path: Path
) -> None:
    """Two files arrive through ``apply_patch``, a third through ``exec_command``, then the JSON answer."""
    home = tmp_path / "home"
    home.mkdir()
    async with ScriptedModel(example, log_path=tmp_path / "requests.jsonl") as model:
        prompt = "Please do WRITER-TASK."
        events = await _codex(codex_bin, home, repo, "--ignore-user-config", *_overrides(model), prompt)

    files = {name: (repo / name).read_text() for name in ("alpha.txt", "beta.txt", "gamma.txt")}
    assert files == {"alpha.txt": "alpha\n", "beta.txt": "beta one\nbeta two\n", "gamma.txt": "gamma\n"}
    [change] = _items(events, "file_change")
    assert change["changes"] == [
        {"path": str(repo / "alpha.txt"), "kind": "add"},
        {"path": str(repo / "beta.txt"), "kind": "add"},
    ]
    [command] = _items(events, "command_execution")
    assert (command["exit_code"], command["status"]) == (0, "completed")
    [answer] = _items(events, "agent_message")
    assert json.loads(str(answer["text"])) == {
        "summary": "wrote three files",
        "modifiedFiles": ["alpha.txt", "beta.txt", "gamma.txt"],
    }

    assert [(request.script, request.turn, request.status) for request in model.requests] == [
        ("writer", 0, 200),
        ("writer", 1, 200),
        ("writer", 2, 200),
    ]
    first, second, third = model.requests
    assert prompt in first.user_text()
    assert first.tools()["apply_patch"]["type"] == "custom"
    [patched] = second.input_items("custom_tool_call_output")
    assert patched["call_id"] == "writer:0:0"
    assert "Success. Updated the following files:\nA alpha.txt\nA beta.txt" in str(patched["output"])
    [ran] = third.input_items("function_call_output")
    assert ran["call_id"] == "writer:1:0"
    assert "Process exited with code 0" in str(ran["output"])
    assert len((tmp_path / "requests.jsonl").read_text().splitlines()) == 3


async def test_an_output_schema_reaches_the_request_and_the_json_answer_comes_back(
    codex_bin: Path, repo: Path, tmp_path: Path
) -> None:
    """``--output-schema`` arrives under ``text.format``; the ``final_json`` text is the agent message and ``-o``.

    This run reads the provider from ``CODEX_HOME/config.toml``, the way a boss that also needs MCP servers would.
    """
    answer_json: JsonValue = {"summary": "ok", "modifiedFiles": []}
    scripts = parse_scripts({"scripts": {"s": {"match": "SCHEMA-TASK", "turns": [{"final_json": answer_json}]}}})
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    last = tmp_path / "last.txt"
    async with ScriptedModel(scripts) as model:
        home = model.prepare_codex_home(tmp_path / "home")
        args = ["--output-schema", str(schema), "-o", str(last), "SCHEMA-TASK"]
        events = await _codex(codex_bin, home, repo, *args)

    [answer] = _items(events, "agent_message")
    assert answer["text"] == last.read_text() == '{"summary":"ok","modifiedFiles":[]}'
    [request] = model.requests
    assert isinstance(request.body, dict)
    text = request.body["text"]
    assert isinstance(text, dict)
    assert text["format"] == {"type": "json_schema", "name": "codex_output_schema", "strict": True, "schema": SCHEMA}


async def test_a_boss_calls_mcp_tools_with_values_from_earlier_results(
    codex_bin: Path, repo: Path, tmp_path: Path
) -> None:
    """Namespaced calls reach a real MCP server, and ``{{output:...}}`` carries a returned id into the next call."""
    jobs: JsonValue = {"namespace": "mcp__jobs", "name": "start", "arguments": {"prompt": "WORKER-A"}}
    check: JsonValue = {"namespace": "mcp__jobs", "name": "status", "arguments": {"job_id": "{{output:start.job_id}}"}}
    turns: list[JsonValue] = [
        {"calls": [{"id": "start", "mcp": jobs}]},
        {"calls": [{"id": "check", "mcp": check}]},
        {"final": "{{output:check.job_id}} is {{output:check.state}}"},
    ]
    scripts = parse_scripts({"scripts": {"boss": {"match": "BOSS-TASK", "turns": turns}}})
    server = f"command = {json.dumps(sys.executable)}\nargs = [{json.dumps(str(JOBS_SERVER))}]\n"
    config = f'[mcp_servers.jobs]\n{server}required = true\ndefault_tools_approval_mode = "approve"\n'
    async with ScriptedModel(scripts) as model:
        events = await _codex(codex_bin, model.prepare_codex_home(tmp_path / "home", config), repo, "BOSS-TASK")

    calls = [(item["tool"], item["arguments"], item["status"]) for item in _items(events, "mcp_tool_call")]
    assert calls == [("start", {"prompt": "WORKER-A"}, "completed"), ("status", {"job_id": "job-8"}, "completed")]
    assert [item["text"] for item in _items(events, "agent_message")] == ["job-8 is running"]
