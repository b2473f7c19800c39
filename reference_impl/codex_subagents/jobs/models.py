"""What the job tools return: the models are the tools' output schemas, built once and returned as they are.

A finished job's `JobResult` is made when the job settles and persisted in its
record, so codex_result returns the very object the journal keeps. A result is
also a `FinishedJob`, the short form codex_wait_any lists: pydantic serializes
a value by its declared type, so a result in a list of finished jobs shows only
the short form's fields. Likewise a `JobDigest` is a `SpawnResult` with the live
fields added. The documentation's tool reference is generated from these models.
"""

from __future__ import annotations

from typing import Literal

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

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"]
AlertKind = Literal["collision", "out_of_scope"]
Seen = Literal["file_change", "worktree"]
FINISHED_STATES: frozenset[JobState] = frozenset({"succeeded", "failed", "cancelled", "timed_out", "interrupted"})


class SpawnResult(BaseModel):
    """A job that was just started or queued."""

    job_id: str
    label: str
    state: JobState = Field(description="running when a slot was free, else queued")
    queue_position: int | None = Field(description="1 for the next job to start; null when running")
    waiting_for: list[str] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="Queued jobs only: the running or earlier queued jobs whose scopes meet this one's, "
        "which it waits for; empty when it waits only for a free slot",
    )


class JobDigest(SpawnResult):
    """A one-line view of a job, for waiting and status."""

    elapsed_s: float = Field(description="Seconds since the job was queued, or its whole life once finished")
    last_event: str | None = Field(description="The newest event in a few words")
    reported: bool = Field(
        default=False,
        description="A codex_wait_any answer listed the job as finished; a finished job is never pending again, "
        "so read a result that answer lost with codex_result",
    )


class EventsPage(BaseModel):
    """One page of a job's normalized events."""

    job_id: str
    state: JobState
    events: list[Event]
    next_cursor: int = Field(description="Pass this as cursor to read on; equals the event count so far")
    finished: bool = Field(description="The job has finished and no event follows next_cursor")


class FinishedJob(BaseModel):
    """A job reported by codex_wait_any."""

    job_id: str
    label: str
    state: JobState
    summary: str | None
    error: str | None
    contract_error: str | None = Field(description="How the final message broke the worker contract, if it did")


class Timings(BaseModel):
    """When a job was queued, started and finished (epoch seconds), and how long each part took."""

    queued_at: float
    started_at: float | None
    finished_at: float | None
    queue_s: float | None
    run_s: float | None


class JobResult(FinishedJob):
    """Everything a finished job produced."""

    exit_code: int | None
    modified_files: list[str] = Field(description="Paths the worker reported changing (its contract)")
    observed_files: list[str] = Field(description="Paths seen in the worker's file_change events")
    out_of_scope: list[str] = Field(
        default_factory=list[str],
        description="Paths the job touched outside its declared scope, from the worktree's top",
    )
    final_message: str | None
    usage: Usage | None
    timings: Timings


class Alert(BaseModel):
    """Something seen while jobs ran that the boss should act on now, not after the batch."""

    kind: AlertKind = Field(
        description="collision: jobs whose runs overlap in time touched the same path; "
        "out_of_scope: a job touched a path outside its declared scope"
    )
    path: str = Field(description="The path, from the worktree's top")
    jobs: list[str] = Field(
        description="collision: the job(s) that touched it first, then the later one(s); "
        "several jobs in one step when a shell write could be any of them. out_of_scope: the job"
    )
    seen: Seen = Field(
        description="How the latest touch was seen: a worker's file_change event, or the worktree itself "
        "changing while the job ran a shell command"
    )
    at: float = Field(description="When the server raised it (epoch seconds)")

    def message(self) -> str:
        """The alert in one line, for a progress notification or a log."""
        return f"{self.kind} on {self.path}: jobs {', '.join(self.jobs)} (seen by {self.seen})"


class WaitResult(BaseModel):
    """What codex_wait_any saw."""

    finished: list[FinishedJob] = Field(description="Jobs that finished since an earlier wait reported them")
    timed_out: bool
    pending: list[JobDigest] = Field(description="The jobs of the set still queued or running")
    alerts: list[Alert] = Field(
        default_factory=list[Alert],
        description="Collisions and out-of-scope writes of the set not reported by an earlier wait",
    )


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
    damaged: list[str] = Field(
        default_factory=list[str],
        description="Job directories whose records could not be read at start; the server log says why",
    )
    alerts: list[Alert] = Field(default_factory=list[Alert], description="Every alert involving the listed jobs")
    elsewhere: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="Job -> its directory, for each queued or running job of another server (another Codex "
        "session) on this state dir; a rollback of its worktree is refused until it has finished",
    )
    usage: Usage | None = Field(
        default=None, description="The token usage of the listed jobs, summed; null while none has completed a turn"
    )


def timings(queued_at: float, started_at: float | None, finished_at: float) -> Timings:
    """Say when a job was queued, started and finished, and how long it queued and ran."""
    return Timings(
        queued_at=queued_at,
        started_at=started_at,
        finished_at=finished_at,
        queue_s=round((started_at or finished_at) - queued_at, 3),
        run_s=round(finished_at - started_at, 3) if started_at else None,
    )


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
