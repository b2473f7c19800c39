"""One worker's life: launch it, pump its stdout into journaled events, observe them, stop it, settle the job.

`Runner.live` runs one job from the moment it waits for a slot to its final
state, behind a barrier of its own: an exception anywhere in that life (a full
disk while journaling, a worker that cannot be read) ends that job as
``failed`` with the reason in its error, while the other jobs, the
supervisor's task group and the server go on. Budgets (wall clock, idle) and
cancels all end in the same shielded stop of the worker's process tree.
Settling builds the job's `JobResult` once, from what was observed and the
worker's final report, and saves it durably in the job's record.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
import psutil
from anyio.abc import ByteReceiveStream, Process

from ..core import procs
from ..core.config import Settings
from ..jobs.contract import read_report
from ..jobs.events import Event
from ..jobs.framing import LineFramer, to_event
from ..jobs.job import Job, observe
from ..jobs.journal import recorded
from ..jobs.models import JobResult, JobState, timings
from ..jobs.worker import Launch, build_launch, marker
from ..live.monitor import Monitor
from ..worktree.scope import out_of_scope, relative_to_cwd

logger = logging.getLogger(__name__)


class Runner:
    """Live the jobs of one supervisor, with what every worker shares: settings, environment and schema."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str],
        schema: Path,
        on_settled: Callable[[], None],
        monitor: Monitor,
    ) -> None:
        self._settings = settings
        self._environ = environ
        self._schema = schema
        self._on_settled = on_settled
        self._monitor = monitor

    async def live(self, job: Job, slot: AbstractAsyncContextManager[None]) -> None:
        """Wait in ``slot`` for a turn, run the job's worker to its end and settle the job.

        Never raises for a failure of this job: that failure is the job's, not the server's.
        """
        try:
            with job.scope:
                async with slot:
                    await _execute(job, self._settings, self._environ, self._schema, self._monitor)
        except Exception as exc:  # the per-job barrier: one job's fault must not end the others
            logger.exception("job %s failed inside the server", job.job_id)
            job.stop = ("failed", f"the server could not go on with this job: {exc}")
        finally:
            with anyio.CancelScope(shield=True):
                await self.settle(job)

    async def interrupt(self, job: Job, reason: str) -> None:
        """Stop what is left of a job whose server is gone, read back what it did, and settle it with ``reason``."""
        record = job.record

        def sweep_and_read() -> list[Event]:
            pid, start = record.pid, record.process_start
            worker = procs.handle(pid, start) if pid is not None and start is not None else None
            procs.kill_now(worker, marker(job.job_id))
            return job.journal.read(0, job.journal.count)

        for event in await anyio.to_thread.run_sync(sweep_and_read):
            observe(job, event)
        job.stop = ("interrupted", reason)
        await self.settle(job)

    async def settle(self, job: Job) -> None:
        """Give a job its final state and result, save it and wake the waiters; never raises for a full disk.

        The state and the result are set together, after every await: a tool call that runs meanwhile
        (`codex_wait_any`, `codex_result`, `codex_status`) sees the job either not done or done with its result.
        """
        record = job.record
        error: str | None = None
        state: JobState
        if job.stop is not None:
            state, error = job.stop
        elif job.exit_code == 0 and job.usage_event is not None:
            state = "succeeded"
        else:
            state = "failed"
            tail = await anyio.to_thread.run_sync(_stderr_tail, job.journal.stderr_path)
            error = job.turn_error or tail or f"codex exited with code {job.exit_code} before completing its turn"
        text = await anyio.to_thread.run_sync(_final_message, job.journal.last_message_path)
        record.result = _result(job, state, error, job.last_message if text is None else text)
        record.state = state
        try:
            await job.persist()
        except OSError as exc:
            logger.exception("the final record of job %s could not be saved", job.job_id)
            record.result.error = f"{error or record.state}; its final record could not be saved: {exc}"
        job.journal.close()
        job.finished.set()
        self._monitor.finished(job)
        self._on_settled()


async def _execute(job: Job, settings: Settings, environ: Mapping[str, str], schema: Path, monitor: Monitor) -> None:
    """Launch the job's worker, watch it to its end, and stop what is left of it."""
    request = job.record.request
    launch = build_launch(
        settings,
        job_id=job.job_id,
        label=request.label,
        prompt=request.prompt,
        cwd=Path(request.cwd),
        sandbox=request.sandbox,
        model=request.model,
        profile=request.profile,
        config=request.config,
        schema_path=schema,
        last_message_path=job.journal.last_message_path,
        environ=environ,
        scope=relative_to_cwd(Path(request.root or request.cwd), Path(request.cwd), request.scope),
    )
    job.record.state = "running"
    job.record.started_at = time.time()
    # Shielded: a cancel landing inside open_process would leave a forked worker running unseen.
    await monitor.started(job)
    process: Process | None = None
    with anyio.CancelScope(shield=True):
        process = await _open_worker(job, launch)
    if process is None:
        return
    # Taken at once, before the worker can exit and be reaped: one read of the process table.
    worker = procs.handle(process.pid)
    job.record.pid = process.pid
    job.record.process_start = worker.create_time() if worker is not None else None
    known: set[psutil.Process] = set()
    try:
        await job.persist()
        known = await _watch(job, process, worker, launch, settings.max_line_bytes, monitor)
    finally:
        with anyio.CancelScope(shield=True):
            await _end(job, process, worker, settings.kill_grace_s, known)
        # Stamped before the slot is given back, so a job that waited for this one starts after it finished.
        job.ended_at = time.time()


