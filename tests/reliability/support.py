"""What the reliability tests share: real repositories, worker settings, scripts, and a view of live processes.

Process checks go through psutil, so they see every process of a worker's
tree, the sandboxed ones included, whoever their parent is now. A pid is only
counted as the same process while its start time is unchanged, so a recycled
pid never passes for a survivor.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import anyio
import psutil
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import CallToolResult
from pydantic import JsonValue

import processes
from codex_subagents.core.config import Settings
from codex_subagents.jobs.worker import JOB_ENV
from codex_subagents.scripted_model import Script, ScriptedModel, parse_scripts
from codex_under_test import codex_under_test

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CODEX = codex_under_test()
FAKE = PROJECT_ROOT / "tests" / "fake_codex.py"
SERVE = PROJECT_ROOT / ".venv" / "bin" / "codex-subagents"
Turn = dict[str, JsonValue]
Json = dict[str, object]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, files: Mapping[str, str | bytes] | None = None) -> Path:
    """Create a git repository with ``files`` committed and return its resolved path."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, content in (files or {"README.md": "start\n"}).items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    git(path, "add", "-A")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return path.resolve()


def counting_codex(directory: Path) -> tuple[Path, Path]:
    """Write a codex that logs each start to a counter file, then runs the fake worker; return both paths."""
    counter = directory / "codex-starts"
    codex = directory / "codex"
    codex.write_text(f'#!/bin/sh\necho "$$" >> "{counter}"\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    codex.chmod(0o755)
    return codex, counter


def starts(counter: Path) -> int:
    """How many times the counting codex was started."""
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def real_codex() -> Path:
    """The Codex CLI under test, or a failed test saying how to install it."""
    if not CODEX.exists():
        pytest.fail(f"{CODEX} is missing; run scripts/setup to install the pinned Codex CLI")
    return CODEX


def real_settings(model: ScriptedModel, state_dir: Path, repo: Path, **overrides: object) -> Settings:
    """Settings whose workers are the real codex, isolated, answering to ``model``."""
    base = Settings(
        codex=real_codex(),
        isolated=True,
        worker_config=(*model.codex_overrides(), "model=gpt-5.5"),
        state_dir=state_dir,
        allow_roots=(repo,),
        kill_grace_s=2.0,
    )
    return replace(base, **overrides)


def scripts(**named: list[Turn]) -> tuple[Script, ...]:
    """Scripts selected by the marker ``[script NAME]`` in a worker's prompt."""
    return parse_scripts(
        {"scripts": {name: {"match": f"[script {name}]", "turns": turns} for name, turns in named.items()}}
    )


def prompt(name: str, text: str = "") -> str:
    """A worker prompt that selects script ``name``."""
    return f"[script {name}] {text}".strip()


def final(files: list[str] | None = None, summary: str = "done") -> Turn:
    """A turn that ends a worker with its contract report."""
    return {"final_json": {"summary": summary, "modifiedFiles": list(files or [])}}


@dataclass
class Server:
    """One stdio session to a ``codex-subagents serve`` process."""

    client: Client
    state_dir: Path

    async def call(self, tool: str, **arguments: object) -> Json:
        """Call a tool that must succeed; return its structured result."""
        with anyio.fail_after(60):
            result = await self.client.call_tool(tool, arguments)
        assert not result.is_error, f"{tool}({arguments}): {result.content}"
        return structured(result)

    def pid(self) -> int:
        """The server process's pid, found among this test's descendants by its state dir."""
        found = [
            pid
            for pid in processes.descendants(os.getpid())
            if " serve " in (text := cmdline(pid)) and str(self.state_dir) in text
        ]
        assert len(found) == 1, found
        return found[0]

    def worker_pid(self, job_id: str) -> int:
        """The pid of a job's worker, as journaled."""
        record = json.loads((self.state_dir / "jobs" / job_id / "job.json").read_text())
        assert isinstance(record["pid"], int)
        return record["pid"]


@asynccontextmanager
async def serve(
    repo: Path, state_dir: Path, model: ScriptedModel, *extra: str, environ: Mapping[str, str] | None = None
) -> AsyncGenerator[Server]:
    """Start ``codex-subagents serve`` as Codex would, its workers answering to ``model``.

    The server gets only a few variables of this process's environment, plus ``environ``.
    """
    args = [
        "serve",
        "--isolated",
        "--codex",
        str(real_codex()),
        "--allow-root",
        str(repo),
        "--state-dir",
        str(state_dir),
    ]
    args += ["--kill-grace", "2"]
    for item in (*model.codex_overrides(), "model=gpt-5.5"):
        args += ["--worker-config", item]
    keep = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH"}
    env = {name: value for name, value in os.environ.items() if name in keep} | dict(environ or {})
    parameters = StdioServerParameters(command=str(SERVE), args=[*args, *extra], env=env, cwd=repo)
    async with Client(parameters, read_timeout_seconds=120) as client:
        yield Server(client, state_dir)


def structured(result: CallToolResult) -> Json:
    """The structured result of a tool call that succeeded."""
    assert not result.is_error, result.content
    content: object = result.structured_content
    assert isinstance(content, dict)
    return cast("Json", content)


def items(value: object) -> list[Json]:
    """A result field that must be a list of objects."""
    assert isinstance(value, list)
    listed = cast("list[object]", value)
    assert all(isinstance(item, dict) for item in listed), listed
    return cast("list[Json]", listed)


# -- processes ------------------------------------------------------------------------------------


def cmdline(pid: int) -> str:
    """The command line of ``pid``, or an empty string when it is gone."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""


def short(processes: Mapping[int, str]) -> dict[int, str]:
    """Processes with their command lines cut to a readable length, for failure messages."""
    return {pid: text[:100] for pid, text in processes.items()}


def tree_of(pid: int) -> dict[int, float]:
    """``pid`` and its living descendants, each with its start time."""
    found: dict[int, float] = {}
    for member in {pid, *processes.descendants(pid)}:
        start = processes.process_start(member)
        if start is not None:
            found[member] = start
    return found


def survivors(snapshot: Mapping[int, float]) -> dict[int, str]:
    """Those processes of ``snapshot`` still running (same start time, not a zombie), with their command lines."""
    living = processes.alive(set(snapshot))
    return {pid: cmdline(pid) for pid in living if processes.process_start(pid) == snapshot[pid]}


def marked(job_id: str) -> dict[int, str]:
    """Every living process whose environment carries the worker marker of ``job_id``."""
    return {pid: cmdline(pid) for pid in processes.carrying(f"{JOB_ENV}={job_id}")}


def group_members(pgid: int) -> dict[int, str]:
    """The living (non-zombie) processes of process group ``pgid``."""
    found: dict[int, str] = {}
    for pid in processes.alive(psutil.pids()):
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pgid:
                found[pid] = cmdline(pid)
    return found


def group_exists(pgid: int) -> bool:
    """Whether any process, zombies included, is still in group ``pgid`` (``killpg(pgid, 0)``)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


async def eventually(condition: Callable[[], bool], limit_s: float, what: str) -> None:
    """Wait until ``condition`` holds, or fail naming ``what``.

    Only for facts about processes that are not ours to wait on (init reaping a
    killed worker's zombie, a worker's shell forking its children): the kernel
    announces them to nobody, so there is no event to wait for.
    """
    with anyio.move_on_after(limit_s):
        while not condition():  # noqa: ASYNC110 -- no event exists for another process's fate
            await anyio.sleep(0.02)
    assert condition(), what


def kill_pids(pids: Mapping[int, str]) -> None:
    """SIGKILL processes this test started and found alive, each by its pid."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def bwrap_failed(outputs: list[str]) -> str | None:
    """The sandbox error text if bubblewrap could not run a command on this machine."""
    return next((text for text in outputs if "bwrap:" in text), None)
