"""The job supervisor: one task group running every worker, under a cap, with a FIFO queue.

`JobSupervisor` is entered once, in the server's lifespan, and owns the only
task group. A job's task first takes a slot of an `anyio.CapacityLimiter`
(waiting in FIFO order while the cap is reached), then runs one worker process,
turns its stdout into journaled events, and settles the job's final state.
Budgets (wall clock, idle) and cancels all end in the same shielded stop of the
worker's process tree. Waiters are woken by an event swapped on every finish,
never by polling. On entry the journals of an earlier run are read back: finished
jobs keep their results; jobs that were still running are stopped and marked
``interrupted``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

import anyio
from anyio.abc import ByteReceiveStream, Process, TaskGroup, TaskStatus

from . import procs
from .config import Settings
from .errors import JobStateError, QueueFullError, UnknownJobError
from .events import Event, ItemEvent, LineFramer, TurnCompleted, TurnFailed, to_event
from .journal import FINISHED_STATES, JobOutcome, JobRecord, JobRequest, JobState, Journal
from .worker import Launch, build_launch, marker, write_schema

Progress = Callable[[int, int, str], Awaitable[None]]
HEARTBEAT_S = 10.0
"""How often a waiting codex_wait_any reports progress when nothing finishes."""


@dataclass(eq=False)
class Job:
    """A job's live state; its durable part is ``record``."""

    record: JobRecord
    journal: Journal
    finished: anyio.Event = field(default_factory=anyio.Event)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    stop: tuple[JobState, str] | None = None
    last_event: Event | None = None
    observed: dict[str, None] = field(default_factory=dict[str, None])
    last_message: str | None = None
    turn_error: str | None = None
    usage_event: TurnCompleted | None = None
    updated: anyio.Event = field(default_factory=anyio.Event)

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self.record.job_id

    @property
    def done(self) -> bool:
        """Whether the job reached a final state."""
        return self.record.state in FINISHED_STATES


