"""P4, ingest: how fast and how lean the server turns a long worker stream into journaled events.

The stream is made of real Codex output: a few real workers (reasoning, a shell
command, a patch, a final answer) run through the server, and their recorded
``stdout.jsonl`` lines are repeated, whole run after whole run, to the wanted
length. A separate process (`bench.ingest_child`) ingests it through a
`JobSupervisor` and compares with a bare ``json.loads`` loop over the same lines.

The target is what a user pays for it: the share of one core the server spends
ingesting a batch of `BATCH` workers, each writing as fast as the fastest of the
recorded workers did in any one second (their model answers at once, so no real
model makes Codex write faster). The speed relative to ``json.loads`` is shown
beside it: it tells whether the Python spent per event grows.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TextIO, cast

import anyio

from codex_subagents.scripted_model import Script, ScriptedModel

from .plan import Plan
from .report import Figure, at_most, info, median
from .world import PROJECT_ROOT, BenchError, make_repo, serving, varied

_WORKERS = 6
BATCH = 8
"""The workers of a batch whose stream the target prices: the most the bench runs at once (P1, P6, P13)."""


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P4 and return its figures and raw numbers."""
    runs, fastest = await _record_runs(tmp, errlog)
    stream = tmp / "p4-stream.jsonl"
    lines = _repeat(runs, plan.ingest_lines)
    stream.write_bytes(b"".join(line + b"\n" for line in lines))
    work = tmp / "p4-work"
    work.mkdir()
    command = [sys.executable, "-m", "bench.ingest_child", str(stream), str(work)]
    done = await anyio.run_process(command, cwd=PROJECT_ROOT, check=False)
    if done.returncode != 0:
        raise BenchError(f"the ingest process failed: {done.stderr.decode(errors='replace')[-2000:]}")
    result = cast("dict[str, object]", json.loads(done.stdout))
    if result["state"] != "succeeded" or result["events"] != len(lines):
        raise BenchError(f"the ingest did not journal every line: {result}")
    ingest_s = _float(result, "ingest_s")
    loads_s = median(cast("list[float]", result["loads_s"]))
    events_per_s = len(lines) / ingest_s
    loads_per_s = len(lines) / loads_s
    growth_mb = (_float(result, "rss_peak_kb") - _float(result, "rss_before_kb")) / 1024
    first, last = _float(result, "page_first_s"), _float(result, "page_last_s")
    share = BATCH * fastest / events_per_s * 100
    figures = [
        at_most("P4", f"ingest of {BATCH} workers at the fastest rate seen, % of a core", share, 5, " %", 2),
        info("P4", "fastest rate a worker wrote, events in one second", fastest, digits=0),
        info("P4", f"ingest ÷ json.loads speed ({len(lines):,} lines)", events_per_s / loads_per_s, "x"),
        info("P4", "ingest, events/s", events_per_s, digits=0),
        info("P4", "json.loads, lines/s", loads_per_s, digits=0),
        at_most("P4", "RSS growth while ingesting", growth_mb, 50, " MB", 1),
        at_most("P4", "page of 100 at the end ÷ at the start", last / first, 1.5, "x"),
        info("P4", "page of 100 at the end", last * 1e6, " µs", 0),
    ]
    types = Counter(_kind(line) for line in lines)
    details: dict[str, object] = {
        **result,
        "lines": len(lines),
        "bytes": stream.stat().st_size,
        "recorded_runs": len(runs),
        "recorded_lines": sum(len(run) for run in runs),
        "types": dict(types.most_common()),
    }
    return figures, details


async def _record_runs(tmp: Path, errlog: TextIO) -> tuple[list[list[bytes]], int]:
    """Run a few real workers through the server; return each one's stdout lines, and the most events any one of
    them wrote within one second, by the times the server journaled them."""
    repo = make_repo(tmp / "p4-repo")
    names = [f"corpus-{k}" for k in range(_WORKERS)]
    scripts: tuple[Script, ...] = ()
    for k, name in enumerate(names):
        scripts += varied(name, k)
    state = tmp / "p4-state"
    async with (
        ScriptedModel(scripts) as model,
        serving(repo, model, state, "--cap", "2", errlog=errlog) as session,
    ):
        job_ids = [await session.spawn(name) for name in names]
        await session.wait_all(job_ids)
    runs = [_lines(state / "jobs" / job_id / "stdout.jsonl") for job_id in job_ids]
    fastest = max(_most_in_a_second(state / "jobs" / job_id / "events.jsonl") for job_id in job_ids)
    return [run for run in runs if run], fastest


def _lines(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line.strip()]


def _most_in_a_second(journal: Path) -> int:
    """The most events of ``journal`` whose journaling times fall within one second of each other."""
    times = sorted(float(json.loads(line)["at"]) for line in _lines(journal))
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] > 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def _repeat(runs: list[list[bytes]], count: int) -> list[bytes]:
    """Repeat the recorded runs, whole and in turn, until there are ``count`` lines."""
    lines: list[bytes] = []
    while len(lines) < count:
        for run in runs:
            lines += run
    return lines[:count]


def _kind(line: bytes) -> str:
    data = json.loads(line)
    item = data.get("item")
    return f"{data['type']} {item['type']}" if isinstance(item, dict) else str(data["type"])


def _float(result: dict[str, object], key: str) -> float:
    value = result[key]
    if not isinstance(value, int | float):
        raise BenchError(f"{key!r} is not a number in {result}")
    return float(value)
