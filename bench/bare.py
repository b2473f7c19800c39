"""Bare ``codex exec`` workers, without the server: the machine's own limit to compare the server with.

`launches` builds the very command lines, standard input and environment the server
would give its workers (``worker.build_launch`` with the same settings), each with an
output file of its own; `run` starts one, feeds its prompt, reads its stdout to the end
and reports how long it took to exit after its last line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio

from codex_subagents.core.config import Settings, find_codex
from codex_subagents.jobs.worker import Launch, build_launch, write_schema
from codex_subagents.scripted_model import ScriptedModel

from .world import BenchError, clock, prompt, server_environment, worker_config


def launches(model: ScriptedModel, script: str, repo: Path, state: Path, count: int) -> list[Launch]:
    """The launches the server would make for ``count`` workers on ``script``."""
    settings = Settings(
        state_dir=state,
        allow_roots=(repo,),
        worker_config=tuple(worker_config(model)),
        isolated=True,
        codex=find_codex(),
    )
    (state / "codex-home").mkdir(parents=True, exist_ok=True)
    schema = write_schema(state)
    made: list[Launch] = []
    for k in range(count):
        (state / str(k)).mkdir()
        launch = build_launch(
            settings,
            job_id=f"bare-{k}",
            label=script,
            prompt=prompt(script),
            cwd=repo,
            sandbox=settings.default_sandbox,
            model=None,
            profile=None,
            config=[],
            schema_path=schema,
            last_message_path=state / str(k) / "last-message.txt",
            environ=server_environment(),
        )
        made.append(launch)
    return made


async def side_by_side(batch: list[Launch], cwd: Path) -> float:
    """Start every launch of ``batch`` at once, wait for all, and return the wall time."""
    start = clock()
    async with anyio.create_task_group() as group:
        for launch in batch:
            group.start_soon(run, launch, cwd)
    return clock() - start


async def run(launch: Launch, cwd: Path) -> float:
    """Run one worker to its end; return the seconds from its last line's arrival to its exit."""
    process = await anyio.open_process(
        launch.argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=launch.env,
        start_new_session=True,
    )
    async with process:
        assert process.stdin is not None
        assert process.stdout is not None
        async with process.stdin:
            await process.stdin.send(launch.stdin)
        tail = b""
        last_line = clock()
        async for chunk in process.stdout:
            last_line = clock()
            tail = (tail + chunk)[-4096:]
        code = await process.wait()
        exited = clock()
    if code != 0 or b'"turn.completed"' not in tail:
        raise BenchError(f"a bare codex exec ended with code {code} and no turn.completed: {tail[-500:]!r}")
    return exited - last_line
