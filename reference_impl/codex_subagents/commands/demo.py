"""``codex-subagents demo``: a real Codex boss runs three real Codex workers, sees a collision and recovers.

Everything is local and offline: a temporary git repository, the scripted model
provider playing the models of the boss and of each worker (``demo.toml``), the
boss as ``codex exec`` with this server registered and the skill installed, and
the workers the server starts. The story is read off the boss's own event
stream and the server's job journals, and printed as it happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import ByteReceiveStream
from anyio.streams.buffered import BufferedByteReceiveStream

from ..codex_home.skill import SKILL_NAME, packaged_skill
from ..core import state_layout as layout
from ..core.config import find_codex
from ..core.errors import ConfigError
from ..jobs.events import EVENT_ADAPTER, CommandExecution, FileChange, Item, ItemEvent, McpToolCall
from ..jobs.journal import RECORD, read_record
from ..observe.follow import EventReader
from ..scripted_model import ScriptedModel, load_scripts
from .report import report_of

_HERE = Path(__file__).resolve().parent
BOSS_PROMPT = (
    "DEMO-BOSS $codex-subagents Add a Usage section to README.md, and goodbye(name) and shout(name) "
    "helpers to greet.py, with workers in parallel."
)
_FILES = {
    "README.md": "# greet\n",
    "greet.py": 'def hello(name):\n    return f"Hello, {name}!"\n',
}


@dataclass(frozen=True)
class BossSetup:
    """What an installer prepares the boss's Codex for: its model, the repository, the server's state directory."""

    model: ScriptedModel
    repo: Path
    state: Path
    workdir: Path
    """A scratch directory the installer may use (for a ``CODEX_HOME``, say)."""
    codex: Path
    """The Codex CLI the boss runs, which the server's workers run too."""


Install = Callable[[BossSetup], Awaitable[Mapping[str, str]]]
"""Set up the server and the skill for the boss; return the boss's environment."""


async def install_in_config(setup: BossSetup) -> Mapping[str, str]:
    """Register the server in a fresh ``CODEX_HOME``'s ``config.toml`` and copy the skill there."""
    home = setup.model.prepare_codex_home(setup.workdir / "boss-home", extra_config=_server_entry(setup))
    shutil.copytree(packaged_skill(), home / "skills" / SKILL_NAME)
    return {**os.environ, "CODEX_HOME": str(home)}


def run_demo(*, json_output: bool = False, keep: bool = False) -> int:
    """Tell the whole story in a fresh temporary repository; return the exit code."""
    say = _printer(json_output)
    if shutil.which("git") is None:
        say("error", "git is required and was not found on PATH; install git, then run the demo again.")
        return 2
    try:
        codex = find_codex()
    except ConfigError as exc:
        say("error", str(exc))
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="codex-subagents-demo-"))
    try:
        return anyio.run(lambda: tell_story(codex, workdir, say))
    finally:
        report = workdir / "report.html" if keep else workdir.with_name(f"{workdir.name}-report.html")
        say("report", report_of(workdir / "state", workdir / "repo", report))
        if keep:
            say("kept", f"the demo repository is kept at {workdir / 'repo'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def tell_story(
    codex: Path,
    workdir: Path,
    say: Callable[..., None],
    *,
    scripts: Path = _HERE / "demo.toml",
    prompt: str = BOSS_PROMPT,
    files: Mapping[str, str] = _FILES,
    install: Install = install_in_config,
) -> int:
    """Run a real Codex boss on ``prompt`` in a new repository of ``files`` under ``workdir``.

    The models of the boss and its workers play ``scripts``; ``install`` sets up the
    server and the skill for the boss. The request log is kept in
    ``workdir/model-requests.jsonl`` and the server's state in ``workdir/state``.
    """
    repo = _make_repo(workdir / "repo", files)
    state = workdir / "state"
    say("start", f"a git repository with {', '.join(files)}; a boss and workers on a scripted model, offline")
    say("watch", f"to see the workers live, in another terminal: codex-subagents watch --state-dir {state}")
    async with ScriptedModel(load_scripts([scripts]), log_path=workdir / "model-requests.jsonl") as model:
        env = dict(await install(BossSetup(model, repo, state, workdir, codex)))
        argv = [
            str(codex), "exec", "--json", "--skip-git-repo-check", "--ephemeral",
            "--sandbox=read-only", f"--cd={repo}", "--model=gpt-5.5", "-",
        ]  # fmt: skip
        started = time.monotonic()
        watcher = _JournalWatcher(layout.jobs(state), say, started)
        errors = workdir / "boss-stderr.log"
        with errors.open("wb") as stderr:
            boss = await anyio.open_process(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)
        async with boss:
            assert boss.stdin is not None and boss.stdout is not None
            async with boss.stdin:
                await boss.stdin.send(prompt.encode())
            async with anyio.create_task_group() as tg:
                tg.start_soon(watcher.run)
                await _follow_boss(boss.stdout, say, started, watcher.drain_all)
                tg.cancel_scope.cancel()
            code = await boss.wait()
    if code != 0:
        say("error", "the boss failed; its last words:\n" + errors.read_text(errors="replace")[-3000:])
        return 1
    say("diff", _final_diff(repo))
    say("done", f"finished in {time.monotonic() - started:.1f} s, boss exit code {code}")
    return 0 if code == 0 else 1


