"""The job supervisor: one task group running every job, under a cap, with a FIFO queue.

`JobSupervisor` is entered once, in the server's lifespan, and owns the only
task group. A job's task waits in `Slots` for a slot (in FIFO order, and apart
from running or earlier jobs whose declared scope could share a path with its
own), then lives its worker's life through the `Runner`. Waiters are woken by
an event swapped on every finish, never by polling. On entry the supervisor
takes its server lock and adopts the jobs of servers that are gone: finished
jobs keep their results; jobs that were still running are stopped and marked
``interrupted``. Jobs of other live servers on the same state dir are left to
them. The answers of the job tools are built here, as the models the tools
return.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ..coordination.claims import Claim, of_worktree
from ..core import state_layout as layout
from ..core.config import Settings
from ..core.errors import UnknownJobError
from ..jobs.events import Usage
from ..jobs.job import Job, cancel, digest, page, result
from ..jobs.journal import JobRecord, JobRequest, Journal
from ..jobs.models import CancelResult, EventsPage, JobDigest, JobResult, StatusResult, WaitResult
from ..jobs.registry import Adopted, ServerLock, adopt, live_records, others, others_running
from ..jobs.worker import write_schema
from ..live.monitor import Monitor
from .lifecycle import Runner
from .slots import Slots

logger = logging.getLogger(__name__)
Progress = Callable[[int, int, str], Awaitable[None]]
HEARTBEAT_S = 10.0
"""How often a waiting codex_wait_any reports progress when nothing finishes."""


class JobTable:
    """The jobs this server knows, the slots they run in, and the answers about them."""

    def __init__(self, settings: Settings, monitor: Monitor, server_id: str) -> None:
        self.settings = settings
        self.monitor = monitor
        self.server_id = server_id
        self.damaged: list[str] = []
        self._jobs: dict[str, Job] = {}
        self._slots = Slots(settings.cap)

    def get(self, job_id: str) -> Job:
        """Return the job called ``job_id``."""
        if job_id not in self._jobs:
            raise UnknownJobError(job_id)
        return self._jobs[job_id]

    def jobs(self, job_ids: Sequence[str] | None = None) -> list[Job]:
        """Return the named jobs, or every job, oldest first."""
        if job_ids is None:
            return sorted(self._jobs.values(), key=lambda job: job.record.queued_at)
        return [self.get(job_id) for job_id in job_ids]

    def queue_position(self, job: Job) -> int | None:
        """Return the job's 1-based place in the queue, or None when it is not queued."""
        return self._slots.position(job.job_id)

    @property
    def running_count(self) -> int:
        """How many workers hold a slot now."""
        return self._slots.counts()[0]

    def digest(self, job: Job) -> JobDigest:
        """Summarize a job in one line; a queued one with the jobs whose scopes keep it waiting."""
        position = self.queue_position(job)
        return digest(job, position, None if position is None else self._slots.blockers(job.job_id))

    def status(self, job_ids: Sequence[str] | None = None, elsewhere: Mapping[str, str] | None = None) -> StatusResult:
        """Digest the named jobs, or every job, say how full the server is, what it saw and what they cost.

        ``elsewhere`` holds the live jobs of other servers, with their directories (`live_elsewhere`).
        """
        listed = self.jobs(job_ids)
        return StatusResult(
            jobs=[self.digest(job) for job in listed],
            running=self.running_count,
            queued=self._slots.counts()[1],
            cap=self.settings.cap,
            damaged=self.damaged,
            alerts=self.monitor.involving(job.job_id for job in listed),
            usage=total_usage(job.result.usage for job in listed if job.done),
            elsewhere=dict(elsewhere or {}),
        )

    async def events(self, job_id: str, cursor: int, limit: int) -> EventsPage:
        """Return up to ``limit`` events of a job from ``cursor`` on, and the cursor to read on from."""
        return await page(self.get(job_id), cursor, limit)

    def result(self, job_id: str) -> JobResult:
        """Return a finished job's result, refusing one that is still queued or running."""
        return result(self.get(job_id))

    async def cancel(self, job_id: str) -> CancelResult:
        """Stop a job, queued or running, and say what it was and what it is now."""
        return await cancel(self.get(job_id), self.settings.kill_grace_s * 3 + 10)

    async def running_elsewhere(self, root: Path) -> bool:
        """Whether a job of another live server (another Codex session) is queued or running in the worktree."""
        return await anyio.to_thread.run_sync(others_running, self.settings.state_dir, self.server_id, root)

    async def live_elsewhere(self) -> dict[str, str]:
        """The queued or running jobs of other live servers (other Codex sessions), with their directories."""
        found = await anyio.to_thread.run_sync(live_records, self.settings.state_dir, self.server_id)
        return {record.job_id: record.request.cwd for record in found}

    async def claims(self, root: Path) -> dict[str, Claim]:
        """What every job of the worktree at ``root`` claims: this server's, and other servers' from their records."""
        theirs = await anyio.to_thread.run_sync(others, self.settings.state_dir, self.server_id)
        return of_worktree(root, self.jobs(), theirs)


