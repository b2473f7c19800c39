"""A job's live state: its durable record, its journal, and what its events have shown so far.

What a finished job produced is its record's `JobResult`; while it runs, the
paths it was seen changing and its last message are kept here, read off the
events as they are journaled (`observe`), or replayed from the journal when a
job of a gone server is adopted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anyio

from .events import Event, ItemEvent, TurnCompleted, TurnFailed
from .journal import JobRecord, Journal
from .reports import JobResult, JobState


@dataclass(eq=False)
class Job:
    """A job's live state; its durable part is ``record``."""

    record: JobRecord
    journal: Journal
    finished: anyio.Event = field(default_factory=anyio.Event)
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    stop: tuple[JobState, str] | None = None
    exit_code: int | None = None
    last_event: Event | None = None
    observed: dict[str, None] = field(default_factory=dict[str, None])
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
