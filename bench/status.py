"""P6, a responsive server under load: ``codex_status`` round trips while workers stream and a baseline runs.

The server is started as a boss's Codex starts it (stdio) in the large tree of
`bench.tree`. Workers are real Codex processes whose scripted model answers
turn after turn, each a reasoning item and a shell command half a second
apart, so every worker streams a steady flow of events into the server. The
model serves from a process of its own: the client that times the calls
serves no model turns, as a boss's Codex serves none. Calls
to ``codex_status`` are started at a fixed pace whatever the answers do, so a
stall of the server delays every call that meets it, as it would a boss's
call made at any moment. They are timed in three phases on one session: with
the workers streaming, with the workers streaming while ``codex_baseline``
records the whole tree, and on the idle server once the workers are stopped
(the same jobs listed, none running).
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TextIO

import anyio
from pydantic import JsonValue

from .plan import Plan
from .report import Figure, at_most, info, median, percentile
from .tree import built
from .world import BenchError, Session, clock, entries, model_process, number, serving

_PACE_S = 0.025
_TURN_S = 0.5
_STREAM_S = 600.0
_STARTUP_S = 180.0


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P6 and return its figures and raw timings."""
    tree = built(tmp, plan.tree_files)
    names = [f"chatty-{k}" for k in range(plan.status_workers)]
    scripts: dict[str, JsonValue] = {name: chatty(name) for name in names}
    extra = ("--cap", str(plan.status_workers))
    async with (
        model_process({"scripts": scripts}, tmp) as model,
        serving(tree.root, model, tmp / "p6-state", *extra, errlog=errlog) as session,
    ):
        await session.call("codex_status")
        ids = [await session.spawn(name) for name in names]
        await all_streaming(session, ids)
        before = await _events(session, ids)
        streaming = await paced(session, anyio.sleep(plan.status_phase_s))
        took: list[float] = []
        loaded = await paced(session, _baseline(session, took))
        streamed = await _events(session, ids) - before
        for job_id in ids:
            await session.call("codex_cancel", job_id=job_id)
        idle = await paced(session, anyio.sleep(plan.status_phase_s))
    ms = 1000.0
    p99 = {
        phase: percentile(values, 0.99)
        for phase, values in (("idle", idle), ("streaming", streaming), ("loaded", loaded))
    }
    workers = f"{plan.status_workers} workers streaming + codex_baseline"
    figures = [
        at_most("P6", f"codex_status p99, {workers}", p99["loaded"] * ms, 50, " ms", 1),
        at_most("P6", "codex_status p99 under that load ÷ idle", p99["loaded"] / p99["idle"], 5, "x"),
        info("P6", "codex_status p99, idle server", p99["idle"] * ms, " ms", 1),
        info("P6", f"codex_status p99, {plan.status_workers} workers streaming", p99["streaming"] * ms, " ms", 1),
        info("P6", f"codex_status p50, {workers}", median(loaded) * ms, " ms", 1),
        info("P6", f"codex_status max, {workers}", max(loaded) * ms, " ms", 1),
    ]
    figures[0].note = (
        f"{len(loaded)} calls, one every {_PACE_S * ms:.0f} ms, while codex_baseline of {tree.files:,} files "
        f"took {took[0]:.1f} s and the workers streamed {streamed} events"
    )
    details: dict[str, object] = {
        "files": tree.files,
        "workers": plan.status_workers,
        "baseline_s": took[0],
        "events_streamed": streamed,
        "idle_s": idle,
        "streaming_s": streaming,
        "loaded_s": loaded,
    }
    return figures, details


def chatty(name: str) -> JsonValue:
    """A worker that reasons and runs a shell command every half second, for longer than the bench needs."""
    turns: list[JsonValue] = [
        {"reasoning": f"Step {k}: check the next part.", "shell": "true", "login": False, "delay_s": _TURN_S}
        for k in range(round(_STREAM_S / _TURN_S))
    ]
    answer: dict[str, JsonValue] = {"summary": "streamed", "modifiedFiles": []}
    turns.append({"final_json": answer})
    return {"match": f"[bench {name}]", "turns": turns}


async def _baseline(session: Session, took: list[float]) -> None:
    """Record a baseline of the session's first root; its round trip goes to ``took``."""
    start = clock()
    await session.call("codex_baseline", label="bench P6")
    took.append(clock() - start)


async def paced(session: Session, phase: Awaitable[None]) -> list[float]:
    """Start a codex_status call every `_PACE_S` until ``phase`` is done; return each call's round trip."""
    done = anyio.Event()
    latencies: list[float] = []

    async def one() -> None:
        start = clock()
        await session.call("codex_status")
        latencies.append(clock() - start)

    async def pace() -> None:
        due = clock()
        while not done.is_set():
            group.start_soon(one)
            due += _PACE_S
            with anyio.move_on_after(max(0.0, due - clock())):
                await done.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(pace)
        await phase
        done.set()
    return latencies


async def all_streaming(session: Session, job_ids: list[str]) -> None:
    """Wait until every worker has started streaming events."""
    with anyio.fail_after(_STARTUP_S):
        while True:
            jobs = entries(await session.call("codex_status", job_ids=job_ids), "jobs")
            if any(job.get("state") not in ("queued", "running") for job in jobs):
                raise BenchError(f"a streaming worker ended early: {jobs}")
            if all(job.get("state") == "running" and job.get("last_event") for job in jobs):
                return
            await anyio.sleep(0.2)


async def _events(session: Session, job_ids: list[str]) -> int:
    """How many events the jobs have journaled so far."""
    total = 0
    for job_id in job_ids:
        page = await session.call("codex_events", job_id=job_id, cursor=10**9, limit=1)
        total += int(number(page, "next_cursor"))
    return total
