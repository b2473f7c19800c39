"""Which server owns which job, and reading back at start the jobs whose server is gone.

Several servers may share one state dir: two Codex sessions in one repository,
or sessions in linked worktrees of it, all keep their jobs under the common git
dir. Each server holds, for its whole life, an exclusive lock (``flock``) on
``<state_dir>/servers/<server_id>.lock``; the kernel drops it when the process
ends, however it ends, so a free lock proves the server gone, and no pid or
timestamp is guessed from; the lock files of gone servers are removed at the
next start. Each job record names its server. At start a server
adopts only the jobs whose server's lock is free, and rewrites them as its own
while it holds ``servers/adopt.lock``, so that two servers starting together
never adopt one job twice; a live server's jobs are neither loaded nor stopped.
A job finished and reported is never written again, so it is shared as it is
rather than rewritten at every start.
A record that cannot be read is rebuilt from the job's request file, or, when
nothing is left to rebuild it from, reported by name. Every function here
blocks: async callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

from ..core import state_layout as layout
from ..core.errors import BaselineError
from ..worktree.snapshot import Signature, lstat_signature
from .journal import RECORD, REQUEST, JobRecord, Journal, read_alerts, read_record
from .models import Alert

if sys.platform != "win32":
    import fcntl

logger = logging.getLogger(__name__)

INTERRUPTED = "the server stopped while this job ran; its worker was stopped"


@dataclass(frozen=True)
class Adopted:
    """A job of a gone server, now this server's: its journal, its record, why it stops if it still ran, and the
    alerts that named it."""

    journal: Journal
    record: JobRecord
    reason: str
    alerts: list[Alert]


class ServerLock:
    """The lock that proves this server alive to every other server on the same state dir."""

    def __init__(self, state_dir: Path) -> None:
        self.server_id = f"s-{uuid.uuid4().hex[:12]}"
        self._servers = layout.servers(state_dir)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; it appears under its final name already held, so no one ever sees it free."""
        self._servers.mkdir(parents=True, exist_ok=True)
        temporary = self._servers / f".{self.server_id}.tmp"
        fd = os.open(temporary, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(temporary, self._servers / f"{self.server_id}.lock")
        self._fd = fd

    def release(self) -> None:
        """Drop the lock and its file."""
        if self._fd is not None:
            (self._servers / f"{self.server_id}.lock").unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def server_alive(state_dir: Path, server_id: str | None) -> bool:
    """Whether the server ``server_id`` still holds its lock; a record without a server has none."""
    if server_id is None:
        return False
    try:
        fd = os.open(layout.server_lock(state_dir, server_id), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def live_jobs_in(state_dir: Path, root: Path, but: str | None = None, *, strict: bool = False) -> list[str]:
    """Return the queued or running jobs whose cwd lies in ``root`` of every live server, this one included, or of
    every one but the server ``but``.

    Raises:
        BaselineError: with ``strict`` (the busy check of a rollback), for a record that cannot be read, since
            its job may be one still writing in ``root``.
    """
    records = live_records(state_dir, but, strict=strict)
    return [record.job_id for record in records if record.request.works_in(root)]


def live_records(state_dir: Path, but: str | None = None, *, strict: bool = False) -> list[JobRecord]:
    """Return the records of the queued or running jobs of every live server, or of every one but the server ``but``
    (``strict`` as for `live_jobs_in`)."""
    alive: dict[str | None, bool] = {}
    found: list[JobRecord] = []
    for record in _records(state_dir, strict=strict):
        if record.done or (but and record.server_id == but):
            continue
        if record.server_id not in alive:
            alive[record.server_id] = server_alive(state_dir, record.server_id)
        if alive[record.server_id]:
            found.append(record)
    return found


def others_running(state_dir: Path, server_id: str, root: Path) -> bool:
    """Whether a job of another live server is queued or running with its cwd in ``root``.

    The servers' locks are looked at first: with no other server alive, no record is read.
    """
    locks = (
        lock.stem
        for lock in layout.servers(state_dir).glob("*.lock")
        if lock.stem not in (server_id, layout.adoption_lock(state_dir).stem)
    )
    return any(server_alive(state_dir, stem) for stem in locks) and bool(live_jobs_in(state_dir, root, server_id))


def others(state_dir: Path, server_id: str) -> list[JobRecord]:
    """Return the records of the jobs of every other server, live or gone, as they stand on disk."""
    return [record for record in _records(state_dir) if record.server_id != server_id]


_READ: dict[Path, tuple[Signature, JobRecord]] = {}
"""Each record file read so far, by its `lstat_signature`, with what it held."""


def _records(state_dir: Path, *, strict: bool = False) -> Generator[JobRecord]:
    """Every job record of the state dir that can be read, in the order of their job ids; with ``strict``, a record
    that is there but cannot be read raises `BaselineError` instead of being passed over.

    A record is replaced by a rename, so a file with the inode, size and time of its last reading holds the
    same record: only the records that changed are parsed again, and a look at other servers' jobs costs a
    ``stat`` per job. The records given are shared: read them, never change them. The records of job
    directories that are gone are forgotten, so the cache holds no more than the state dirs hold.
    """
    jobs = layout.jobs(state_dir)
    listed = sorted(jobs.glob(f"*/{RECORD}"))
    present = set(listed)
    for gone in [path for path in _READ if path.parent.parent == jobs and path not in present]:
        del _READ[gone]
    for path in listed:
        try:
            info = path.stat()
            key = lstat_signature(info)
            if path not in _READ or _READ[path][0] != key:
                _READ[path] = (key, read_record(path))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            if strict:
                raise BaselineError(
                    f"Rollback refused: the job record {str(path)!r} cannot be read ({type(exc).__name__}), so its "
                    "job may still write here; if no worker of it runs, move its job directory out of the state "
                    "dir, then roll back again."
                ) from exc
            continue
        yield _READ[path][1]


def adopt(state_dir: Path, server_id: str, open_journal: Callable[[Path], Journal]) -> tuple[list[Adopted], list[str]]:
    """Make the jobs of gone servers this server's; return them, oldest first, and the names of damaged ones."""
    adopted: list[Adopted] = []
    damaged: list[str] = []
    with _held(layout.adoption_lock(state_dir)):
        for lock in layout.servers(state_dir).glob("*.lock"):
            if lock.name != "adopt.lock" and not server_alive(state_dir, lock.stem):
                lock.unlink(missing_ok=True)
        for directory in sorted(layout.jobs(state_dir).iterdir()):
            if not directory.is_dir():
                continue
            try:
                found = _read(state_dir, directory, open_journal)
            except (OSError, ValueError) as exc:
                logger.warning("job directory %s cannot be read: %s", directory, exc)
                damaged.append(directory.name)
                continue
            if found is None:
                continue
            if not (found.record.done and found.record.reported):
                found.record.server_id = server_id
                found.journal.save(found.record)
            adopted.append(found)
    adopted.sort(key=lambda job: job.record.queued_at)
    return adopted, damaged


def _read(state_dir: Path, directory: Path, open_journal: Callable[[Path], Journal]) -> Adopted | None:
    """Read one job back unless a live server runs it; None too when no job was ever recorded there.

    The journal is opened only once the job is known to be nobody else's, since
    opening it repairs a torn tail that a live server may be writing.
    """
    if not (directory / RECORD).exists() and not (directory / REQUEST).exists():
        return None
    try:
        record, reason = read_record(directory / RECORD), INTERRUPTED
    except (OSError, ValueError) as exc:
        record = read_record(directory / REQUEST)
        logger.warning("the record of job %s was damaged (%s); it is rebuilt from its request", record.job_id, exc)
        reason = (
            "the job's record was damaged, so it was rebuilt from its request and its events "
            f"and its outcome is unknown ({type(exc).__name__})"
        )
    if server_alive(state_dir, record.server_id):
        return None
    return Adopted(open_journal(directory), record, reason, read_alerts(directory))


@contextlib.contextmanager
def _held(path: Path) -> Generator[None]:
    """Hold an exclusive lock on ``path`` for the block, waiting for it if another server holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
