"""One view per job of a state dir, brought up to date by reading only what changed since the last look.

A `Board` lists the job directories, reads a record again only when its file
changed (records are replaced by a rename, so inode, size and time tell), and
follows the events and alerts of each job still queued or running from where it
stopped reading. A finished job's record already holds what it touched and its
tokens, so its events are never read: each look re-checks a rotating tenth of the
finished jobs, a ``stat`` each, so no look of ten thousand stalls the screen. Nothing
here writes or locks: a server's lock is tested by a shared lock attempt.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core import state_layout as layout
from ..jobs.journal import ALERTS, EVENTS, RECORD, JobRecord, alerts_in
from ..jobs.models import Alert
from ..jobs.registry import server_alive
from ..worktree.scope import meets
from ..worktree.snapshot import Signature, lstat_signature
from .activity import Activity, short, tokens
from .follow import journal_event
from .story import JobStory, Touch, record_or_request
from .tail import LineTail

EVENTS_SLICE = 128 << 10
"""The bytes of a job's events one look reads at least, and reads at a time: a stream's few lines fit in one."""
CATCH_UP_S = 0.1
"""How long one look goes on reading slices of journals behind: a long one is caught up over many looks,
and the screen, which looks twice a second, never stops answering for longer than this and one slice."""
SETTLED_EVERY = 10
"""A finished job's files are looked at again every this many looks, on its turn (a later claim may change them)."""


@dataclass
class JobView:
    """A job as the watch shows it."""

    job_id: str
    directory: Path
    record: JobRecord | None = None
    problem: str | None = None
    """Why the job's record cannot be read, if it cannot."""
    damaged: bool = False
    """Whether the job's record cannot be read (what it shows then is its request's, if any)."""
    activity: Activity | None = None
    alerts: list[Alert] = field(default_factory=list[Alert])
    server_alive: bool = False
    waiting_for: list[str] | None = None
    """A queued job's: the jobs it waits for (empty: a free slot)."""

    @property
    def label(self) -> str:
        """The job's label, or ``?`` when its record cannot be read."""
        return self.record.request.label if self.record else "?"

    @property
    def state(self) -> str:
        """The job's state, ``damaged`` when its record cannot be read, ``orphaned`` when its server is gone."""
        if self.record is None or self.damaged:
            return "damaged"
        if not self.record.done and not self.server_alive:
            return "orphaned"
        return self.record.state

    @property
    def queued_at(self) -> float:
        """When the job was queued (0 for a damaged one)."""
        return self.record.queued_at if self.record else 0.0

    def elapsed(self, now: float) -> float | None:
        """Seconds queued so far, running so far, or the whole run once finished."""
        record = self.record
        if record is None:
            return None
        if record.result is not None:
            return record.result.timings.run_s or record.result.timings.queue_s
        return now - (record.started_at or record.queued_at)

    @property
    def doing(self) -> str:
        """What the job is doing now, or how it ended."""
        record = self.record
        if record is None or self.damaged:
            return self.problem or "its record and its request cannot be read"
        if record.result is not None:
            ending = record.result.error or record.result.summary or record.result.final_message
            return short(ending) if ending else record.state
        if record.state == "queued":
            blockers = self.waiting_for or []
            return f"waits for {', '.join(blockers)}" if blockers else "waits for a free slot"
        if not self.server_alive:
            return "its server is gone; the next server to start stops it"
        return self.activity.doing if self.activity else "starting"

    @property
    def files(self) -> dict[str, float | None]:
        """Each path the job touched, from the worktree's top, with when it was first seen (None: not known)."""
        return self.activity.files if self.activity else {}

    @property
    def tokens(self) -> int:
        """The tokens the job used so far."""
        record = self.record
        if record is not None and record.result is not None:
            return tokens(record.result.usage)
        return tokens(self.activity.usage) if self.activity else 0


def story(view: JobView) -> JobStory:
    """What the view knows of a job, as the report's findings read a job."""
    touches = [Touch(path, at) for path, at in view.files.items()]
    usage = view.activity.usage if view.activity else None
    return JobStory(view.job_id, view.record, view.problem, touches, view.alerts, usage)