class JobSupervisor(JobTable):
    """Start, watch, wait for and stop jobs; ``open_journal`` opens a job's journal (a test's failing disk)."""

    def __init__(
        self,
        settings: Settings,
        environ: Mapping[str, str] | None = None,
        open_journal: Callable[[Path], Journal] = Journal,
    ) -> None:
        self._lock = ServerLock(settings.state_dir)
        super().__init__(settings, Monitor(self._wake, elsewhere=self.running_elsewhere), self._lock.server_id)
        self._open_journal = open_journal
        self._finished = anyio.Event()
        self._tg: TaskGroup | None = None
        schema = layout.output_schema(settings.state_dir)
        environ = dict(os.environ if environ is None else environ)
        self._runner = Runner(settings, environ, schema, self._wake, self.monitor)

    async def __aenter__(self) -> Self:
        await anyio.to_thread.run_sync(_prepare, self.settings, self._lock)
        try:
            await self._adopt()
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
            self.monitor.bind(self._tg)
        except BaseException:
            self._lock.release()
            raise
        return self

    async def _adopt(self) -> None:
        """Make the jobs of gone servers this server's, stopping those that still ran, and take back their alerts."""
        adopted, self.damaged = await anyio.to_thread.run_sync(
            adopt, self.settings.state_dir, self.server_id, self._open_journal
        )
        for found in adopted:
            self._jobs[found.record.job_id] = await _take_over(found, self._runner)
        reported = {job_id for job_id, job in self._jobs.items() if job.record.reported}
        self.monitor.restore([alert for found in adopted for alert in found.alerts], reported)

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

    async def spawn(self, request: JobRequest) -> Job:
        """Queue a worker for ``request`` and return its job at once, running or queued."""
        assert self._tg is not None, "enter the supervisor first"
        self._slots.check(self.settings.queue_limit, request)
        record = JobRecord(job_id=f"j-{uuid.uuid4().hex[:12]}", request=request, server_id=self.server_id)
        job = Job(record=record, journal=self._open_journal(layout.job(self.settings.state_dir, record.job_id)))
        await anyio.to_thread.run_sync(job.journal.create, record.model_copy(deep=True))
        self._jobs[job.job_id] = job
        await self._tg.start(self._run, job)
        return job

    async def wait_any(
        self, job_ids: Sequence[str] | None, timeout_s: float, progress: Progress | None = None
    ) -> WaitResult:
        """Wait until a job of the set has finished unreported, or the timeout passes; see `wait_any`."""
        wanted = self.jobs(job_ids)
        wait_s = min(timeout_s, self.settings.max_wait_s)
        return await wait_any(wanted, wait_s, lambda: self._finished, self.digest, self.monitor, progress)

    async def _run(self, job: Job, *, task_status: TaskStatus[None]) -> None:
        await self._runner.live(job, self._slots.hold(job, task_status))

    def _wake(self) -> None:
        """Wake whoever waits for a job to finish."""
        self._finished.set()
        self._finished = anyio.Event()


async def _take_over(found: Adopted, runner: Runner) -> Job:
    """A job of a gone server as this server's: a finished one as it was, one that still ran stopped."""
    job = Job(record=found.record, journal=found.journal)
    if job.done:
        job.finished.set()
    else:
        await runner.interrupt(job, found.reason)
    return job


async def wait_any(
    wanted: Sequence[Job],
    wait_s: float,
    finished: Callable[[], anyio.Event],
    describe_pending: Callable[[Job], JobDigest],
    monitor: Monitor,
    progress: Progress | None = None,
) -> WaitResult:
    """Wait until a job of ``wanted`` has finished unreported, an alert names one, or ``wait_s`` seconds pass.

    Reports every finished job of the set not yet reported by an earlier wait
    (each is reported once, across restarts too, so the mark is saved; a disk
    that refuses the mark does not keep the job from being reported), every
    alert naming a job of the set not yet reported (once, sent as a progress
    notification too), and digests the jobs still pending. Returns at once when
    nothing of the set is left to wait for. ``finished`` gives the event set
    when the next job finishes or the next alert is raised.
    """
    ids = [job.job_id for job in wanted]
    timed_out = True
    with anyio.move_on_after(wait_s):
        while True:
            ready = [job for job in wanted if job.done and not job.record.reported]
            if ready or monitor.unreported(ids) or all(job.done for job in wanted):
                timed_out = False
                break
            changed = finished()
            if progress is not None:
                done = sum(job.done for job in wanted)
                await progress(done, len(wanted), f"{done} of {len(wanted)} jobs finished")
            with anyio.move_on_after(HEARTBEAT_S):
                await changed.wait()
    ready = [job for job in wanted if job.done and not job.record.reported]
    alerts = monitor.unreported(ids)
    monitor.mark_reported(alerts)
    if alerts and progress is not None:
        await progress(sum(job.done for job in wanted), len(wanted), "; ".join(alert.message() for alert in alerts))
    for job in ready:
        job.record.reported = True
        try:
            await job.persist()
        except OSError:
            logger.exception(
                "job %s is reported, but the mark could not be saved; a restart may report it again", job.job_id
            )
    return WaitResult(
        finished=[job.result for job in ready],
        timed_out=timed_out and not ready and not alerts,
        pending=[describe_pending(job) for job in wanted if not job.done],
        alerts=alerts,
    )


def total_usage(usages: Iterable[Usage | None]) -> Usage | None:
    """The sum of the jobs' token counts; None when none of them has any."""
    known = [usage for usage in usages if usage is not None]
    if not known:
        return None
    return Usage(**{name: sum(getattr(usage, name) for usage in known) for name in Usage.model_fields})


def _prepare(settings: Settings, lock: ServerLock) -> None:
    """Make the state dir ready and take this server's lock."""
    layout.jobs(settings.state_dir).mkdir(parents=True, exist_ok=True)
    if settings.isolated:
        layout.codex_home(settings.state_dir).mkdir(exist_ok=True)
    write_schema(settings.state_dir)
    lock.acquire()