async def _follow_boss(
    stdout: ByteReceiveStream, say: Callable[..., None], started: float, catch_up: Callable[[], None]
) -> None:
    buffered = BufferedByteReceiveStream(stdout)
    while True:
        try:
            line = await buffered.receive_until(b"\n", 16 * 1024 * 1024)
        except (anyio.IncompleteRead, anyio.EndOfStream):
            return
        event = EVENT_ADAPTER.validate_json(line) if line.startswith(b"{") else None
        if isinstance(event, ItemEvent) and event.type == "item.completed":
            catch_up()
            item = event.item
            if isinstance(item, McpToolCall):
                say("boss", _describe_call(item), elapsed=time.monotonic() - started)
            elif item.type == "agent_message":
                say("boss", f"says: {item.text}", elapsed=time.monotonic() - started)
            elif item.type == "reasoning":
                say("boss", f"thinks: {item.text}", elapsed=time.monotonic() - started)


def _describe_call(call: McpToolCall) -> str:
    arguments = call.arguments if isinstance(call.arguments, dict) else {}
    result = call.result if isinstance(call.result, dict) else {}
    data = result.get("structured_content")
    out = data if isinstance(data, dict) else {}
    match call.tool:
        case "codex_baseline":
            return f"records baseline {out.get('baseline_id')}"
        case "codex_spawn":
            return f"spawns worker {arguments.get('label')!r} -> {out.get('job_id')} ({out.get('state')})"
        case "codex_wait_any":
            done = out.get("finished")
            jobs: list[object] = list(done) if isinstance(done, list) else []
            names = [f"{job.get('label')} {job.get('state')}" for job in jobs if isinstance(job, dict)]  # pyright: ignore[reportUnknownMemberType] -- a tool answer is untyped JSON
            raised = out.get("alerts")
            alerts: list[object] = list(raised) if isinstance(raised, list) else []
            seen = [f"{a.get('kind')} on {a.get('path')}" for a in alerts if isinstance(a, dict)]  # pyright: ignore[reportUnknownMemberType] -- a tool answer is untyped JSON
            return f"waits: {', '.join(names) or 'nothing yet'}" + (f"; alert: {', '.join(seen)}" if seen else "")
        case "codex_overlaps":
            return f"compares changes: overlaps {out.get('overlaps')}, unclaimed {out.get('unclaimed')}"
        case "codex_rollback":
            return f"rolls back to the baseline: restored {out.get('restored')}"
        case _:
            return f"calls {call.tool} ({call.status})"


class _JournalWatcher:
    """Print what each worker does, read off the server's job journals as they grow."""

    def __init__(self, jobs: Path, say: Callable[..., None], started: float) -> None:
        self._jobs, self._say, self._started = jobs, say, started
        self._readers: dict[Path, tuple[str, EventReader]] = {}

    async def run(self) -> None:
        while True:
            self.drain_all()
            await anyio.sleep(0.1)

    def drain_all(self) -> None:
        for record in sorted(self._jobs.glob(f"*/{RECORD}")):
            if record.parent not in self._readers:
                self._readers[record.parent] = (read_record(record).request.label, EventReader(record.parent))
            label, reader = self._readers[record.parent]
            for event in reader.events():
                if isinstance(event, ItemEvent) and event.type == "item.completed":
                    self._tell(label, event.item)

    def _tell(self, label: str, item: Item) -> None:
        if isinstance(item, FileChange):
            text = "patches " + ", ".join(Path(change.path).name for change in item.changes)
        elif isinstance(item, CommandExecution):
            text = f"runs {item.command.split(' -lc ')[-1][:60]}"
        else:
            return
        self._say("worker", f"{label}: {text}", elapsed=time.monotonic() - self._started)


def _make_repo(path: Path, files: Mapping[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    git = ["git", "-c", "user.name=demo", "-c", "user.email=demo@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-qm", "start"], cwd=path, check=True)
    return path


def serve_options(setup: BossSetup) -> list[str]:
    """The ``serve`` options of the demo's server: workers isolated, on the scripted model and the boss's Codex CLI."""
    options = ["--isolated", "--cap", "3", "--allow-root", str(setup.repo), "--state-dir", str(setup.state)]
    options += ["--codex", str(setup.codex)]
    for item in (*setup.model.codex_overrides(), "model=gpt-5.5"):
        options += ["--worker-config", item]
    return options


def _server_entry(setup: BossSetup) -> str:
    args = ["-m", "codex_subagents", "serve", *serve_options(setup)]
    return (
        "[mcp_servers.codex-subagents]\n"
        f"command = {json.dumps(sys.executable)}\n"
        f"args = [{', '.join(json.dumps(arg) for arg in args)}]\n"
        "required = true\n"
        "tool_timeout_sec = 300\n"
        'default_tools_approval_mode = "approve"\n'
    )


def _final_diff(repo: Path) -> str:
    return subprocess.run(["git", "diff"], cwd=repo, capture_output=True, text=True, check=True).stdout


def _printer(json_output: bool) -> Callable[..., None]:
    def say(kind: str, text: str, *, elapsed: float | None = None) -> None:
        if json_output:
            print(json.dumps({"kind": kind, "text": text, "elapsed_s": elapsed}), flush=True)
        elif kind == "diff":
            print("\nThe final change (git diff):\n" + text, flush=True)
        else:
            stamp = f"[{elapsed:5.1f}s] " if elapsed is not None else ""
            print(f"{stamp}{kind:>6}  {text}", flush=True)

    return say
