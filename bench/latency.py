"""P2, spawn overhead, and P3, wake latency: jobs spawned and waited for one at a time, on one session.

Each round, with no worker running, times an empty tool call (codex_status of
no jobs) and then a codex_spawn over the same stdio session, so the two round
trips meet the same machine. The boss then waits for the job at once, so its
codex_wait_any is already blocked when the worker writes its last line; the
wake latency is the client's receive time of that answer minus the ``at``
stamp the server gave the last line (both from the same wall clock).
The job's ``finished_at`` splits it in two: the worker's exit after its last
line, and the server's wake-up and answer after that. Each round also runs the
same worker as a bare ``codex exec``, to show how long Codex itself takes to
exit after its last line. The target bounds the server's part: the rest is
Codex finishing its process, which a bare ``codex exec`` pays as well.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from codex_subagents.scripted_model import ScriptedModel

from . import bare
from .plan import Plan
from .report import Figure, at_most, info, median, percentile
from .world import BenchError, clock, entries, entry, make_repo, number, serving, streamed

_SCRIPT = "instant"


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P2 and P3 and return their figures and raw timings."""
    repo = make_repo(tmp / "p23-repo")
    status_s: list[float] = []
    spawn_s: list[float] = []
    wake_s: list[float] = []
    exit_s: list[float] = []
    answer_s: list[float] = []
    bare_exit_s: list[float] = []
    async with (
        ScriptedModel(streamed(_SCRIPT, 0)) as model,
        serving(repo, model, tmp / "p23-state", "--cap", "4", errlog=errlog) as session,
    ):
        (launch,) = bare.launches(model, _SCRIPT, repo, tmp / "p23-bare", 1)
        await session.call("codex_status", job_ids=[])
        await session.wait_all([await session.spawn(_SCRIPT)])
        for _ in range(plan.latency_jobs):
            start = clock()
            await session.call("codex_status", job_ids=[])
            status_s.append(clock() - start)
            start = clock()
            job_id = await session.spawn(_SCRIPT)
            spawn_s.append(clock() - start)
            answer = await session.call("codex_wait_any", job_ids=[job_id], timeout_s=120)
            received = time.time()
            if [entry.get("job_id") for entry in entries(answer, "finished")] != [job_id]:
                raise BenchError(f"codex_wait_any did not report {job_id}: {answer}")
            events = entries(await session.call("codex_events", job_id=job_id, cursor=0, limit=500), "events")
            result = await session.call("codex_result", job_id=job_id)
            if not events or result.get("state") != "succeeded":
                raise BenchError(f"job {job_id} did not succeed: {result}")
            last_line = number(events[-1], "at")
            finished = number(entry(result, "timings"), "finished_at")
            wake_s.append(received - last_line)
            exit_s.append(finished - last_line)
            answer_s.append(received - finished)
            bare_exit_s.append(await bare.run(launch, repo))
    ms = 1000.0
    ratio = median(spawn_s) / median(status_s)
    figures = [
        at_most("P2", "codex_spawn ÷ empty call (p50)", ratio, 3, "x"),
        info("P2", "codex_spawn round trip (p50)", median(spawn_s) * ms, " ms", 1),
        info("P2", "empty call round trip (p50)", median(status_s) * ms, " ms", 1),
        at_most(
            "P3",
            f"the server's wake+answer after the exit, p50 ({len(wake_s)} jobs)",
            median(answer_s) * ms,
            25,
            " ms",
            1,
        ),
        at_most("P3", "the server's wake+answer after the exit, p95", percentile(answer_s, 0.95) * ms, 25, " ms", 1),
        info("P3", "last line → the boss has the answer (p50)", median(wake_s) * ms, " ms", 1),
        info("P3", "last line → the boss has the answer (p95)", percentile(wake_s, 0.95) * ms, " ms", 1),
        info("P3", "of which the worker's exit (p50)", median(exit_s) * ms, " ms", 1),
        info("P3", "bare codex: last line → exit (p50)", median(bare_exit_s) * ms, " ms", 1),
    ]
    details: dict[str, object] = {
        "status_s": status_s,
        "spawn_s": spawn_s,
        "wake_s": wake_s,
        "worker_exit_s": exit_s,
        "server_answer_s": answer_s,
        "bare_codex_exit_s": bare_exit_s,
    }
    return figures, details
