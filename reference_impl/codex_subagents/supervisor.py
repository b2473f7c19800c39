"""The job supervisor: one task group running every job, under a cap, with a FIFO queue.

`JobSupervisor` is entered once, in the server's lifespan, and owns the only
task group. A job's task waits for a slot of an `anyio.CapacityLimiter` (in
FIFO order while the cap is reached), then lives its worker's life through the
`Runner`. Waiters are woken by an event swapped on every finish, never by
polling. On entry the supervisor takes its server lock and adopts the jobs of
servers that are gone: finished jobs keep their results; jobs that were still
running are stopped and marked ``interrupted``. Jobs of other live servers on
the same state dir are left to them. The answers of the job tools are built
here, as the models the tools return.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
from anyio.abc import TaskGroup, TaskStatus

from .config import Settings
from .errors import JobStateError, QueueFullError, UnknownJobError
from .job import Job
from .journal import JobRecord, JobRequest, Journal
from .lifecycle import Runner
from .recovery import ServerLock, adopt
from .reports import CancelResult, EventsPage, JobDigest, JobResult, StatusResult, WaitResult, describe
from .worker import write_schema

Progress = Callable[[int, int, str], Awaitable[None]]
HEARTBEAT_S = 10.0
"""How often a waiting codex_wait_any reports progress when nothing finishes."""


class JobSupervisor:
    """Start, watch, wait for and stop worker jobs; see the module docstring.

    ``open_journal`` opens the journal of a job directory; it is where a test
    puts a journal whose disk fails.
    """

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        open_journal: Callable[[Path], Journal] = Journal,
    ) -> None:
        self.settings = settings
        self._open_journal = open_journal
        self._jobs: dict[str, Job] = {}
        self._queue: list[str] = []
        self._limiter = anyio.CapacityLimiter(settings.cap)
        self._changed = anyio.Event()
        self._tg: TaskGroup | None = None
        self._jobs_dir = settings.state_dir / "jobs"
        self._lock = ServerLock(settings.state_dir)
        self._runner = Runner(
            settings,
            dict(os.environ if environ is None else environ),
            settings.state_dir / "worker-output-schema.json",
            self._settled,
        )
        self.damaged: list[str] = []

    @property
    def server_id(self) -> str:
        """This server's id, recorded in each of its jobs."""
        return self._lock.server_id

    async def __aenter__(self) -> Self:
        await anyio.to_thread.run_sync(self._prepare)
        try:
            adopted, self.damaged = await anyio.to_thread.run_sync(
                adopt, self.settings.state_dir, self.server_id, self._open_journal
            )
            for found in adopted:
                job = Job(record=found.record, journal=found.journal)
                self._jobs[job.job_id] = job
                if job.done:
                    job.finished.set()
                else:
                    await self._runner.interrupt(job, found.reason)
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
        except BaseException:
            self._lock.release()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._tg is not None
        for job in self._jobs.values():
            if not job.done:
                job.stop = job.stop or ("interrupted", "the server shut down while this job ran")
                job.scope.cancel()
        try:
            return await self._tg.__aexit__(exc_type, exc, tb)
        finally:
            self._lock.release()

    def _prepare(self) -> None:
        self._jobs_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.isolated:
            (self.settings.state_dir / "codex-home").mkdir(exist_ok=True)
        write_schema(self.settings.state_dir)
        self._lock.acquire()

    # -- the primitives -------------------------------------------------------------------------

    async def spawn(self, request: JobRequest) -> Job:
        """Queue a worker for ``request`` and return its job at once, running or queued."""
        assert self._tg is not None, "enter the supervisor first"
        running = self.settings.cap - int(self._limiter.available_tokens)
        if running >= self.settings.cap and len(self._queue) >= self.settings.queue_limit:
            raise QueueFullError(running, len(self._queue))
        job_id = f"j-{uuid.uuid4().hex[:12]}"
        record = JobRecord(job_id=job_id, request=request, server_id=self.server_id, queued_at=time.time())
        job = Job(record=record, journal=self._open_journal(self._jobs_dir / job_id))
        await anyio.to_thread.run_sync(job.journal.create, record.model_copy(deep=True))
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

    def digest(self, job: Job) -> JobDigest:
        """Summarize a job in one line."""
        record = job.record
        end = record.result.timings.finished_at if record.result else None
        return JobDigest(
            job_id=job.job_id,
            label=record.request.label,
            state=record.state,
            elapsed_s=round((end or time.time()) - record.queued_at, 3),
            queue_position=self.queue_position(job),
            last_event=describe(job.last_event),
        )

    def status(self, job_ids: Sequence[str] | None = None) -> StatusResult:
        """Digest the named jobs, or every job, and say how full the server is."""
        return StatusResult(
            jobs=[self.digest(job) for job in self.jobs(job_ids)],
            running=self.running_count,
            queued=sum(1 for job in self._jobs.values() if job.record.state == "queued"),
            cap=self.settings.cap,
            damaged=self.damaged,
        )

    async def events(self, job_id: str, cursor: int, limit: int) -> EventsPage:
        """Return up to ``limit`` events of a job from ``cursor`` on, and the cursor to read on from."""
        job = self.get(job_id)
        done = job.done
        events = await anyio.to_thread.run_sync(job.journal.read, cursor, limit)
        next_cursor = cursor + len(events) if events else min(cursor, job.journal.count)
        return EventsPage(
            job_id=job_id,
            state=job.record.state,
            events=events,
            next_cursor=next_cursor,
            finished=done and next_cursor >= job.journal.count,
        )

    def result(self, job_id: str) -> JobResult:
        """Return a finished job's result, refusing one that is still queued or running."""
        job = self.get(job_id)
        if not job.done:
            raise JobStateError(
                f"Job {job_id!r} is still {job.record.state}; call codex_wait_any with it, "
                "then codex_result once it has finished."
            )
        return job.result

    async def wait_any(
        self, job_ids: Sequence[str] | None, timeout_s: float, progress: Progress | None = None
    ) -> WaitResult:
        """Wait until a job of the set has finished unreported, or the timeout passes.

        Reports every finished job of the set not yet reported by an earlier
        wait (each is reported once, across restarts too, so the mark is saved)
        and digests the jobs still pending. Returns at once when nothing of the
        set is left to wait for.
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
            await job.persist()
        return WaitResult(
            finished=[job.result for job in ready],
            timed_out=timed_out and not ready,
            pending=[self.digest(job) for job in wanted if not job.done],
        )

    async def cancel(self, job_id: str) -> CancelResult:
        """Stop a job, queued or running, and say what it was and what it is now."""
        job = self.get(job_id)
        before = job.record.state
        if job.done:
            message = f"job {job_id!r} had already finished ({before}); nothing was stopped"
        else:
            job.stop = ("cancelled", "cancelled by the boss")
            job.scope.cancel()
            with anyio.fail_after(self.settings.kill_grace_s * 3 + 10):
                await job.finished.wait()
            message = (
                f"job {job_id!r} was removed from the queue before it started"
                if before == "queued"
                else f"job {job_id!r} was stopped with its whole process tree; its events are kept"
            )
        return CancelResult(job_id=job_id, state=job.record.state, previous_state=before, message=message)

    # -- one job's turn ---------------------------------------------------------------------------

    async def _run(self, job: Job, *, task_status: TaskStatus[None]) -> None:
        await self._runner.live(job, self._slot(job, task_status))

    @asynccontextmanager
    async def _slot(self, job: Job, task_status: TaskStatus[None]) -> AsyncGenerator[None]:
        """Hold a slot of the cap for the job, waiting in the FIFO queue while none is free."""
        self._queue.append(job.job_id)
        try:
            try:
                self._limiter.acquire_on_behalf_of_nowait(job)
            except anyio.WouldBlock:
                task_status.started()
                await self._limiter.acquire_on_behalf_of(job)
            else:
                job.record.state = "running"
                task_status.started()
            self._queue.remove(job.job_id)
            try:
                yield
            finally:
                self._limiter.release_on_behalf_of(job)
        finally:
            if job.job_id in self._queue:
                self._queue.remove(job.job_id)

    def _settled(self) -> None:
        """Wake whoever waits for a job to finish."""
        self._changed.set()
        self._changed = anyio.Event()