@dataclass
class _Reader:
    """How far one job's files were read."""

    view: JobView
    stamp: Signature | None = None
    events: LineTail | None = None
    alerts: LineTail | None = None
    turn: int = 0

    def look(self, alive: dict[str | None, bool], state_dir: Path, until: float, look: int) -> None:
        """Bring the view up to date; a finished job's files only on its turn, every `SETTLED_EVERY` looks."""
        view = self.view
        settled = view.record is not None and view.record.done and self.events is None
        if settled and look % SETTLED_EVERY != self.turn:
            return
        changed = self._record()
        record = view.record
        if record is not None:
            if record.server_id not in alive:
                alive[record.server_id] = server_alive(state_dir, record.server_id)
            view.server_alive = alive[record.server_id]
            if changed or not settled:
                self._activity(record, until)
        self.alerts = self.alerts or LineTail(view.directory / ALERTS)
        view.alerts += alerts_in(self.alerts.read())

    def _record(self) -> bool:
        """Read the record again when its file changed (a rename gives it a new inode, size or time); say whether
        it was read."""
        view = self.view
        try:
            info = (view.directory / RECORD).stat()
            stamp: Signature | None = lstat_signature(info)
        except OSError:
            stamp = None
        if stamp is not None and stamp == self.stamp:
            return False
        self.stamp = stamp
        view.record, view.problem = record_or_request(view.directory)
        view.damaged = view.problem is not None
        return True

    def _activity(self, record: JobRecord, until: float) -> None:
        view, request = self.view, record.request
        root = Path(request.root or request.cwd)
        if view.activity is None:
            view.activity = Activity(root, Path(request.cwd))
        activity = view.activity
        if record.result is not None:
            self.events = None
            activity.under_way.clear()
        elif record.state != "queued":
            self.events = self.events or LineTail(view.directory / EVENTS)
            self._catch_up(activity, until)
        activity.add_record(record)

    def _catch_up(self, activity: Activity, until: float) -> None:
        """Read the job's new events a slice at a time: one slice, then more while the look has time left."""
        assert self.events is not None
        while True:
            start = self.events.offset + self.events.pending
            for line in self.events.read(EVENTS_SLICE):
                activity.add(journal_event(line))
            if self.events.offset + self.events.pending == start or time.monotonic() > until:
                return


class Board:
    """Every job of one state dir, as the watch shows them, newest first."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.problem: str | None = None
        """Why no job can be shown, when none can (no state dir yet, say)."""
        self.servers = 0
        """How many servers hold their lock on the state dir now."""
        self.looks = 0
        """How many looks were taken."""
        self._readers: dict[str, _Reader] = {}
        self._found = 0

    @property
    def jobs(self) -> list[JobView]:
        """The jobs, newest first."""
        return sorted((r.view for r in self._readers.values()), key=lambda v: (v.queued_at, v.job_id), reverse=True)

    def get(self, job_id: str) -> JobView | None:
        """The view of one job, if the state dir has it."""
        reader = self._readers.get(job_id)
        return reader.view if reader else None

    def events_read(self, job_id: str) -> int:
        """How many bytes of the job's events were read so far."""
        reader = self._readers.get(job_id)
        return reader.events.offset if reader and reader.events else 0

    def look(self) -> None:
        """Read what changed in the state dir since the last look."""
        jobs = layout.jobs(self.state_dir)
        names, self.problem = _listed(self.state_dir)
        for gone in self._readers.keys() - names:
            del self._readers[gone]
        for name in sorted(names - self._readers.keys()):
            if not name.startswith("."):
                self._readers[name] = _Reader(JobView(name, jobs / name), turn=self._found % SETTLED_EVERY)
                self._found += 1
        alive: dict[str | None, bool] = {}
        until = time.monotonic() + CATCH_UP_S
        self.looks += 1
        for reader in self._readers.values():
            reader.look(alive, self.state_dir, until, self.looks)
        self.servers = _live_servers(self.state_dir)
        _waiting(self.jobs)

    def roots(self) -> set[Path]:
        """The worktrees the jobs ran in, as their requests name them."""
        return {
            Path(r.view.record.request.root or r.view.record.request.cwd)
            for r in self._readers.values()
            if r.view.record
        }

    def counts(self) -> dict[str, int]:
        """How many jobs are running, queued and finished (damaged and orphaned ones count as finished)."""
        counts = {"running": 0, "queued": 0, "finished": 0}
        for reader in self._readers.values():
            state = reader.view.state
            counts[state if state in counts else "finished"] += 1
        return counts


def _waiting(views: list[JobView]) -> None:
    """Name, for each queued job, the running jobs and earlier queued ones of its server whose scopes meet its own."""
    live = [(view, view.record) for view in reversed(views) if view.record and not view.record.done]
    for view in views:
        view.waiting_for = None
    for view, record in live:
        if record.state != "queued":
            continue
        scope = record.request.owned()
        view.waiting_for = [
            other.job_id
            for other, theirs in live
            if other is not view
            and theirs.server_id == record.server_id
            and (theirs.state == "running" or other.queued_at < view.queued_at)
            and meets(scope, theirs.request.owned())
        ]


def _listed(state_dir: Path) -> tuple[set[str], str | None]:
    """The names of the state dir's job directories, and why there are none when that is worth saying."""
    try:
        return set(os.listdir(layout.jobs(state_dir))), None
    except FileNotFoundError:
        if state_dir.is_dir():
            return set(), None
        return set(), f"no state dir at {state_dir} yet: no server has run a job for this repository"
    except OSError as exc:
        return set(), f"the state dir {state_dir} cannot be read ({exc.strerror})"


def _live_servers(state_dir: Path) -> int:
    servers = layout.servers(state_dir)
    try:
        names = os.listdir(servers)
    except OSError:
        return 0
    adoption = layout.adoption_lock(state_dir).name
    return sum(name.endswith(".lock") and name != adoption and server_alive(state_dir, name[:-5]) for name in names)
