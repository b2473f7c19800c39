"""Play the boss in tests: a real stdio MCP session to ``codex-subagents serve``, driven from sync steps.

pytest-bdd steps are synchronous, so the async world (the scripted model, the
MCP client) lives behind an anyio blocking portal. Workers are the real Codex
CLI, started by the server, answering to the scripted model of the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Generator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import psutil
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import Client
from mcp.client.stdio import StdioServerParameters

import processes
from codex_subagents.scripted_model import ScriptedModel, load_scripts
from codex_under_test import codex_under_test

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVE = PROJECT_ROOT / ".venv" / "bin" / "codex-subagents"
Json = dict[str, object]


class ToolFailedError(AssertionError):
    """Raised when a tool call the boss expected to succeed returned an error."""


@dataclass
class Boss:
    """One MCP client session to the server, plus the repository and model it works with.

    The server can be stopped, gracefully or by SIGKILL, and started again on the
    same state dir while the scripted model, and so any orphaned worker, lives on.
    """

    portal: BlockingPortal
    repo: Path
    model: ScriptedModel
    state_dir: Path | None
    extra: tuple[str, ...] = ()
    environ: dict[str, str] = field(default_factory=dict[str, str])
    isolated: bool = True
    _session: ExitStack = field(default_factory=ExitStack)
    _client: Client | None = None

    @property
    def client(self) -> Client:
        """The live session; fails when the server is stopped."""
        assert self._client is not None, "the server is stopped"
        return self._client

    def start(self) -> None:
        """Start the server and connect to it."""
        parameters = serve_parameters(
            self.repo, self.model, self.state_dir, *self.extra, environ=self.environ, isolated=self.isolated
        )
        client = self.portal.wrap_async_context_manager(Client(parameters, read_timeout_seconds=300))
        self._client = self._session.enter_context(client)

    def stop(self, *, kill: bool = False) -> None:
        """Disconnect, which ends the server; with ``kill``, SIGKILL it first so nothing is shut down in order."""
        if kill:
            os.kill(self.server_pid(), signal.SIGKILL)
        self._session.close()
        self._client = None

    def server_pid(self) -> int:
        """The pid of this session's ``codex-subagents serve`` process, a child of this test process."""
        found = [pid for pid in processes.descendants(os.getpid()) if _is_server(pid, self.repo)]
        assert len(found) == 1, f"expected one server process, found {found}"
        return found[0]

    def call(self, tool: str, **arguments: object) -> Json:
        """Call a tool and return its structured result; fail the test on a tool error."""
        result = self.portal.call(lambda: self.client.call_tool(tool, arguments))
        text = " ".join(getattr(block, "text", "") for block in result.content)
        if result.is_error:
            raise ToolFailedError(f"{tool}({arguments}) failed: {text}")
        content: object = result.structured_content
        assert isinstance(content, dict)
        return cast("Json", content)

    def refused(self, tool: str, **arguments: object) -> str:
        """Call a tool that must fail and return its error text."""
        result = self.portal.call(lambda: self.client.call_tool(tool, arguments))
        text = " ".join(getattr(block, "text", "") for block in result.content)
        assert result.is_error, f"{tool} should have failed, returned {result.structured_content}"
        return text

    def wait_all(self, job_ids: Sequence[str], timeout_s: float = 120) -> list[Json]:
        """Wait, as the boss's loop does, until every job of ``job_ids`` is reported finished.

        A wait may also return early for an alert, with nothing finished, so the loop is bounded by a
        number of waits, not by the number of jobs.
        """
        finished: list[Json] = []
        for _ in range(4 * len(job_ids) + 4):
            if len(finished) == len(job_ids):
                break
            answer = self.call("codex_wait_any", job_ids=list(job_ids), timeout_s=timeout_s)
            assert not answer["timed_out"], f"jobs did not finish in {timeout_s} s: {answer['pending']}"
            reported = answer["finished"]
            assert isinstance(reported, list)
            finished += reported
        assert len(finished) == len(job_ids), f"reported {finished}, expected {list(job_ids)}"
        return finished


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` and return its output."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, files: dict[str, str]) -> Path:
    """Create a git repository with ``files`` committed."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git(path, "add", "-A")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    return path


def serve_parameters(
    repo: Path,
    model: ScriptedModel,
    state_dir: Path | None,
    *extra: str,
    environ: Mapping[str, str] | None = None,
    isolated: bool = True,
) -> StdioServerParameters:
    """The command that starts the server as a boss's Codex would, with workers on the scripted model.

    Without ``state_dir`` the server keeps its journal where it does by default, in the git directory.
    The server gets a few variables of this process's environment, the Codex CLI under test as
    ``CODEX_SUBAGENTS_CODEX``, plus ``environ``. Its workers ignore the user's Codex configuration unless
    ``isolated`` is false.
    """
    worker_config = [*model.codex_overrides(), "model=gpt-5.5"]
    args = ["serve", "--allow-root", str(repo), "--kill-grace", "2", *(["--isolated"] if isolated else [])]
    if state_dir is not None:
        args += ["--state-dir", str(state_dir)]
    for item in worker_config:
        args += ["--worker-config", item]
    env = {name: value for name, value in os.environ.items() if name in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env |= {"CODEX_SUBAGENTS_CODEX": str(codex_under_test())} | dict(environ or {})
    return StdioServerParameters(command=str(SERVE), args=[*args, *extra], env=env, cwd=repo)


def _is_server(pid: int, repo: Path) -> bool:
    try:
        command = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return str(SERVE) in command and "serve" in command and str(repo) in command


@contextmanager
def boss_session(
    repo: Path,
    state_dir: Path | None,
    *extra: str,
    scripts: Sequence[Path] = (),
    environ: Mapping[str, str] | None = None,
    isolated: bool = True,
) -> Generator[Boss]:
    """Start the scripted model with the script files ``scripts`` (steps may add more) and the server."""
    with start_blocking_portal("asyncio") as portal:
        model = portal.wrap_async_context_manager(ScriptedModel(load_scripts(list(scripts))))
        with model as live_model:
            boss = Boss(
                portal=portal,
                repo=repo,
                model=live_model,
                state_dir=state_dir,
                extra=extra,
                environ=dict(environ or {}),
                isolated=isolated,
            )
            boss.start()
            try:
                yield boss
            finally:
                boss.stop()
