"""Process control reaches a worker's whole tree, escapes included, and only processes provably the job's.

Each test starts real processes: a shell in a session of its own, as a worker
is, whose children leave its session (``setsid``) or its tree (a double fork).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import anyio
import anyio.streams.text
import psutil
import pytest

import processes
from codex_subagents.core import procs
from codex_subagents.jobs.worker import JOB_ENV, marker
from portable import SETSID

pytestmark = pytest.mark.anyio

FAMILY = f"sleep 600 & {SETSID} sleep 600 & ({SETSID} sleep 600 &); echo ready; wait"


async def test_a_stop_reaches_children_in_other_sessions_and_escapes_that_carry_the_marker() -> None:
    """A child in the worker's group, one in a session of its own and a double-forked one all die with the worker."""
    env = {**os.environ, JOB_ENV: "j-family"}
    process = await anyio.open_process(["sh", "-c", FAMILY], env=env, start_new_session=True, stdout=subprocess.PIPE)
    async with process:
        assert process.stdout is not None
        with anyio.fail_after(10):
            assert (await process.stdout.receive()).strip() == b"ready"
        worker = procs.handle(process.pid)
        members = {proc.pid for proc in procs.members(worker, marker("j-family"))}
        escaped = processes.carrying(marker("j-family")) - processes.descendants(process.pid) - {process.pid}
        assert len(members) >= 4 and escaped, (members, escaped)
        with anyio.fail_after(10):
            assert await procs.stop_tree(process, worker, 1.0, marker("j-family")) == set()
        assert processes.alive(members) == set()


async def test_a_pid_is_only_the_workers_while_its_start_time_matches() -> None:
    """A handle asked for with another start time is refused, so nothing recorded for an older process is signalled."""
    with subprocess.Popen(["sleep", "600"]) as other:  # noqa: ASYNC220 -- a process that is not the job's
        try:
            start = processes.process_start(other.pid)
            assert start is not None
            assert procs.handle(other.pid, start) is not None
            assert procs.handle(other.pid, start + 1) is None
            procs.kill_now(procs.handle(other.pid, start + 1), marker("j-none"))
            assert other.poll() is None
        finally:
            other.kill()


def test_the_environment_of_a_process_is_read_and_a_gone_one_reads_empty() -> None:
    """A child's environment shows its marker; a process that is gone has no environment and no parent."""
    # No exec after the line: while a process execs, its environment can read as empty.
    script = [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(600)"]
    with subprocess.Popen(script, env={**os.environ, JOB_ENV: "j-env"}, stdout=subprocess.PIPE) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == b"started\n"
            assert procs.environment(child.pid)[JOB_ENV] == "j-env"
            assert procs.parent_of(child.pid) == os.getpid()
        finally:
            child.kill()
    assert (procs.environment(child.pid), procs.parent_of(child.pid), processes.process_start(child.pid)) == (
        {},
        None,
        None,
    )


STRAY_PYTHON = 'import os; os.setpgid(0, 0); print("stray", flush=True); os.execvp("sleep", ["sleep", "601"])'
STRAY = f"(env -i python3 -c '{STRAY_PYTHON}' &); sleep 602 & echo ready; read _ || true"


def in_session(session: int) -> set[int]:
    """The living processes of ``session``."""
    found: set[int] = set()
    for pid in processes.alive(psutil.pids()):
        with contextlib.suppress(OSError):
            if os.getsid(pid) == session:
                found.add(pid)
    return found


async def test_an_unmarked_stray_left_in_the_workers_session_is_swept_after_the_worker_exits() -> None:
    """A process that cleared its environment and left the tree and the group, but not the session, dies with the job.

    The worker has exited and been reaped, so its pid alone proves nothing; the
    marked ``sleep`` still in its session proves the session is the job's.
    """
    env = {**os.environ, JOB_ENV: "j-stray"}
    process = await anyio.open_process(
        ["sh", "-c", STRAY], env=env, start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    async with process:
        worker = procs.handle(process.pid)
        assert worker is not None and process.stdin is not None and process.stdout is not None
        lines = anyio.streams.text.TextReceiveStream(process.stdout)
        with anyio.fail_after(10):
            heard = ""
            while not {"stray", "ready"} <= set(heard.split()):
                heard += await lines.receive()
            await process.stdin.aclose()
            assert await process.wait() == 0
    left = in_session(process.pid)
    marked = processes.carrying(marker("j-stray"))
    assert left - marked and marked, (left, marked)
    procs.kill_now(worker, marker("j-stray"))
    with anyio.fail_after(5):
        while processes.alive(left):  # noqa: ASYNC110 -- no event announces the death of a process that is not ours
            await anyio.sleep(0.02)
