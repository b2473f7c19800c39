"""P12, an event on the watch's screen: from its line written to a job's journal to that line shown.

A stand-in server (`bench.stream_child`, a process of its own) holds a server's lock
on a state dir and runs eight jobs, each appending events to its journal as the
server does (`Journal.append`), a few a second at jittered times, each stamped
with the time of its write. The real `WatchApp` watches the state dir, headless
at 200x60, in the bench's process; after each of its looks, once the screen is
redrawn, the screen's text is read and the markers on it noted with the time.
A job's row shows only its newest event in "doing now", and the events pane all
of the highlighted job's, so an event counts as shown at the first screen that
shows it or a later event of its job: by then its line was read and drawn over.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

from codex_subagents.commands.watch import BaselineFinder, WatchApp
from codex_subagents.observe.board import Board

from .plan import Plan
from .report import Figure, at_most, info, median, percentile
from .world import BenchError, make_repo

SIZE = (200, 60)
_MARKER = re.compile(rb"mk(\d\d)-(\d{5})")
_SHOWN_S = 10.0


@dataclass
class Streamer:
    """The stand-in server: `stream` makes its jobs stream for a while and returns what they wrote."""

    process: Process
    lines: BufferedByteReceiveStream

    async def stream(self, seconds: float) -> list[tuple[int, int, float]]:
        """Stream for ``seconds``; return each event written as ``(job, number, at)``."""
        assert self.process.stdin is not None
        await self.process.stdin.send(f"stream {seconds}\n".encode())
        with anyio.fail_after(seconds + 30):
            written = json.loads(await self.lines.receive_until(b"\n", 1 << 24))
        return [(int(job), int(number), float(at)) for job, number, at in written]


@asynccontextmanager
async def streamer(state: Path, root: Path, jobs: int, rate_hz: float, errlog: TextIO) -> AsyncGenerator[Streamer]:
    """Start the stand-in server with ``jobs`` running jobs in ``state``; stop it (its lock freed) at the end."""
    command = [sys.executable, "-m", "bench.stream_child", str(state), str(root), str(jobs), str(rate_hz)]
    async with await anyio.open_process(command, stderr=errlog) as process:
        assert process.stdout is not None and process.stdin is not None
        lines = BufferedByteReceiveStream(process.stdout)
        with anyio.fail_after(60):
            if await lines.receive_until(b"\n", 1024) != b"ready":
                raise BenchError("the stand-in server did not start")
        try:
            yield Streamer(process, lines)
        finally:
            await process.stdin.aclose()
            with anyio.move_on_after(10):
                await process.wait()


def screen_text(app: WatchApp) -> str:
    """The app's screen as the terminal would show it."""
    update = app.screen._compositor.render_full_update(simplify=True)  # pyright: ignore[reportPrivateUsage] -- Textual exports the screen only as SVG; its compositor gives the text
    return "\n".join("".join(strip.text for strip in line) for line in update.strips)


class TimedWatch(WatchApp):
    """The watch, reading its own screen after each look: the newest event of each job it shows, and when."""

    def __init__(self, board: Board, root: Path) -> None:
        super().__init__(board, root, BaselineFinder(board, root))
        self.screens: list[tuple[float, dict[int, int]]] = []
        """Each screen after a look: when it was read, and the newest event shown of each job."""
        self.exact: set[tuple[int, int]] = set()
        """The events whose own marker was on a screen."""
        self.drawn = anyio.Event()

    def tick(self) -> None:
        super().tick()
        self.call_after_refresh(self._read)

    def _read(self) -> None:
        at = time.time()
        newest: dict[int, int] = {}
        for match in _MARKER.finditer(screen_text(self).encode()):
            job, number = int(match[1]), int(match[2])
            self.exact.add((job, number))
            newest[job] = max(newest.get(job, -1), number)
        self.screens.append((at, newest))
        self.drawn.set()
        self.drawn = anyio.Event()


@dataclass
class Shown:
    """When each event written was first shown, by the rule of the module's docstring."""

    latencies: list[float] = field(default_factory=list[float])
    missing: int = 0


def shown(app: TimedWatch, written: list[tuple[int, int, float]]) -> Shown:
    """Match each event written with the first screen that showed it or a later event of its job."""
    result = Shown()
    for job, number, at in written:
        seen = next((when for when, newest in app.screens if newest.get(job, -1) >= number), None)
        if seen is None:
            result.missing += 1
        else:
            result.latencies.append(seen - at)
    return result


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P12 and return its figures and raw latencies."""
    state, root = tmp / "p12-state", make_repo(tmp / "p12-repo")
    app = TimedWatch(Board(state), root)
    async with streamer(state, root, plan.watch_jobs, plan.watch_rate_hz, errlog) as server, app.run_test(size=SIZE):
        with anyio.fail_after(30):
            while len(app.board.jobs) < plan.watch_jobs:
                await app.drawn.wait()
        written = await server.stream(plan.watch_stream_s)
        last = {job: number for job, number, _ in written}
        with anyio.move_on_after(_SHOWN_S):
            while not app.screens or any(app.screens[-1][1].get(j, -1) < n for j, n in last.items()):
                await app.drawn.wait()
    result = shown(app, written)
    if not result.latencies:
        raise BenchError("no event written was shown on the watch's screen")
    ms, rate, p95 = 1000.0, len(written) / plan.watch_stream_s, percentile(result.latencies, 0.95)
    seen_exactly = len(app.exact & {(job, number) for job, number, _ in written})
    figures = [
        at_most("P12", "journal line → the watch's screen, p95", p95 * ms, 1000, " ms", 0),
        info("P12", "journal line → the watch's screen, p50", median(result.latencies) * ms, " ms", 0),
        info("P12", "journal line → the watch's screen, max", max(result.latencies) * ms, " ms", 0),
        at_most("P12", "events written and never shown (10 s after the last)", result.missing, 0, "", 0),
    ]
    figures[0].note = (
        f"{len(written)} events of {plan.watch_jobs} jobs in {plan.watch_stream_s:g} s ({rate:.0f}/s), "
        f"{seen_exactly} of them seen by their own words (the rest drawn over by a newer one first), "
        f"the screen read after each of {len(app.screens)} looks"
    )
    details: dict[str, object] = {
        "events": len(written),
        "events_per_s": rate,
        "seen_exactly": seen_exactly,
        "missing": result.missing,
        "latencies_s": result.latencies,
    }
    return figures, details
