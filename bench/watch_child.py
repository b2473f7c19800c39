"""P13's memory process: the watch, headless, catching up with one long journal while its RSS is sampled.

Run as ``python -m bench.watch_child STATE_DIR JOB_ID``; prints one JSON object. The
app is the real `WatchApp` at 200x60 on a state dir whose one running job has a long
``events.jsonl``; its first screen reads a few slices of it. The RSS after that first
screen is the base; then the watch looks, four times a second as it does, until it
has read the whole journal, while the RSS is sampled every 20 ms.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio

from codex_subagents.commands.watch import TICK_S, BaselineFinder, WatchApp
from codex_subagents.observe.board import Board

from .memory import rss_kb, sample_peak

_SAMPLE_S = 0.02


async def _catch_up(state: Path, job_id: str) -> dict[str, object]:
    size = (state / "jobs" / job_id / "events.jsonl").stat().st_size
    board = Board(state)
    app = WatchApp(board, None, BaselineFinder(board, None))
    async with app.run_test(size=(200, 60)) as pilot:
        await pilot.pause()
        before_kb = rss_kb()
        first = app.board.events_read(job_id)
        peak = [before_kb]
        began = time.perf_counter()
        async with anyio.create_task_group() as group:
            group.start_soon(sample_peak, peak, _SAMPLE_S)
            with anyio.fail_after(600):
                while app.board.events_read(job_id) < size:
                    await pilot.pause(TICK_S)
            group.cancel_scope.cancel()
        took = time.perf_counter() - began
        after_kb = rss_kb()
    return {
        "journal_bytes": size,
        "first_screen_bytes": first,
        "before_kb": before_kb,
        "peak_kb": peak[0],
        "after_kb": after_kb,
        "catch_up_s": took,
    }


def main() -> None:
    """Catch up and print what the memory did."""
    print(json.dumps(anyio.run(_catch_up, Path(sys.argv[1]), sys.argv[2])))


if __name__ == "__main__":
    main()