class JobSupervisor:
    """Start, watch, wait for and stop worker jobs; see the module docstring."""

    def __init__(self, settings: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self._environ = dict(os.environ if environ is None else environ)
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []
        self._limiter = anyio.CapacityLimiter(settings.cap)
        self._changed = anyio.Event()
        self._tg: TaskGroup | None = None
        self._jobs_dir = settings.state_dir / "jobs"
        self._schema = settings.state_dir / "worker-output-schema.json"

    async def __aenter__(self) -> Self:
        self._jobs_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.isolated:
            (self.settings.state_dir / "codex-home").mkdir(exist_ok=True)
        write_schema(self.settings.state_dir)
        self._recover()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._tg is not None
        for job in self._jobs.values():
            if not job.done:
                job.stop = job.stop or ("interrupted", "the server shut down while this job ran")
                job.scope.cancel()
        return await self._tg.__aexit__(exc_type, exc, tb)

    # -- the primitives -------------------------------------------------------------------------

    async def spawn(self, request: JobRequest) -> Job:
        """Queue a worker for ``request`` and return its job at once, running or queued."""
        assert self._tg is not None, "enter the supervisor first"
        running = self.settings.cap - int(self._limiter.available_tokens)
        if running >= self.settings.cap and len(self._queue) >= self.settings.queue_limit:
            raise QueueFullError(running, len(self._queue))
        job_id = f"j-{uuid.uuid4().hex[:12]}"
        record = JobRecord(job_id=job_id, request=request, queued_at=time.time())
        job = Job(record=record, journal=Journal(self._jobs_dir / job_id))
        job.journal.save(record)
        self._jobs[job_id] = job
        await self._tg.start(self._run, job)
        return job

    def get(self, job_id: str) -> Job:
        """Return the job called ``job_id``."""
        try:
            return self._jobs[job_id]
        except KeyError:
            raise UnknownJobError(job_id) from None

    def jobs(self, job_ids: Sequence[str] | None = None) -> list[Job]:
        """Return the named jobs, or every job, oldest first."""
        if job_ids is None:
            return sorted(self._jobs.values(), key=lambda job: job.record.queued_at)
        return [self.get(job_id) for job_id in job_ids]

    def queue_position(self, job: Job) -> int | None:
        """Return the job's 1-based place in the queue, or None when it is not queued."""
        return self._queue.index(job.job_id) + 1 if job.job_id in self._queue else None

    @property
    def running_count(self) -> int:
        """How many workers hold a slot now."""
        return sum(1 for job in self._jobs.values() if job.record.state == "running")

    def result(self, job_id: str) -> Job:
        """Return a finished job, refusing one that is still queued or running."""
        job = self.get(job_id)
        if not job.done:
            raise JobStateError(
                f"Job {job_id!r} is still {job.record.state}; call codex_wait_any with it, "
                "then codex_result once it has finished."
            )
        return job

    async def wait_any(
        self, job_ids: Sequence[str] | None, timeout_s: float, progress: Progress | None = None
    ) -> tuple[list[Job], bool]:
        """Wait until a job of the set has finished unreported, or the timeout passes.

        Returns every finished job of the set not yet reported by an earlier
        wait (each is reported once, across restarts too) and whether the wait
        timed out. Returns at once when nothing of the set is left to wait for.
        """
        wanted = self.jobs(job_ids)
        timeout = min(timeout_s, self.settings.max_wait_s)
        timed_out = True
        with anyio.move_on_after(timeout):
            while True:
                ready = [job for job in wanted if job.done and not job.record.reported]
                if ready or all(job.done for job in wanted):
                    timed_out = False
                    break
                changed = self._changed
                if progress is not None:
                    finished = sum(job.done for job in wanted)
                    await progress(finished, len(wanted), f"{finished} of {len(wanted)} jobs finished")
                with anyio.move_on_after(HEARTBEAT_S):
                    await changed.wait()
        ready = [job for job in wanted if job.done and not job.record.reported]
        for job in ready:
            job.record.reported = True
            job.journal.save(job.record)
        return ready, timed_out and not ready

    async def cancel(self, job_id: str) -> tuple[Job, JobState]:
        """Stop a job, queued or running, and return it with the state it had before."""
        job = self.get(job_id)
        before = job.record.state
        if job.done:
            return job, before
        job.stop = ("cancelled", "cancelled by the boss")
        job.scope.cancel()
        with anyio.fail_after(self.settings.kill_grace_s * 3 + 10):
            await job.finished.wait()
        return job, before

    # -- one job's life -------------------------------------------------------------------------

    async def _run(self, job: Job, *, task_status: TaskStatus[None]) -> None:
        self._queue.append(job.job_id)
        try:
            with job.scope:
                try:
                    self._limiter.acquire_on_behalf_of_nowait(job)
                except anyio.WouldBlock:
                    task_status.started()
                    await self._limiter.acquire_on_behalf_of(job)
                else:
                    job.record.state = "running"
                    task_status.started()
                try:
                    self._queue.remove(job.job_id)
                    await self._execute(job)
                finally:
                    self._limiter.release_on_behalf_of(job)
        finally:
            if job.job_id in self._queue:
                self._queue.remove(job.job_id)
            self._settle(job)

    async def _execute(self, job: Job) -> None:
        request = job.record.request
        launch = build_launch(
            self.settings,
            job_id=job.job_id,
            label=request.label,
            prompt=request.prompt,
            cwd=Path(request.cwd),
            sandbox=request.sandbox,
            model=request.model,
            profile=request.profile,
            config=request.config,
            schema_path=self._schema,
            last_message_path=job.journal.last_message_path,
            environ=self._environ,
        )
        job.record.state = "running"
        job.record.started_at = time.time()
        # Shielded: a cancel landing inside open_process would leave a forked worker running unseen.
        started: Process | str = "the worker was not started"
        with anyio.CancelScope(shield=True), job.journal.stderr_path.open("ab") as stderr:
            started = await _open_worker(launch, request.cwd, stderr)
        if isinstance(started, str):
            job.record.outcome = JobOutcome(error=started)
            return
        process = started
        job.record.pid = process.pid
        job.record.process_start = procs.process_start(process.pid)
        job.journal.save(job.record)
        exit_code: int | None = None
        try:
            with anyio.CancelScope(deadline=anyio.current_time() + request.wall_timeout_s) as wall:
                assert process.stdin is not None
                assert process.stdout is not None
                async with process.stdin:
                    await process.stdin.send(launch.stdin)
                await self._pump(job, process.stdout, request.idle_timeout_s)
                exit_code = await process.wait()
            if wall.cancelled_caught:
                job.stop = job.stop or (
                    "timed_out",
                    f"stopped after the {request.wall_timeout_s:g} s wall budget",
                )
        finally:
            with anyio.CancelScope(shield=True):
                if exit_code is None:
                    await procs.stop_tree(process, self.settings.kill_grace_s, marker(job.job_id))
                    exit_code = process.returncode
                else:
                    procs.kill_now(process.pid, marker(job.job_id))
                await process.aclose()
            job.record.outcome = JobOutcome(exit_code=exit_code)

    async def _pump(self, job: Job, stdout: ByteReceiveStream, idle_timeout_s: float) -> None:
        """Frame stdout into lines, however long or broken, and record each as an event."""
        framer = LineFramer(self.settings.max_line_bytes)
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
                self._ingest(job, framer.feed(chunk))
            self._ingest(job, framer.end())

    def _ingest(self, job: Job, lines: list[tuple[bytes, int]]) -> None:
        """Journal the events of one chunk of output at once, then wake whoever follows the job."""
        limit, seq, now = self.settings.max_line_bytes, job.journal.count, time.time()
        events: list[Event] = []
        for line, size in lines:
            if (event := to_event(line, size, limit, seq + len(events), now)) is not None:
                events.append(event)
        if not events:
            return
        job.journal.append(*events)
        for event in events:
            _observe(job, event)
        job.updated.set()
        job.updated = anyio.Event()

    def _settle(self, job: Job) -> None:
        """Give a job its final state and outcome, persist it and wake the waiters."""
        record = job.record
        outcome = record.outcome or JobOutcome()
        if job.stop is not None:
            record.state, reason = job.stop
            outcome.error = reason
        elif outcome.exit_code == 0 and job.usage_event is not None:
            record.state = "succeeded"
        else:
            record.state = "failed"
            outcome.error = (
                job.turn_error
                or _stderr_tail(job.journal.stderr_path)
                or (f"codex exited with code {outcome.exit_code} before completing its turn")
            )
        _fill_contract(outcome, job)
        record.outcome = outcome
        record.finished_at = time.time()
        job.journal.save(record)
        job.journal.close()
        job.finished.set()
        job.updated.set()
        self._changed.set()
        self._changed = anyio.Event()

    # -- restart ---------------------------------------------------------------------------------

    def _recover(self) -> None:
        for directory in sorted(self._jobs_dir.iterdir()):
            if not (directory / "job.json").is_file():
                continue
            try:
                journal = Journal(directory)
                record = journal.load()
            except (OSError, ValueError):
                continue
            job = Job(record=record, journal=journal)
            self._jobs[record.job_id] = job
            if job.done:
                job.finished.set()
                continue
            same = record.pid is not None and procs.process_start(record.pid) == record.process_start
            procs.kill_now(record.pid if same else None, marker(record.job_id))
            for event in journal.read(0, journal.count):
                _observe(job, event)
            job.stop = ("interrupted", "the server stopped while this job ran; its worker was stopped")
            self._settle(job)


async def _open_worker(launch: Launch, cwd: str, stderr: BinaryIO) -> Process | str:
    """Start the worker in a session of its own, or say why it could not start."""
    try:
        return await anyio.open_process(
            launch.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=cwd,
            env=launch.env,
            start_new_session=True,
        )
    except (OSError, ValueError) as exc:
        return f"the worker could not start: {exc}"


def _observe(job: Job, event: Event) -> None:
    """Keep what the result needs from an event: observed paths, last message, turn outcome."""
    job.last_event = event
    if isinstance(event, ItemEvent):
        item = event.item
        if item.type == "file_change":
            for change in item.changes:
                job.observed[change.path] = None
        elif item.type == "agent_message" and event.type == "item.completed":
            job.last_message = item.text
    elif isinstance(event, TurnFailed):
        job.turn_error = event.error.message
    elif isinstance(event, TurnCompleted):
        job.usage_event = event


def _fill_contract(outcome: JobOutcome, job: Job) -> None:
    """Read the worker's final message and check it against the contract."""
    path = job.journal.last_message_path
    text = path.read_text(errors="replace") if path.exists() else job.last_message
    outcome.final_message = text
    outcome.observed_files = [_relative(p, job.record.request.cwd) for p in job.observed]
    if job.usage_event is not None:
        outcome.usage = job.usage_event.usage
    if not text or not text.strip():
        outcome.contract_error = "the final message is missing, so the worker reported no modifiedFiles"
        return
    try:
        data: object = json.loads(text)
    except ValueError:
        outcome.contract_error = "the final message is not valid JSON, so not the object {summary, modifiedFiles}"
        return
    if not isinstance(data, dict):
        outcome.contract_error = "the final message is JSON but not an object {summary, modifiedFiles}"
        return
    summary = data.get("summary")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    files = data.get("modifiedFiles")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(summary, str):
        outcome.summary = summary
    if isinstance(files, list) and all(isinstance(f, str) for f in files):  # pyright: ignore[reportUnknownVariableType]
        outcome.modified_files = [str(f) for f in files]  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    else:
        outcome.contract_error = "the final message has no modifiedFiles list of paths"
    if not isinstance(summary, str):
        outcome.contract_error = "the final message has no summary string"


def _relative(path: str, cwd: str) -> str:
    try:
        return Path(path).relative_to(cwd).as_posix()
    except ValueError:
        return path


def _stderr_tail(path: Path, size: int = 1500) -> str | None:
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - size))
            tail = stream.read().decode(errors="replace").strip()
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if "could not create PATH aliases" not in line]
    return "\n".join(lines)[-size:] or None
