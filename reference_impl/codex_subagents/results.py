"""The typed results the tools return, and how each is read off a job or a git report.

These models are the tools' output schemas: clients get them as structured
content, and the documentation's tool reference is generated from them.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from .events import (
    AgentMessage,
    CommandExecution,
    Event,
    FileChange,
    ItemEvent,
    McpToolCall,
    StreamError,
    TurnFailed,
    Unparsed,
    Usage,
)
from .jobs import Job, JobSupervisor
from .journal import JobState


class SpawnResult(BaseModel):
    """A job that was just started or queued."""

    job_id: str
    label: str
    state: JobState = Field(description="running when a slot was free, else queued")
    queue_position: int | None = Field(description="1 for the next job to start; null when running")


class EventsPage(BaseModel):
    """One page of a job's normalized events."""

    job_id: str
    state: JobState
    events: list[Event]
    next_cursor: int = Field(description="Pass this as cursor to read on; equals the event count so far")
    finished: bool = Field(description="The job has finished and no event follows next_cursor")


class JobDigest(BaseModel):
    """A one-line view of a job, for waiting and status."""

    job_id: str
    label: str
    state: JobState
    elapsed_s: float = Field(description="Seconds since the job was queued, or its whole life once finished")
    queue_position: int | None
    last_event: str | None = Field(description="The newest event in a few words")


class FinishedJob(BaseModel):
    """A job reported by codex_wait_any."""

    job_id: str
    label: str
    state: JobState
    summary: str | None
    error: str | None
    contract_error: str | None


class WaitResult(BaseModel):
    """What codex_wait_any saw."""

    finished: list[FinishedJob] = Field(description="Jobs that finished since an earlier wait reported them")
    timed_out: bool
    pending: list[JobDigest] = Field(description="The jobs of the set still queued or running")


class Timings(BaseModel):
    """When a job was queued, started and finished (epoch seconds), and how long each part took."""

    queued_at: float
    started_at: float | None
    finished_at: float | None
    queue_s: float | None
    run_s: float | None


class JobResult(BaseModel):
    """Everything a finished job produced."""

    job_id: str
    label: str
    state: JobState
    exit_code: int | None
    summary: str | None
    modified_files: list[str] = Field(description="Paths the worker reported changing (its contract)")
    observed_files: list[str] = Field(description="Paths seen in the worker's file_change events")
    final_message: str | None
    usage: Usage | None
    error: str | None
    contract_error: str | None = Field(description="How the final message broke the worker contract, if it did")
    timings: Timings


class CancelResult(BaseModel):
    """The outcome of a cancel."""

    job_id: str
    state: JobState
    previous_state: JobState
    message: str


class StatusResult(BaseModel):
    """The jobs this server knows and how full it is."""

    jobs: list[JobDigest]
    running: int
    queued: int
    cap: int


def describe(event: Event | None) -> str | None:
    """Say what an event is in a few words, for digests."""
    if event is None:
        return None
    if isinstance(event, ItemEvent):
        match event.item:
            case CommandExecution(command=command, exit_code=code):
                detail = command if code is None else f"{command} (exit {code})"
            case FileChange(changes=changes):
                detail = ", ".join(f"{change.kind} {change.path}" for change in changes)
            case AgentMessage(text=text):
                detail = text
            case McpToolCall(server=server, tool=tool):
                detail = f"{server}.{tool}"
            case _:
                detail = ""
        return f"{event.type} {event.item.type} {detail}".strip()[:160]
    if isinstance(event, TurnFailed):
        return f"turn.failed {event.error.message}"[:160]
    if isinstance(event, StreamError | Unparsed):
        text = event.message if isinstance(event, StreamError) else event.reason
        return f"{event.type} {text}"[:160]
    return event.type


def digest(supervisor: JobSupervisor, job: Job) -> JobDigest:
    """Summarize a job in one line."""
    record = job.record
    end = record.finished_at or time.time()
    return JobDigest(
        job_id=job.job_id,
        label=record.request.label,
        state=record.state,
        elapsed_s=round(end - record.queued_at, 3),
        queue_position=supervisor.queue_position(job),
        last_event=describe(job.last_event),
    )


def finished(job: Job) -> FinishedJob:
    """Summarize a finished job for codex_wait_any."""
    outcome = job.record.outcome
    return FinishedJob(
        job_id=job.job_id,
        label=job.record.request.label,
        state=job.record.state,
        summary=outcome.summary if outcome else None,
        error=outcome.error if outcome else None,
        contract_error=outcome.contract_error if outcome else None,
    )


def job_result(job: Job) -> JobResult:
    """Give the whole result of a finished job."""
    record = job.record
    outcome = record.outcome
    assert outcome is not None, "only finished jobs have a result"
    started, ended = record.started_at, record.finished_at
    return JobResult(
        job_id=job.job_id,
        label=record.request.label,
        state=record.state,
        exit_code=outcome.exit_code,
        summary=outcome.summary,
        modified_files=outcome.modified_files,
        observed_files=outcome.observed_files,
        final_message=outcome.final_message,
        usage=outcome.usage,
        error=outcome.error,
        contract_error=outcome.contract_error,
        timings=Timings(
            queued_at=record.queued_at,
            started_at=started,
            finished_at=ended,
            queue_s=round((started or ended or record.queued_at) - record.queued_at, 3),
            run_s=round(ended - started, 3) if started and ended else None,
        ),
    )