async def _watch(
    job: Job, process: Process, worker: psutil.Process | None, launch: Launch, max_line_bytes: int, monitor: Monitor
) -> set[psutil.Process]:
    """Feed the worker its prompt and read it to its exit, within the wall budget.

    Returns the worker's processes as they were when its output ended, while it
    was still provably itself, so that what it leaves behind can be swept after
    it is reaped.
    """
    request = job.record.request
    known: set[psutil.Process] = set()
    with anyio.CancelScope(deadline=anyio.current_time() + request.wall_timeout_s) as wall:
        assert process.stdin is not None
        assert process.stdout is not None
        async with process.stdin:
            try:
                await process.stdin.send(launch.stdin)
            except anyio.BrokenResourceError:
                logger.warning("job %s: the worker exited before reading its prompt", job.job_id)
        await _pump(job, process.stdout, request.idle_timeout_s, max_line_bytes, monitor)
        known = await anyio.to_thread.run_sync(procs.members, worker, marker(job.job_id))
        job.exit_code = await process.wait()
    if wall.cancelled_caught:
        job.stop = job.stop or ("timed_out", f"stopped after the {request.wall_timeout_s:g} s wall budget")
    return known


async def _end(
    job: Job, process: Process, worker: psutil.Process | None, grace_s: float, known: set[psutil.Process]
) -> None:
    """Stop the worker if it still runs, and sweep whatever it left behind."""
    if job.exit_code is None:
        await procs.stop_tree(process, worker, grace_s, marker(job.job_id))
        job.exit_code = process.returncode
    else:
        await anyio.to_thread.run_sync(procs.kill_now, worker, marker(job.job_id), known)
    await process.aclose()


async def _pump(
    job: Job, stdout: ByteReceiveStream, idle_timeout_s: float, max_line_bytes: int, monitor: Monitor
) -> None:
    """Frame stdout into lines, however long or broken, and record each as an event."""
    framer = LineFramer(max_line_bytes)
    with job.journal.stdout_path.open("ab") as raw:
        while True:
            chunk = b""
            with anyio.move_on_after(idle_timeout_s) as idle:
                try:
                    chunk = await stdout.receive()
                except anyio.EndOfStream:
                    break
            if idle.cancelled_caught:
                job.stop = ("timed_out", f"stopped after {idle_timeout_s:g} s without output (idle budget)")
                job.scope.cancel()
                return
            raw.write(chunk)
            _ingest(job, framer.feed(chunk), max_line_bytes, monitor)
        _ingest(job, framer.end(), max_line_bytes, monitor)


def _ingest(job: Job, lines: list[tuple[bytes, int]], limit: int, monitor: Monitor) -> None:
    """Journal the events of one chunk of output at once, then keep what the result needs."""
    seq, now = job.journal.count, time.time()
    events: list[Event] = []
    kept: list[bytes] = []
    for line, size in lines:
        if (event := to_event(line, size, limit, seq + len(events), now)) is not None:
            events.append(event)
            kept.append(recorded(event, line))
    if kept:
        job.journal.append(*kept)
    for event in events:
        observe(job, event)
        monitor.event(job, event)


def _result(job: Job, state: JobState, error: str | None, final: str | None) -> JobResult:
    """Build the result of a job that reaches the final ``state``, from what it was seen doing and its report."""
    record = job.record
    report, contract_error = read_report(final)
    request = record.request
    modified = report.modified_files or []
    root, cwd = Path(request.root or request.cwd), Path(request.cwd)
    touched = [*modified, *job.observed_files]
    outside = out_of_scope(root, cwd, request.scope, touched, job.worktree_touched, request.ignore_case)
    return JobResult(
        job_id=job.job_id,
        label=record.request.label,
        state=state,
        exit_code=job.exit_code,
        summary=report.summary,
        modified_files=modified,
        observed_files=job.observed_files,
        out_of_scope=outside,
        final_message=final,
        usage=job.usage_event.usage if job.usage_event else None,
        error=error,
        contract_error=contract_error,
        timings=timings(record.queued_at, record.started_at, job.ended_at or time.time()),
    )


async def _open_worker(job: Job, launch: Launch) -> Process | None:
    """Start the worker in a session of its own, or stop the job saying why it could not start."""
    try:
        with job.journal.stderr_path.open("ab") as stderr:
            return await anyio.open_process(
                launch.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=job.record.request.cwd,
                env=launch.env,
                start_new_session=True,
            )
    except (OSError, ValueError) as exc:
        job.stop = ("failed", f"the worker could not start: {exc}")
        return None


def _final_message(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def _stderr_tail(path: Path, size: int = 1500) -> str | None:
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - size))
            tail = stream.read().decode(errors="replace").strip()
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if "could not create PATH aliases" not in line]
    return "\n".join(lines)[-size:] or None
