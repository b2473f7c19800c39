"""A hundred cancels at random points of real Codex workers leave no process behind and keep what was seen.

Workers are the pinned Codex CLI answering a scripted model whose turns are held,
slow or streaming, and whose shell commands start children of their own (in the
background, in new sessions, or both). Each cancel lands at a randomly chosen
point: while codex boots, while it waits on the model, while its commands run,
right after a patch arrives, or in the middle of a streamed answer. Before the
cancel the test records the worker's whole process tree; afterwards none of it
may be alive, the worker's process group must be empty, no process may carry
the job's marker, the job must read ``cancelled`` and its events seen so far
must still be there. Set ``RELIABILITY_SEED`` to replay a run's choices.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRequest, Journal
from codex_subagents.scripted_model import RecordedRequest, ScriptedModel
from codex_subagents.supervision.supervisor import JobSupervisor
from portable import SETSID
from reliability.support import (
    eventually,
    final,
    group_exists,
    group_members,
    kill_pids,
    make_repo,
    marked,
    prompt,
    real_settings,
    scripts,
    short,
    survivors,
    tree_of,
)

pytestmark = [pytest.mark.anyio, pytest.mark.codex, pytest.mark.slow]

CANCELS = 100
LANES = 4
HELD = {"hold": True, **final()}
PATCH = (
    "*** Begin Patch\n"
    + "".join(f"*** Add File: many/f{i:02d}.txt\n+line {i}\n" for i in range(40))
    + "*** End Patch\n"
)
SCRIPTS = scripts(
    held=[HELD],
    children=[{"shell": "sleep 300 & sleep 300; wait", "login": False, "yield_time_ms": 300}, HELD],
    escaping=[
        {
            "shell": f"({SETSID} sleep 300 &); {SETSID} sleep 300 & sleep 300; wait",
            "login": False,
            "yield_time_ms": 300,
        },
        HELD,
    ],
    patch=[{"patch": PATCH}, HELD],
    stream=[{**final(summary="x" * 400), "stream_chunks": 40, "stream_interval_s": 0.25}],
)


@dataclass(frozen=True)
class Point:
    """Where a cancel lands: the script the worker plays, what to wait for, and a random extra delay."""

    script: str
    turn: int | None
    jitter_s: float
    children: int = 0


POINTS = {
    "booting": Point("held", None, 0.6),
    "waiting on the model": Point("held", 0, 0.3),
    "commands starting": Point("children", 0, 0.4),
    "commands running": Point("children", 1, 0.2, children=2),
    "children in sessions of their own running": Point("escaping", 1, 0.2, children=3),
    "patch arriving": Point("patch", 0, 0.3),
    "answer streaming": Point("stream", 0, 1.5),
}


@dataclass
class Figures:
    """What the storm measured, and every broken promise it saw."""

    cancels: Counter[str] = field(default_factory=Counter[str])
    latencies: list[float] = field(default_factory=list[float])
    survivors: Counter[str] = field(default_factory=Counter[str])
    tree_sizes: int = 0
    problems: list[str] = field(default_factory=list[str])

    def check(self, ok: bool, problem: str) -> None:
        """Note ``problem`` unless ``ok``; the storm goes on so that one run counts every failure."""
        if not ok:
            self.problems.append(problem)


def _sleeps(pid: int) -> int:
    return sum(cmd.startswith("sleep 300") for cmd in survivors(tree_of(pid)).values())


async def _reached(model: ScriptedModel, job: Job, turn: int) -> None:
    def asked(request: RecordedRequest) -> bool:
        return request.turn == turn and job.job_id in request.user_text()

    await model.wait_for(asked)


async def _cancel_once(
    supervisor: JobSupervisor, model: ScriptedModel, repo: Path, rng: random.Random, figures: Figures
) -> None:
    name = rng.choice(sorted(POINTS))
    point = POINTS[name]
    request = JobRequest(
        prompt=prompt(point.script, name),
        cwd=str(repo),
        label=name,
        sandbox="workspace-write",
        wall_timeout_s=600,
        idle_timeout_s=600,
    )
    with anyio.fail_after(60):
        job = await supervisor.spawn(request)
        if point.turn is not None:
            await _reached(model, job, point.turn)
        await anyio.sleep(rng.uniform(0, point.jitter_s))  # the random cancel point itself, not a wait for something
    pid = job.record.pid
    if point.children:
        assert pid is not None
        await eventually(lambda: _sleeps(pid) >= point.children, 20, f"{name}: the worker's children never ran")
    tree = tree_of(pid) if pid is not None else {}
    seen = job.journal.read(0, job.journal.count)
    started = time.monotonic()
    with anyio.fail_after(60):
        before = (await supervisor.cancel(job.job_id)).previous_state
    figures.latencies.append(time.monotonic() - started)
    figures.cancels[name] += 1
    figures.tree_sizes += len(tree)
    left = {**survivors(tree), **marked(job.job_id), **(group_members(pid) if pid else {})}
    figures.survivors[name] += len(left)
    kill_pids(left)
    figures.check(not left, f"{name}: processes survived the cancel of {job.job_id}: {short(left)}")
    figures.check(before == "running" and job.record.state == "cancelled", f"{name}: {before} -> {job.record.state}")
    outcome = job.record.result
    figures.check(outcome is not None and outcome.error == "cancelled by the boss", f"{name}: outcome {outcome}")
    figures.check(job.journal.read(0, len(seen)) == seen, f"{name}: events seen before the cancel changed")
    figures.check(Journal(job.journal.directory).count >= len(seen), f"{name}: events were lost on disk")
    if pid is not None:
        await eventually(lambda: not group_exists(pid), 5, f"{name}: process group {pid} still exists")


async def test_a_hundred_random_cancels_leave_no_process_behind(tmp_path: Path) -> None:
    """Every cancel, wherever it lands, stops the worker's whole tree and keeps the job's partial events."""
    seed = int(os.environ.get("RELIABILITY_SEED", random.randrange(1 << 32)))
    repo = make_repo(tmp_path / "repo")
    figures = Figures()
    async with ScriptedModel(SCRIPTS) as model:
        settings = real_settings(model, tmp_path / "state", repo, cap=LANES)
        async with JobSupervisor(settings) as supervisor:

            async def lane(index: int) -> None:
                rng = random.Random(seed + index)
                for _ in range(CANCELS // LANES):
                    await _cancel_once(supervisor, model, repo, rng, figures)

            try:
                async with anyio.create_task_group() as lanes:
                    for index in range(LANES):
                        lanes.start_soon(lane, index)
            except BaseException as exc:
                exc.add_note(f"RELIABILITY_SEED={seed}")
                raise
    report = (
        f"{CANCELS} cancels (RELIABILITY_SEED={seed}): {dict(figures.cancels)}; "
        f"processes recorded {figures.tree_sizes}, survivors {sum(figures.survivors.values())} "
        f"{dict(+figures.survivors)}; cancel latency median {statistics.median(figures.latencies):.3f} s, "
        f"max {max(figures.latencies):.3f} s"
    )
    print(f"\n{report}")
    assert sum(figures.cancels.values()) == CANCELS
    assert not figures.problems, "\n".join([report, *figures.problems])
