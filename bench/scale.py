"""P5, scale: many jobs spawned at once under the cap all complete, and the server gives back what it took.

Each job is a real worker with a script of its own (reasoning, a shell command,
a patch, a final answer). The server's peak RSS is the largest resident
memory of its process sampled every 20 ms while the jobs run; its open file
descriptors and living descendants are counted before the spawns and again
once every job is reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import anyio

from codex_subagents.scripted_model import Script, ScriptedModel

from .plan import Plan
from .report import Figure, at_most, info
from .world import Json, Session, children, clock, make_repo, open_fds, rss_kb, sample_peak_kb, serving, varied

_SETTLE_S = 10.0


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P5 and return its figures and raw numbers."""
    repo = make_repo(tmp / "p5-repo")
    names = [f"scale-{k}" for k in range(plan.scale_jobs)]
    scripts: tuple[Script, ...] = ()
    for k, name in enumerate(names):
        scripts += varied(name, k)
    extra = ("--cap", str(plan.scale_cap), "--queue-limit", str(plan.scale_jobs))
    async with (
        ScriptedModel(scripts) as model,
        serving(repo, model, tmp / "p5-state", *extra, errlog=errlog) as session,
    ):
        await session.call("codex_status", job_ids=[])
        fds_before, children_before = open_fds(session.pid), children(session.pid)
        rss_before_kb = rss_kb(session.pid)
        peak = [rss_before_kb]
        finished: list[Json] = []
        start = clock()
        async with anyio.create_task_group() as group:
            group.start_soon(sample_peak_kb, session.pid, peak)
            job_ids = [await session.spawn(name) for name in names]
            finished = await session.wait_all(job_ids, timeout_s=60 + 20 * plan.scale_jobs, require_success=False)
            group.cancel_scope.cancel()
        seconds = clock() - start
        peak_kb = peak[0]
        fds_after, children_after = await _settled(session, fds_before, children_before)
    succeeded = sum(job.get("state") == "succeeded" for job in finished)
    failed = plan.scale_jobs - succeeded
    figures = [
        at_most("P5", f"jobs not succeeded ({plan.scale_jobs} under cap {plan.scale_cap})", failed, 0, digits=0),
        at_most("P5", "server peak RSS", peak_kb / 1024, 150, " MB", 1),
        at_most("P5", "open fds afterwards - before", fds_after - fds_before, 0, digits=0),
        at_most("P5", "child processes afterwards - before", children_after - children_before, 0, digits=0),
        info("P5", f"{plan.scale_jobs} jobs, wall time", seconds, " s", 1),
    ]
    details: dict[str, object] = {
        "jobs": plan.scale_jobs,
        "cap": plan.scale_cap,
        "succeeded": succeeded,
        "seconds": seconds,
        "rss_before_kb": rss_before_kb,
        "rss_peak_kb": peak_kb,
        "fds_before": fds_before,
        "fds_after": fds_after,
        "children_before": children_before,
        "children_after": children_after,
    }
    return figures, details


async def _settled(session: Session, fds: int, kids: int) -> tuple[int, int]:
    """Count fds and descendants again, giving exiting processes up to a few seconds to go."""
    with anyio.move_on_after(_SETTLE_S):
        while open_fds(session.pid) > fds or children(session.pid) > kids:  # noqa: ASYNC110 -- no event tells that a process or fd went
            await anyio.sleep(0.05)
    return open_fds(session.pid), children(session.pid)
