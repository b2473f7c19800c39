"""P13, what the watch costs: its CPU while jobs stream, its memory over a long journal, and the server beside it.

The CPU is that of ``codex-subagents watch`` as a person runs it, in a terminal (a
pseudo-terminal of 200x60 whose output the bench reads and drops), on the state dir
of P12's stand-in server: eight jobs journaling a few events a second each. Its
process time (its own and its finished children's, the git of its baseline lookup)
is taken over windows of the same length, the jobs streaming and idle by turns,
from two seconds after its first screen (its start is not what keeping it open costs).
The memory is the RSS of the watch, headless in a process of its own
(`bench.watch_child`), while it catches up with one running job's long journal.
The server's `codex_status` is timed as P6 times it, one call every 25 ms, while
two real workers stream, with the watch open and without by turns (the order
alternating round to round); without is the same watch stopped by SIGSTOP, which
costs nothing while stopped, so the two conditions differ by the watch's work alone.

The watch runs in a session of its own, as a terminal's shell starts it: where Linux
shares the processor out by session (autogroup), it would otherwise share the bench's
(the client timing the calls) and lower that session's priority with its own. The
status part runs twelve rounds and pools each condition's calls. Two workers, not
eight: with eight on two cores the server and the client both use all the processor
they get, so a call's time is mostly waiting for it, and the p99 of a 5 s phase
ranged from 0.2 to 2.7 s with nothing changed (a process doing nothing in the
watch's place gave 0.63x to 1.07x); the p99 was the scheduler's, and no effect of
the watch's could be told from it. With two, a core is left for the server's
answers, the p99 is the server's own (about 9 ms), and the median over the rounds of
each round's own ratio is given beside it, for context.
"""

from __future__ import annotations

import json
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from fcntl import ioctl
from pathlib import Path
from typing import TextIO

import anyio
import psutil
from pydantic import JsonValue

from . import stream_child
from .plan import Plan
from .report import Figure, at_most, info, median, percentile
from .status import all_streaming, chatty, paced
from .watching import SIZE, streamer
from .world import SERVE, BenchError, clock, make_repo, model_process, server_environment, serving

_SETTLE_S = 2.0
"""How long the watch runs after its first screen before it is measured."""


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P13 and return its figures and raw measures."""
    cpu = await _cpu(plan, tmp, errlog)
    memory = await _memory(plan, tmp, errlog)
    status = await _status(plan, tmp, errlog)
    streaming, idle = max(cpu.streaming), max(cpu.idle)
    growth_mb = (memory["peak_kb"] - memory["before_kb"]) / 1024
    ms, with_p99, without_p99 = 1000.0, percentile(status.open, 0.99), percentile(status.closed, 0.99)
    by_round = sorted(open_p99 / closed_p99 for open_p99, closed_p99 in status.rounds)
    journal_mb = memory["journal_bytes"] / (1 << 20)
    figures = [
        at_most("P13", f"watch CPU, {plan.watch_jobs} jobs streaming (worst window)", streaming * 100, 5, " %", 1),
        info("P13", "watch CPU, the same jobs idle (worst window)", idle * 100, " %", 1),
        info(
            "P13",
            f"watch CPU, {plan.watch_status_workers} real workers streaming (open phases)",
            status.cpu * 100,
            " %",
            1,
        ),
        at_most("P13", f"watch RSS growth over a {journal_mb:.0f} MB journal (peak)", growth_mb, 10, " MB", 1),
        info("P13", "watch RSS before catching up", memory["before_kb"] / 1024, " MB", 1),
        info("P13", f"time to catch up with the {journal_mb:.0f} MB journal", memory["catch_up_s"], " s", 1),
        at_most("P13", "codex_status p99, watch open ÷ without", with_p99 / without_p99, 1.1, "x"),
        info("P13", "codex_status p99, watch open ÷ without, median of the rounds' ratios", median(by_round), "x"),
        info("P13", "codex_status p99, watch open", with_p99 * ms, " ms", 1),
        info("P13", "codex_status p99, without", without_p99 * ms, " ms", 1),
    ]
    figures[0].note = (
        f"{plan.watch_rounds} window(s) of {plan.watch_window_s:g} s each way, {cpu.events} events at "
        f"{plan.watch_rate_hz:g}/s a job; `codex-subagents watch` in a 200x60 pseudo-terminal; % of one core"
    )
    figures[6].note = (
        f"{len(status.open)} and {len(status.closed)} calls, {plan.watch_status_rounds} rounds of "
        f"{plan.watch_status_phase_s:g} s each way, {plan.watch_status_workers} real workers streaming"
    )
    figures[7].note = f"each round's p99 open ÷ its p99 without: {', '.join(f'{ratio:.2f}' for ratio in by_round)}"
    return figures, {"cpu": asdict(cpu), "memory": memory, "status": asdict(status)}


@asynccontextmanager
async def watch_in_terminal(state: Path, cwd: Path) -> AsyncGenerator[psutil.Process]:
    """Run ``codex-subagents watch`` on ``state`` in a pseudo-terminal of `SIZE` (Textual draws on stderr, so all three
    are the terminal), once it has drawn its first screen (its start, Python's imports the most of it, takes a second
    or more of processor time, which no window should count); quit it by ``q`` at the end."""
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    environment = {**server_environment(), "TERM": "xterm-256color"}
    command = [str(SERVE), "watch", "--state-dir", str(state)]
    process = await anyio.open_process(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=environment, start_new_session=True
    )
    os.close(slave)
    drawn = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, _drain, master, drawn)
            try:
                with anyio.fail_after(60):
                    await drawn.wait()
                yield psutil.Process(process.pid)
            finally:
                process.send_signal(signal.SIGCONT)
                os.write(master, b"q")
                with anyio.move_on_after(10):
                    await process.wait()
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    finally:
        os.close(master)


def _drain(master: int, drawn: anyio.Event) -> None:
    """Read and drop what the watch draws, until its terminal closes; set ``drawn`` once the footer's keys are drawn,
    the end of its first screen."""
    seen = b""
    try:
        while chunk := os.read(master, 1 << 16):
            seen = seen[-16:] + chunk
            if not drawn.is_set() and b"quit" in seen:
                anyio.from_thread.run_sync(drawn.set)
    except OSError:
        return


def cpu_s(process: psutil.Process) -> float:
    """The process time ``process`` and its finished children used so far."""
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass
class _Cpu:
    """The watch's share of one core in each window, streaming and idle, and the events streamed."""

    streaming: list[float] = field(default_factory=list[float])
    idle: list[float] = field(default_factory=list[float])
    events: int = 0


