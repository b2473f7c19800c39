"""P1, parallel speedup: N jobs through the server against one job, N bare ``codex exec``, and N in a row.

Every job streams its final answer for the same fixed model time. The same
N jobs are run three ways, interleaved so that drift in the machine's load
touches each alike: through the server (spawn all, then codex_wait_any until
all are reported), as N bare ``codex exec`` processes started side by side with
the very command line the server would use (the physical limit of the
machine), and through the server one after another (what a user without
parallel workers would wait).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from codex_subagents.scripted_model import ScriptedModel

from . import bare
from .plan import Plan
from .report import Figure, at_most, info, median
from .world import Session, clock, make_repo, serving, streamed

_SCRIPT = "stream"


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P1 and return its figures and raw timings."""
    repo = make_repo(tmp / "p1-repo")
    widths = plan.widths
    through: dict[int, list[float]] = {n: [] for n in widths}
    alone: dict[int, list[float]] = {n: [] for n in widths}
    async with ScriptedModel(streamed(_SCRIPT, plan.stream_s)) as model:
        launches = bare.launches(model, _SCRIPT, repo, tmp / "p1-bare", max(widths))
        state = tmp / "p1-state"
        async with serving(repo, model, state, "--cap", str(max(widths)), errlog=errlog) as session:
            await _through_server(session, 1)
            await bare.side_by_side(launches[:1], repo)
            for repeat in range(plan.repeats):
                for n in widths:
                    if repeat % 2:
                        alone[n].append(await bare.side_by_side(launches[:n], repo))
                        through[n].append(await _through_server(session, n))
                    else:
                        through[n].append(await _through_server(session, n))
                        alone[n].append(await bare.side_by_side(launches[:n], repo))
            serial = await _one_after_another(session, max(widths))
    one = median(through[1])
    figures: list[Figure] = []
    for n in widths:
        if n > 1:
            name = f"{n} parallel ÷ 1 job"
            ratio = median(through[n]) / one
            figures.append(at_most("P1", name, ratio, 1.15) if n == 4 else info("P1", name, ratio))
            limit = median(alone[n]) / median(alone[1])
            figures.append(info("P1", f"{n} bare codex ÷ 1 bare codex (the machine's limit)", limit))
    for n in widths:
        ratio = median(through[n]) / median(alone[n])
        figures.append(at_most("P1", f"{n} via server ÷ {n} bare codex", ratio, 1.03, digits=3))
    for n in widths:
        if n > 1:
            figures.append(info("P1", f"{n} in a row ÷ {n} parallel (gain)", serial[n] / median(through[n])))
    figures[0].note = (
        f"one job takes {one:.2f} s for {plan.stream_s:g} s of model time; "
        f"{max(widths)} bare codex side by side take {median(alone[max(widths)]):.2f} s"
    )
    details: dict[str, object] = {
        "stream_s": plan.stream_s,
        "through_server_s": {str(n): through[n] for n in widths},
        "bare_codex_s": {str(n): alone[n] for n in widths},
        "one_after_another_s": {str(n): serial[n] for n in widths},
    }
    return figures, details


async def _through_server(session: Session, n: int) -> float:
    """Spawn ``n`` jobs, wait until every one is reported, and return the wall time."""
    start = clock()
    job_ids = [await session.spawn(_SCRIPT) for _ in range(n)]
    await session.wait_all(job_ids)
    return clock() - start


async def _one_after_another(session: Session, count: int) -> dict[int, float]:
    """Run ``count`` jobs one at a time; return the time taken by the first n of them, for each n."""
    start = clock()
    elapsed: dict[int, float] = {}
    for n in range(1, count + 1):
        await session.wait_all([await session.spawn(_SCRIPT)])
        elapsed[n] = clock() - start
    return elapsed
