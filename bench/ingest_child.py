"""P4's measuring process: a `JobSupervisor` ingests a recorded stream, then a bare ``json.loads`` loop reads it.

Run as ``python -m bench.ingest_child STREAM WORKDIR [--profile FILE]``; prints one JSON object.
The ingest takes the server's real path: the supervisor starts a worker (`bench.replay`, which
copies the stream to its stdout), frames the pipe into lines, normalizes each line into an event
(``events.to_event``), journals it (``Journal.append``) and keeps what the result needs. Its memory
is the largest RSS of this process sampled every 10 ms during the ingest minus its RSS just before.
Then one page of 100 events is read at the start and at
the end of the journal, alternately, and the same lines are parsed by ``json.loads`` alone.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from pathlib import Path

import anyio

from codex_subagents.core.config import Settings
from codex_subagents.jobs.journal import JobRequest
from codex_subagents.supervision.supervisor import JobSupervisor

from .memory import rss_kb, sample_peak

_REPLAY = Path(__file__).resolve().with_name("replay.py")
_PAGE = 100
_PAGE_ROUNDS = 200
_LOADS_ROUNDS = 3
_SAMPLE_S = 0.01


async def _ingest(stream: Path, work: Path, profile: Path | None) -> dict[str, object]:
    codex = work / "codex"
    codex.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{_REPLAY}"\n')
    codex.chmod(0o755)
    settings = Settings(cap=1, state_dir=work / "state", allow_roots=(work,), codex=codex)
    request = JobRequest(
        prompt=f"REPLAY:{stream}",
        cwd=str(work),
        label="ingest",
        sandbox="workspace-write",
        wall_timeout_s=3600,
        idle_timeout_s=600,
    )
    async with JobSupervisor(settings) as supervisor:
        before_kb = rss_kb()
        peak = [before_kb]
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        job = await supervisor.spawn(request)
        async with anyio.create_task_group() as group:
            group.start_soon(sample_peak, peak, _SAMPLE_S)
            await job.finished.wait()
            group.cancel_scope.cancel()
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
        peak_kb = peak[0]
        if profiler and profile:
            profiler.dump_stats(profile)
        journal = job.journal
        outcome: dict[str, object] = {
            "state": job.record.state,
            "error": job.record.result.error if job.record.result else None,
            "events": journal.count,
        }
        if job.record.state != "succeeded" or journal.count < _PAGE:
            return outcome
        first: list[float] = []
        last: list[float] = []
        for _ in range(_PAGE_ROUNDS):
            began = time.perf_counter()
            journal.read(0, _PAGE)
            first.append(time.perf_counter() - began)
            began = time.perf_counter()
            journal.read(journal.count - _PAGE, _PAGE)
            last.append(time.perf_counter() - began)
        return {
            **outcome,
            "ingest_s": seconds,
            "rss_before_kb": before_kb,
            "rss_peak_kb": peak_kb,
            "page_first_s": sorted(first)[len(first) // 2],
            "page_last_s": sorted(last)[len(last) // 2],
        }


def _loads(stream: Path) -> list[float]:
    lines = [line for line in stream.read_bytes().split(b"\n") if line.strip()]
    rounds: list[float] = []
    for _ in range(_LOADS_ROUNDS):
        began = time.perf_counter()
        for line in lines:
            json.loads(line)
        rounds.append(time.perf_counter() - began)
    return rounds


def main() -> int:
    """Measure and print the result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_child")
    parser.add_argument("stream", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the ingest here")
    args = parser.parse_args()
    result = anyio.run(_ingest, args.stream.resolve(), args.work.resolve(), args.profile)
    result["loads_s"] = _loads(args.stream)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
