"""A job's live state (its durable record, its journal, what its events have shown so far) and what it answers.

What a finished job produced is its record's `JobResult`; while it runs, the
paths it was seen changing and its last message are kept here, read off the
events as they are journaled (`observe`), or replayed from the journal when a
job of a gone server is adopted. The job tools' answers about one job (its
digest, a page of its events, its result, its cancel) are built here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from ..core.errors import JobStateError
from .events import Event, ItemEvent, TurnCompleted, TurnFailed
from .journal import JobRecord, Journal
from .models import CancelResult, EventsPage, JobDigest, JobResult, JobState, describe


@dataclass(eq=False)
class Job:
    """A job's live state; its durable part is ``record``."""

    record: JobRecord
    journal: Journal
    finished: anyio.Event = field(default_factory=anyio.Event)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    stop: tuple[JobState, str] | None = None
    exit_code: int | None = None
    ended_at: float | None = None
    """When the worker's process tree was gone, before the job settles (None if it never started)."""
    last_event: Event | None = None
    observed: dict[str, None] = field(default_factory=dict[str, None])
    worktree_touched: dict[str, None] = field(default_factory=dict[str, None])
    """Root-relative paths the worktree watch saw change while only this job ran a command."""
    last_message: str | None = None
    turn_error: str | None = None
    usage_event: TurnCompleted | None = None
    saving: anyio.Lock = field(default_factory=anyio.Lock)

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self.record.job_id

    @property
    def done(self) -> bool:
        """Whether the job reached a final state."""
        return self.record.done

    @property
    def result(self) -> JobResult:
        """The result of a finished job."""
        assert self.record.result is not None, "only a finished job has a result"
        return self.record.result

    @property
    def reported_files(self) -> list[str]:
        """The paths the worker reported changing, relative to its cwd (none before it finishes)."""
        return self.record.result.modified_files if self.record.result else []

    @property
    def observed_files(self) -> list[str]:
        """The paths seen in the worker's file_change events, relative to its cwd when they lie in it."""
        if self.record.result is not None:
            return self.record.result.observed_files
        return [relative(path, self.record.request.cwd) for path in self.observed]

    async def persist(self) -> None:
        """Save the record as it is now, durably, from a worker thread and one save at a time."""
        snapshot = self.record.model_copy(deep=True)
        async with self.saving:
            await anyio.to_thread.run_sync(self.journal.save, snapshot)


def observe(job: Job, event: Event) -> None:
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


def relative(path: str, cwd: str) -> str:
    """Return ``path`` relative to ``cwd`` when it lies there, else as it is."""
    try:
        return Path(path).relative_to(cwd).as_posix()
    except ValueError:
        return path


def digest(job: Job, queue_position: int | None, waiting_for: list[str] | None = None) -> JobDigest:
    """Summarize a job in one line; a queued one with the jobs it waits for."""
    record = job.record
    end = record.result.timings.finished_at if record.result else None
    return JobDigest(
        job_id=job.job_id,
        label=record.request.label,
        state=record.state,
        elapsed_s=round((end or time.time()) - record.queued_at, 3),
        queue_position=queue_position,
        waiting_for=waiting_for,
        last_event=describe(job.last_event),
        reported=record.reported,
    )


async def page(job: Job, cursor: int, limit: int) -> EventsPage:
    """Read up to ``limit`` events of a job from ``cursor`` on; the next cursor never passes the events so far."""
    done = job.done
    events = await anyio.to_thread.run_sync(job.journal.read, cursor, limit)
    next_cursor = cursor + len(events) if events else min(cursor, job.journal.count)
    return EventsPage(
        job_id=job.job_id,
        state=job.record.state,
        events=events,
        next_cursor=next_cursor,
        finished=done and next_cursor >= job.journal.count,
    )


def result(job: Job) -> JobResult:
    """Return a finished job's result, refusing one that is still queued or running."""
    if not job.done:
        raise JobStateError(
            f"Job {job.job_id!r} is still {job.record.state}; call codex_wait_any with it, "
            "then codex_result once it has finished."
        )
    return job.result


async def cancel(job: Job, bound_s: float) -> CancelResult:
    """Stop a job, queued or running, within ``bound_s``, and say what it was and what it is now."""
    before = job.record.state
    if job.done:
        message = f"job {job.job_id!r} had already finished ({before}); nothing was stopped"
    else:
        job.stop = ("cancelled", "cancelled by the boss")
        job.scope.cancel()
        with anyio.fail_after(bound_s):
            await job.finished.wait()
        message = (
            f"job {job.job_id!r} was removed from the queue before it started"
            if before == "queued"
            else f"job {job.job_id!r} was stopped with its whole process tree; its events are kept"
        )
    return CancelResult(job_id=job.job_id, state=job.record.state, previous_state=before, message=message)
