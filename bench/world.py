"""What every figure needs: a git repository, worker scripts, a stdio server session and process facts.

The server is started exactly as a boss's Codex starts it, ``codex-subagents serve`` over
stdio, with ``--isolated`` workers that run the real Codex CLI against a `ScriptedModel`
living in the bench's own event loop, or, where the server's answers are timed, in a process
of its own (`model_process`). Scripts are made per figure: a final answer streamed
for a fixed time, or a varied turn (reasoning, a shell command, a patch) followed by an answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO, cast

import anyio
import psutil
from anyio.abc import Process
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from pydantic import JsonValue

from codex_subagents.core.procs import parent_of
from codex_subagents.scripted_model import Script, parse_scripts

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVE = PROJECT_ROOT / ".venv" / "bin" / "codex-subagents"
CODEX = PROJECT_ROOT / "node_modules" / ".bin" / "codex"
Json = dict[str, object]


class BenchError(RuntimeError):
    """Raised when a measurement cannot be taken: a tool failed or a job did not succeed."""


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path) -> Path:
    """Create a git repository with one committed file."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("bench\n")
    git(path, "add", "-A")
    git(path, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "start")
    return path


def _scripts(name: str, marker: str, turns: list[JsonValue]) -> tuple[Script, ...]:
    return parse_scripts({"scripts": {name: {"match": marker, "turns": turns}}})


def streamed(name: str, seconds: float) -> tuple[Script, ...]:
    """A worker that streams its final answer for ``seconds`` (in 0.1 s deltas), marked ``[bench NAME]``."""
    chunks = max(1, round(seconds * 10))
    summary = "streamed for a fixed time, " + "so every run costs the same model time " * 4
    answer: dict[str, JsonValue] = {"summary": summary.strip(), "modifiedFiles": []}
    turn: dict[str, JsonValue] = {"final_json": answer, "stream_chunks": chunks}
    if seconds > 0:
        turn["stream_interval_s"] = seconds / chunks
    return _scripts(name, f"[bench {name}]", [turn])


def varied(name: str, index: int) -> tuple[Script, ...]:
    """A worker that reasons, runs a shell command, applies a patch, then reports both files."""
    shell_file, patch_file = f"shell-{name}.txt", f"patch-{name}.txt"
    patch = f"*** Begin Patch\n*** Add File: {patch_file}\n+written by {name}\n*** End Patch\n"
    calls: list[JsonValue] = [
        {"shell": f"seq 1 {40 * (index % 7 + 1)} | tee {shell_file}", "login": False},
        {"patch": patch},
    ]
    answer: dict[str, JsonValue] = {"summary": f"{name} wrote two files", "modifiedFiles": [shell_file, patch_file]}
    turns: list[JsonValue] = [
        {"reasoning": f"Write {shell_file} from the shell and {patch_file} with a patch.", "calls": calls},
        {"final_json": answer},
    ]
    return _scripts(name, f"[bench {name}]", turns)


def prompt(name: str) -> str:
    """The prompt that selects script ``name``."""
    return f"[bench {name}] Do the scripted task."


@dataclass
class Session:
    """A live MCP session to ``codex-subagents serve`` and the server's process id."""

    client: Client
    pid: int
    state_dir: Path

    async def call(self, tool: str, **arguments: object) -> Json:
        """Call a tool and return its structured result; raise `BenchError` on a tool error."""
        result = await self.client.call_tool(tool, dict(arguments))
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content)
            raise BenchError(f"{tool}({arguments}) failed: {text}")
        content: object = result.structured_content
        if not isinstance(content, dict):
            raise BenchError(f"{tool} returned no structured content")
        return cast("Json", content)

    async def spawn(self, name: str) -> str:
        """Spawn a worker on script ``name`` and return its job id."""
        return text(await self.call("codex_spawn", prompt=prompt(name), label=name), "job_id")

    async def wait_all(
        self, job_ids: Sequence[str], timeout_s: float = 600, *, require_success: bool = True
    ) -> list[Json]:
        """Call codex_wait_any until every job of ``job_ids`` is reported (and, by default, succeeded)."""
        finished: list[Json] = []
        with anyio.fail_after(timeout_s):
            while len(finished) < len(job_ids):
                answer = await self.call("codex_wait_any", job_ids=list(job_ids), timeout_s=min(timeout_s, 240))
                finished += entries(answer, "finished")
        failed = [job for job in finished if job.get("state") != "succeeded"]
        if failed and require_success:
            raise BenchError(f"{len(failed)} of {len(job_ids)} jobs did not succeed, e.g. {failed[0]}")
        return finished


@asynccontextmanager
async def serving(repo: Path, model: Provider, state_dir: Path, *extra: str, errlog: TextIO) -> AsyncGenerator[Session]:
    """Start ``codex-subagents serve`` over stdio with workers on ``model`` and yield the session."""
    args = ["serve", "--isolated", "--allow-root", str(repo), "--state-dir", str(state_dir), *extra]
    for item in worker_config(model):
        args += ["--worker-config", item]
    parameters = StdioServerParameters(command=str(SERVE), args=args, env=server_environment(), cwd=repo)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            Client(stdio_client(parameters, errlog=errlog), read_timeout_seconds=600)
        )
        yield Session(client=client, pid=_server_pid(state_dir), state_dir=state_dir)


