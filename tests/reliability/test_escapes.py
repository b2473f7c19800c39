"""A process that escapes a worker's tree with ``setsid`` and a double fork is still stopped with its job.

Such a process has left the worker's session and its parent has exited, so the
kernel re-parents it away from the worker: neither the process group nor the
tree reaches it. It still carries the job's marker variable, and the server
sweeps every process that does. Without a sandbox nothing else contains it; in
Codex's ``workspace-write`` sandbox its PID namespace holds it as well. Only a
process that also clears its environment escapes, which the docs say.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRequest
from codex_subagents.scripted_model import ScriptedModel
from codex_subagents.supervision.supervisor import JobSupervisor
from portable import SETSID
from reliability.support import eventually, final, kill_pids, make_repo, marked, prompt, real_settings, scripts, tree_of

pytestmark = [pytest.mark.anyio, pytest.mark.codex]

ESCAPE = f"({SETSID} sleep 300 &)"
SCRIPTS = scripts(
    held=[{"shell": f"{ESCAPE}; sleep 300", "login": False, "yield_time_ms": 300}, {"hold": True, **final()}],
    done=[{"shell": ESCAPE, "login": False}, final()],
)
SANDBOXES = ["danger-full-access", "workspace-write"]


def _sleeps(job_id: str) -> dict[int, str]:
    return {pid: cmd for pid, cmd in marked(job_id).items() if cmd.startswith("sleep 300")}


@asynccontextmanager
async def _worker(tmp_path: Path, script: str, sandbox: str) -> AsyncGenerator[tuple[JobSupervisor, Job]]:
    """Run script ``script`` as a real worker in ``sandbox``; afterwards kill whatever of it survived."""
    repo = make_repo(tmp_path / "repo")
    request = JobRequest(
        prompt=prompt(script), cwd=str(repo), label=script, sandbox=sandbox, wall_timeout_s=120, idle_timeout_s=120
    )
    async with ScriptedModel(SCRIPTS) as model:
        settings = real_settings(model, tmp_path / "state", repo, allow_danger_full_access=True)
        async with JobSupervisor(settings) as supervisor:
            job = await supervisor.spawn(request)
            try:
                yield supervisor, job
            finally:
                kill_pids(marked(job.job_id))


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_a_cancel_stops_a_child_that_left_the_workers_session_and_tree(tmp_path: Path, sandbox: str) -> None:
    """The escaped ``sleep`` is outside the worker's tree when the cancel comes, and gone after it."""
    async with _worker(tmp_path, "held", sandbox) as (supervisor, job):
        with anyio.fail_after(60):
            await eventually(lambda: len(_sleeps(job.job_id)) >= 2, 30, "the worker's sleeps never started")
            assert job.record.pid is not None
            escaped = set(_sleeps(job.job_id)) - set(tree_of(job.record.pid))
            if sandbox == "danger-full-access":
                assert escaped, f"no sleep left the tree of {job.record.pid}: {_sleeps(job.job_id)}"
            await supervisor.cancel(job.job_id)
        left = marked(job.job_id)
    assert not left, f"processes of {job.job_id} survived its cancel: {left}"
    assert job.record.state == "cancelled"


@pytest.mark.parametrize("sandbox", SANDBOXES)
async def test_a_worker_that_finishes_leaves_no_escaped_child_behind(tmp_path: Path, sandbox: str) -> None:
    """A worker that started a ``setsid`` child and then answered is succeeded, and its child is gone."""
    async with _worker(tmp_path, "done", sandbox) as (_, job):
        with anyio.fail_after(60):
            await job.finished.wait()
        left = marked(job.job_id)
    assert job.record.state == "succeeded", job.record.result
    assert not left, f"processes of {job.job_id} outlived it: {left}"
