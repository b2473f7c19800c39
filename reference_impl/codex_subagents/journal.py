"""The durable record of one job on disk, so results and cursors survive a server restart.

Each job owns a directory under ``<state_dir>/jobs/<job_id>/``:

* ``job.json``: the `JobRecord` (request, state, process ids, result), replaced atomically;
* ``events.jsonl``: one normalized event per line, in sequence order;
* ``events.idx``: the byte offset of each event line as a fixed 8-byte integer, so
  reading the page at cursor *n* is a seek, whatever the length of the history;
* ``stdout.jsonl`` and ``stderr.log``: what the worker wrote, byte for byte.

Nothing of a job's history is kept in memory. A torn tail (a line or index entry
half-written when the server was killed) is cut off when the journal is reopened.
"""

from __future__ import annotations

import itertools
import os
import struct
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from .events import EVENT_ADAPTER, Event, Usage

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out", "interrupted"]
FINISHED_STATES: frozenset[JobState] = frozenset({"succeeded", "failed", "cancelled", "timed_out", "interrupted"})

_OFFSET = struct.Struct("<Q")


class JobRequest(BaseModel):
    """What the boss asked for, as validated by the server."""

    prompt: str
    cwd: str
    label: str
    sandbox: str
    model: str | None = None
    profile: str | None = None
    config: list[str] = Field(default_factory=list[str])
    wall_timeout_s: float
    idle_timeout_s: float


class JobOutcome(BaseModel):
    """What a finished job produced, as reported by codex_result."""

    exit_code: int | None = None
    summary: str | None = None
    modified_files: list[str] = Field(default_factory=list[str])
    observed_files: list[str] = Field(default_factory=list[str])
    final_message: str | None = None
    usage: Usage | None = None
    error: str | None = None
    contract_error: str | None = None


class JobRecord(BaseModel):
    """Everything known about a job, persisted on every state change."""

    job_id: str
    request: JobRequest
    state: JobState = "queued"
    queued_at: float
    started_at: float | None = None
    finished_at: float | None = None
    pid: int | None = None
    process_start: str | None = None
    reported: bool = False
    outcome: JobOutcome | None = None


class Journal:
    """Append and page the events of one job, and keep its record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._events_path = directory / "events.jsonl"
        self._index_path = directory / "events.idx"
        self._count = _repair(self._events_path, self._index_path)
        self._events: int | None = None
        self._index: int | None = None
        self._size = 0

    @property
    def count(self) -> int:
        """The number of events recorded so far."""
        return self._count

    @property
    def record_path(self) -> Path:
        """Where the job record lives."""
        return self.directory / "job.json"

    @property
    def stdout_path(self) -> Path:
        """Where the worker's raw stdout is kept."""
        return self.directory / "stdout.jsonl"

    @property
    def stderr_path(self) -> Path:
        """Where the worker's stderr is kept."""
        return self.directory / "stderr.log"

    @property
    def last_message_path(self) -> Path:
        """Where Codex writes the worker's final message (``-o``)."""
        return self.directory / "last-message.txt"

    def append(self, *events: Event) -> None:
        """Record ``events`` as the next in sequence; the first one's ``seq`` must equal `count`.

        A batch is one write to each file, so a chunk of worker output costs two system calls.
        """
        if self._events is None or self._index is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._events = os.open(self._events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._index = os.open(self._index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._size = os.lseek(self._events, 0, os.SEEK_END)
        lines = [event.model_dump_json().encode() + b"\n" for event in events]
        offsets = list(itertools.accumulate((len(line) for line in lines[:-1]), initial=self._size))
        os.write(self._events, b"".join(lines))
        os.write(self._index, b"".join(_OFFSET.pack(offset) for offset in offsets))
        self._size += sum(map(len, lines))
        self._count += len(lines)

    def read(self, cursor: int, limit: int) -> list[Event]:
        """Return up to ``limit`` events starting at sequence number ``cursor``."""
        end = min(self._count, cursor + limit)
        if cursor >= end:
            return []
        with self._index_path.open("rb") as index:
            index.seek(cursor * _OFFSET.size)
            first = _OFFSET.unpack(index.read(_OFFSET.size))[0]
        with self._events_path.open("rb") as events:
            events.seek(first)
            return [EVENT_ADAPTER.validate_json(events.readline()) for _ in range(end - cursor)]

    def last(self) -> Event | None:
        """Return the newest event, if any."""
        page = self.read(self._count - 1, 1) if self._count else []
        return page[0] if page else None

    def save(self, record: JobRecord) -> None:
        """Replace the job record atomically."""
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.record_path.with_suffix(".tmp")
        temporary.write_text(record.model_dump_json(indent=1))
        os.replace(temporary, self.record_path)

    def load(self) -> JobRecord:
        """Read the job record."""
        return JobRecord.model_validate_json(self.record_path.read_bytes())

    def close(self) -> None:
        """Release the open event files; reads still work afterwards."""
        for fd in (self._events, self._index):
            if fd is not None:
                os.close(fd)
        self._events = self._index = None


def _repair(events_path: Path, index_path: Path) -> int:
    """Cut a torn tail off the event and index files and return the number of whole events.

    The common case, a clean shutdown, is checked in constant time: the last
    index entry must point at a line that ends exactly at the end of the file.
    """
    if not events_path.exists():
        index_path.unlink(missing_ok=True)
        return 0
    size = events_path.stat().st_size
    count = index_path.stat().st_size // _OFFSET.size if index_path.exists() else 0
    if count and index_path.stat().st_size == count * _OFFSET.size:
        with index_path.open("rb") as index, events_path.open("rb") as events:
            index.seek((count - 1) * _OFFSET.size)
            events.seek(_OFFSET.unpack(index.read(_OFFSET.size))[0])
            line = events.readline()
            if line.endswith(b"\n") and events.tell() == size:
                return count
    data = events_path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) != len(data):
        with events_path.open("r+b") as events:
            events.truncate(len(whole))
    offsets: list[int] = []
    start = 0
    while start < len(whole):
        offsets.append(start)
        start = whole.index(b"\n", start) + 1
    index_path.write_bytes(b"".join(_OFFSET.pack(offset) for offset in offsets))
    return len(offsets)