class Provider(Protocol):
    """What a worker needs of a scripted model: the overrides that point Codex at it."""

    def codex_overrides(self) -> list[str]:
        """The ``-c`` values of the provider."""
        ...


@dataclass(frozen=True)
class ModelProcess:
    """A scripted model serving from a process of its own (see `model_process`)."""

    overrides: list[str]

    def codex_overrides(self) -> list[str]:
        """The ``-c`` values it printed when it was ready."""
        return self.overrides


@asynccontextmanager
async def model_process(scripts: dict[str, JsonValue], tmp: Path) -> AsyncGenerator[ModelProcess]:
    """Serve ``scripts`` (a script file's table) from a scripted model in a process of its own.

    A figure that times the server's answers uses it, so that the client timing them
    does not also serve every worker's model turns in its own event loop, as a
    boss's Codex does not. It runs in a session of its own: a real model is remote,
    and where the kernel shares the processor out between sessions first, it would
    otherwise draw on the client's share.
    """
    path = tmp / "scripts.json"
    path.write_text(json.dumps(scripts), encoding="utf-8")
    command = [sys.executable, "-m", "codex_subagents.scripted_model", "--script", str(path)]
    async with await anyio.open_process(command, stderr=None, start_new_session=True) as process:
        try:
            with anyio.fail_after(60):
                ready = await _first_line(process)
            overrides = json.loads(ready)["codex_overrides"]
            yield ModelProcess(overrides=[str(item) for item in overrides])
        finally:
            process.terminate()
            with anyio.move_on_after(10):
                await process.wait()


async def _first_line(process: Process) -> bytes:
    if process.stdout is None:
        raise BenchError("the scripted model process has no stdout")
    line = b""
    async for chunk in process.stdout:
        line += chunk
        if b"\n" in line:
            return line
    raise BenchError(f"the scripted model process ended before it was ready (exit code {process.returncode})")


def worker_config(model: Provider) -> list[str]:
    """The ``-c`` overrides every worker gets: the scripted provider and a bundled model slug."""
    return [*model.codex_overrides(), "model=gpt-5.5"]


def server_environment() -> dict[str, str]:
    """The environment the server (and so its workers) starts with."""
    return {name: value for name, value in os.environ.items() if name in {"PATH", "HOME", "LANG", "TMPDIR"}}


def _server_pid(state_dir: Path) -> int:
    for pid in descendants(os.getpid()):
        try:
            cmdline = psutil.Process(pid).cmdline()
        except psutil.Error:
            continue
        if "serve" in cmdline and str(state_dir) in cmdline and parent_of(pid) == os.getpid():
            return pid
    raise BenchError("cannot find the server process among the bench's children")


def text(data: Json, key: str) -> str:
    """Read a string field of a tool result."""
    value = data.get(key)
    if not isinstance(value, str):
        raise BenchError(f"{key!r} is not a string in {data}")
    return value


def number(data: Json, key: str) -> float:
    """Read a number field of a tool result."""
    value = data.get(key)
    if not isinstance(value, int | float):
        raise BenchError(f"{key!r} is not a number in {data}")
    return float(value)


def entry(data: Json, key: str) -> Json:
    """Read an object field of a tool result."""
    value = data.get(key)
    if not isinstance(value, dict):
        raise BenchError(f"{key!r} is not an object in {data}")
    return cast("Json", value)


def entries(data: Json, key: str) -> list[Json]:
    """Read a list-of-objects field of a tool result."""
    value = data.get(key)
    if not isinstance(value, list):
        raise BenchError(f"{key!r} is not a list in {data}")
    return [cast("Json", item) for item in cast("list[object]", value) if isinstance(item, dict)]


def rss_kb(pid: int) -> int:
    """The resident memory of ``pid`` now, in kB."""
    return psutil.Process(pid).memory_info().rss // 1024


async def sample_peak_kb(pid: int, peak: list[int], every_s: float = 0.02) -> None:
    """Keep the largest resident memory of ``pid`` seen in ``peak[0]``, looking every ``every_s`` until cancelled.

    No portable interface gives another process's peak, so it is sampled; a spike shorter than the
    interval can be missed.
    """
    while True:
        peak[0] = max(peak[0], rss_kb(pid))
        await anyio.sleep(every_s)


def open_fds(pid: int) -> int:
    """Count the open file descriptors of ``pid``."""
    return psutil.Process(pid).num_fds()


def children(pid: int) -> int:
    """Count the living descendants of ``pid``."""
    return len(descendants(pid))


def descendants(pid: int) -> list[int]:
    """The pids of the living descendants of ``pid``."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def clock() -> float:
    """A monotonic clock for durations."""
    return time.perf_counter()
