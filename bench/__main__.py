"""``python -m bench [--quick] [--strict] [--only P1,P3]``: measure, print the table, save it as JSON.

The exit code is 0 when every figure was measured, whether or not it met its
target (``--strict`` makes a miss exit 1), and 2 when a measurement failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

import anyio

from . import (
    batch,
    collisions,
    context,
    ingest,
    installs,
    latency,
    pages,
    parallel,
    scale,
    snapshots,
    status,
    watch_cost,
    watching,
)
from .plan import FULL, QUICK, Plan
from .report import Figure, Run, machine, save, table
from .world import BenchError

Measure = Callable[[Plan, Path, TextIO], Awaitable[tuple[list[Figure], dict[str, object]]]]
SECTIONS: dict[str, tuple[str, Measure]] = {
    "P1": ("parallel speedup", parallel.measure),
    "P2+P3": ("spawn overhead and wake latency", latency.measure),
    "P4": ("ingest", ingest.measure),
    "P5": ("scale", scale.measure),
    "P6": ("codex_status under load", status.measure),
    "P7": ("baselines against git's floor", snapshots.measure),
    "P9": ("a collision seen while the workers run", collisions.measure),
    "P10": ("work saved by the live warning", batch.measure),
    "P11": ("the boss's context with the coordination fields", context.measure),
    "P12": ("an event on the watch's screen", watching.measure),
    "P13": ("the watch's cost", watch_cost.measure),
    "P14": ("the plugin's batch against the by-hand batch", installs.measure),
    "P15": ("the report of a 100-job batch", pages.measure),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Measure codex-subagents side by side and print the table."
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for the gate (under 2 minutes)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a figure misses its target")
    parser.add_argument(
        "--only", metavar="KEYS", help="a comma-separated subset of P1,P2,P3,P4,P5,P6,P7,P9,P10,P11,P12,P13,P14,P15"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    wanted = set(args.only.upper().split(",")) if args.only else None
    run = Run(mode=plan.mode, machine=machine())
    tmp = Path(tempfile.mkdtemp(prefix="codex-subagents-bench-"))
    began = time.perf_counter()
    try:
        with (tmp / "server-stderr.log").open("w") as errlog:
            for key, (title, measure) in SECTIONS.items():
                if wanted is not None and not wanted & set(key.split("+")):
                    continue
                print(f"bench: {key} {title}...", file=sys.stderr, flush=True)
                section_began = time.perf_counter()
                figures, details = anyio.run(measure, plan, tmp, errlog)
                run.figures += figures
                run.details[key] = {**details, "section_s": round(time.perf_counter() - section_began, 1)}
    except BenchError as exc:
        print(f"bench: a measurement failed: {exc} (server stderr: {tmp / 'server-stderr.log'})", file=sys.stderr)
        return 2
    finally:
        run.seconds = time.perf_counter() - began
        run.machine["load_at_end"] = [round(load, 2) for load in os.getloadavg()]
        if args.keep:
            print(f"bench: kept {tmp}", file=sys.stderr)
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(run))
    print(f"\nsaved {', '.join(map(str, save(run)))}", file=sys.stderr)
    return 1 if args.strict and run.misses else 0


if __name__ == "__main__":
    sys.exit(main())
