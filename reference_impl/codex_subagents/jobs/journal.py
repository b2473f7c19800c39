"""The durable record of one job on disk, so results and cursors survive a server restart.

Each job owns a directory under ``<state_dir>/jobs/<job_id>/``:

* ``request.json``: the record as it was at spawn, written once, so a damaged ``job.json`` can be rebuilt;
* ``job.json``: the `JobRecord` (request, state, process ids, result), replaced atomically and durably
  (the file and its directory are synced before a transition counts as made);
* ``events.jsonl``: one normalized event per line, in sequence order;
* ``events.idx``: the byte offset of each event line as a fixed 8-byte integer, so
  reading the page at cursor *n* is a seek, whatever the length of the history;
* ``stdout.jsonl`` and ``stderr.log``: what the worker wrote, byte for byte;
* ``last-message.txt``: the worker's final message, as Codex wrote it;
* ``alerts.jsonl``: each alert naming the job, one per line as the server raised it, so a watch sees it
  and a restarted server still knows it.

Nothing of a job's history is kept in memory. Events are appended without a sync:
they are small page-cache writes on the event loop, and a torn tail (a line or
index entry half-written when the server or the machine stopped) is cut off when
the journal is reopened. Records are synced, so callers on the event loop save
them from a worker thread.
"""

from __future__ import annotations

import itertools
import os
import struct
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field

from ..worktree.scope import Owned, owned
from .events import EVENT_ADAPTER, Event, as_printed
from .models import FINISHED_STATES, Alert, JobResult, JobState

_OFFSET = struct.Struct("<Q")
RECORD = "job.json"
REQUEST = "request.json"
EVENTS = "events.jsonl"
ALERTS = "alerts.jsonl"


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
    root: str | None = Field(default=None, description="The top of the worktree the job runs in")
    scope: list[str] = Field(
        default_factory=list[str], description="Patterns of the paths the job owns, from the worktree's top"
    )
    ignore_case: bool = Field(default=False, description="Whether git treats the worktree's names as case-insensitive")

    def owned(self) -> Owned:
        """The files the job's scope names, as the queue compares it with other jobs' (`meets`)."""
        return owned(self.root, self.scope, self.ignore_case)

    def works_in(self, root: Path) -> bool:
        """Whether the job works in the worktree at ``root``: its cwd is there, a submodule or nested repository
        of it included. The one rule the busy check, claims, overlaps and integrity share."""
        return Path(self.cwd).is_relative_to(root)


class JobRecord(BaseModel):
    """Everything known about a job, persisted on every state change."""

    job_id: str
    request: JobRequest
    server_id: str | None = Field(default=None, description="The server that runs the job or last adopted it")
    state: JobState = "queued"
    queued_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    pid: int | None = None
    process_start: float | None = Field(default=None, description="The worker's start time, to tell it from pid reuse")
    reported: bool = False
    seen_files: list[str] = Field(
        default_factory=list[str],
        description="Paths from the worktree's top, quoted as git quotes them, that the server's watch saw change "
        "and put on this job: a write seen while it alone ran a command, or the path of a collision naming it",
    )
    result: JobResult | None = None

    @property
    def done(self) -> bool:
        """Whether the job reached a final state."""
        return self.state in FINISHED_STATES


class Journal:
    """Append and page the events of one job, and keep its record; its paths are the files listed above."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.request_path = directory / REQUEST
        self.record_path = directory / RECORD
        self.stdout_path = directory / "stdout.jsonl"
        self.stderr_path = directory / "stderr.log"
        self.last_message_path = directory / "last-message.txt"
        self.alerts_path = directory / ALERTS
        self._events_path = directory / EVENTS
        self._index_path = directory / "events.idx"
        self._count = _repair(self._events_path, self._index_path)
        self._events: int | None = None
        self._index: int | None = None
        self._size = 0

    @property
    def count(self) -> int:
        """The number of events recorded so far."""
        return self._count

    def append(self, *events: bytes) -> None:
        """Record the next events in sequence, each as `recorded` gives its line; the first one's ``seq`` must
        equal `count`.

        A batch is one write to each file, so a chunk of worker output costs two system calls.
        """
        if self._events is None or self._index is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._events = os.open(self._events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._index = os.open(self._index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._size = os.lseek(self._events, 0, os.SEEK_END)
        lines = [event + b"\n" for event in events]
        offsets = list(itertools.accumulate((len(line) for line in lines[:-1]), initial=self._size))
        os.write(self._events, b"".join(lines))
        os.write(self._index, b"".join(map(_OFFSET.pack, offsets)))
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

    def add_alert(self, alert: Alert) -> None:
        """Append an alert naming the job, in one write and without a sync, as events are appended."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.alerts_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, alert.model_dump_json().encode() + b"\n")
        finally:
            os.close(fd)

    def create(self, record: JobRecord) -> None:
        """Write a new job's request file and its first record, both durably."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_durably(self.request_path, record.model_dump_json(indent=1).encode())
        self.save(record)

    def save(self, record: JobRecord) -> None:
        """Replace the job record atomically and durably."""
        _write_durably(self.record_path, record.model_dump_json(indent=1).encode())

    def close(self) -> None:
        """Release the open event files; reads still work afterwards."""
        for fd in (self._events, self._index):
            if fd is not None:
                os.close(fd)
        self._events = self._index = None


def recorded(event: Event, line: bytes) -> bytes:
    """The journal's line for ``event``, parsed from ``line`` (without its newline).

    A line read as it stands is kept as the worker printed it, the stamps added as
    its last keys: a reader normalizes it again the same way, and the event is not
    serialized a second time. Any other event is kept as its own JSON.
    """
    if not as_printed(event, line):
        return event.model_dump_json().encode()
    return b'%s,"seq":%d%s' % (line.rstrip()[:-1], event.seq, _at_key(event.at))


@lru_cache(maxsize=4)
def _at_key(at: float) -> bytes:
    """The last key of a kept line: the events of one chunk share their receive time, written out once."""
    return b',"at":%r}' % at


def read_record(path: Path) -> JobRecord:
    """Read a job record (``job.json``, or the ``request.json`` written at spawn)."""
    return JobRecord.model_validate_json(path.read_bytes())


def read_alerts(directory: Path) -> list[Alert]:
    """The alerts recorded in a job's directory, oldest first; a line torn or damaged is passed over."""
    try:
        return alerts_in((directory / ALERTS).read_bytes().splitlines())
    except FileNotFoundError:
        return []


def alerts_in(lines: Iterable[bytes]) -> list[Alert]:
    """The alerts of lines of an alerts file, a reader's new lines or the whole file; a line torn or damaged is
    passed over."""
    found: list[Alert] = []
    for line in lines:
        try:
            found.append(Alert.model_validate_json(line))
        except ValueError:
            continue
    return found


def _write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that after a crash it holds either the old or the new bytes, whole."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


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