@dataclass
class _Status:
    """Each codex_status round trip with the watch open and without, and the watch's share of a core while open
    (its catch-up after each SIGCONT included)."""

    open: list[float] = field(default_factory=list[float])
    closed: list[float] = field(default_factory=list[float])
    rounds: list[tuple[float, float]] = field(default_factory=list[tuple[float, float]])
    """Each round's p99 open and without."""
    cpu: float = 0.0


async def _cpu(plan: Plan, tmp: Path, errlog: TextIO) -> _Cpu:
    state, root = tmp / "p13-state", make_repo(tmp / "p13-repo")
    cpu = _Cpu()
    async with (
        streamer(state, root, plan.watch_jobs, plan.watch_rate_hz, errlog) as server,
        watch_in_terminal(state, root) as watch,
    ):
        await anyio.sleep(_SETTLE_S)
        for _ in range(plan.watch_rounds):
            used, began = cpu_s(watch), clock()
            cpu.events += len(await server.stream(plan.watch_window_s))
            cpu.streaming.append((cpu_s(watch) - used) / (clock() - began))
            used, began = cpu_s(watch), clock()
            await anyio.sleep(plan.watch_window_s)
            cpu.idle.append((cpu_s(watch) - used) / (clock() - began))
    return cpu


async def _memory(plan: Plan, tmp: Path, errlog: TextIO) -> dict[str, float]:
    state = tmp / "p13-memory"
    directory = state / "jobs" / stream_child.job_id(0)
    root = tmp / "p13-repo"
    stream_child.running(state, root, 0, "s-gone").close()
    size, number, at = 0, 0, 1_700_000_000.0
    with (directory / "events.jsonl").open("wb") as journal:
        while size < plan.watch_journal_mb << 20:
            line = stream_child.journal_line(0, number, at + number / 10, marked_paths=False) + b"\n"
            journal.write(line)
            size, number = size + len(line), number + 1
    command = [sys.executable, "-m", "bench.watch_child", str(state), stream_child.job_id(0)]
    done = await anyio.run_process(command, check=False)
    errlog.write(done.stderr.decode(errors="replace"))
    if done.returncode != 0:
        raise BenchError(f"the watch's memory process exited {done.returncode}: {done.stderr[-500:]!r}")
    return {key: float(value) for key, value in json.loads(done.stdout).items()}


async def _status(plan: Plan, tmp: Path, errlog: TextIO) -> _Status:
    repo = make_repo(tmp / "p13-status-repo")
    names = [f"chatty-{k}" for k in range(plan.watch_status_workers)]
    scripts: dict[str, JsonValue] = {name: chatty(name) for name in names}
    state = tmp / "p13-status-state"
    status, spent = _Status(), 0.0
    async with (
        model_process({"scripts": scripts}, tmp) as model,
        serving(repo, model, state, "--cap", str(len(names)), errlog=errlog) as session,
    ):
        ids = [await session.spawn(name) for name in names]
        await all_streaming(session, ids)
        async with watch_in_terminal(state, repo) as watch:
            await anyio.sleep(_SETTLE_S)
            for turn in range(plan.watch_status_rounds):
                p99: dict[bool, float] = {}
                for open_ in (True, False) if turn % 2 else (False, True):
                    watch.send_signal(signal.SIGCONT if open_ else signal.SIGSTOP)
                    used, began = cpu_s(watch), clock()
                    timed = await paced(session, anyio.sleep(plan.watch_status_phase_s))
                    (status.open if open_ else status.closed).extend(timed)
                    p99[open_] = percentile(timed, 0.99)
                    status.cpu += cpu_s(watch) - used
                    spent += (clock() - began) if open_ else 0.0
                status.rounds.append((p99[True], p99[False]))
        for job_id in ids:
            await session.call("codex_cancel", job_id=job_id)
    status.cpu /= spent
    return status
