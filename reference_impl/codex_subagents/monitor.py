"""Watch running jobs for collisions and out-of-scope writes, and raise alerts the boss sees at once.

Two sources feed each worktree's `touches.Book`: a worker's ``file_change``
events, as its output is read (certain: that job wrote those paths), and the
worktree itself, looked at by a `watch.WorktreeWatch` after each shell command
a worker finishes, and every ``poll_s`` while one is still running (a write
seen there is put on every job that had a command or a patch under way since
the last look). A new alert is kept for codex_status, and wakes codex_wait_any,
which reports it once. Each worktree's watch runs as a task of the
supervisor's group only while jobs run there; a watch that fails (git gone,
the directory removed) ends with a log line, and the events still feed the book.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from anyio.abc import TaskGroup, TaskStatus

from .errors import GitError
from .events import CommandExecution, Event, FileChange, ItemEvent
from .job import Job
from .paths import relative_to_root
from .reports import Alert, Seen
from .scope import covers
from .touches import Book, Touch
from .watch import WorktreeWatch

logger = logging.getLogger(__name__)


@dataclass
class _Worktree:
    """What the monitor keeps about one worktree while jobs run in it."""

    watch: WorktreeWatch
    book: Book = field(default_factory=Book)
    live: set[str] = field(default_factory=set[str])
    under_way: dict[str, set[str]] = field(default_factory=dict[str, set[str]])
    """Job -> ids of its commands and patches started and not yet completed."""
    recent: set[str] = field(default_factory=set[str])
    """Jobs that had a command or patch under way since the last look."""
    patched: set[str] = field(default_factory=set[str])
    """Paths written by announced patches since the last look: their writer is known."""
    due: anyio.Event = field(default_factory=anyio.Event)
    watching: bool = False

    @property
    def busy(self) -> set[str]:
        return {job for job, items in self.under_way.items() if items}


class Monitor:
    """The alerts of one server's jobs; ``wake`` tells waiters that something happened."""

    def __init__(self, wake: Callable[[], None], poll_s: float = 1.0) -> None:
        self.alerts: list[Alert] = []
        self._wake = wake
        self._poll_s = poll_s
        self._reported: set[int] = set()
        self._jobs: dict[str, Job] = {}
        self._trees: dict[Path, _Worktree] = {}
        self._tg: TaskGroup | None = None

    def bind(self, tg: TaskGroup) -> None:
        """Run the worktrees' watches in ``tg``, the supervisor's task group."""
        self._tg = tg

    async def started(self, job: Job) -> None:
        """Take a job that is about to launch into the watch of its worktree, primed before it can write."""
        if job.record.request.root is None or self._tg is None:
            return
        root = Path(job.record.request.root)
        tree = self._trees.setdefault(root, _Worktree(WorktreeWatch(root)))
        self._jobs[job.job_id] = job
        tree.live.add(job.job_id)
        if not tree.watching:
            tree.watching = True
            await self._tg.start(self._watch, tree)

    def finished(self, job: Job) -> None:
        """Take one last look for what the job's commands left, then let it go."""
        tree = self._tree_of(job)
        if tree is not None:
            tree.live.discard(job.job_id)
            tree.under_way.pop(job.job_id, None)
            tree.due.set()

    def event(self, job: Job, event: Event) -> None:
        """Follow a job's commands and patches as its events are read; a finished patch is a certain touch."""
        tree = self._tree_of(job)
        if tree is None or not isinstance(event, ItemEvent):
            return
        item = event.item
        if not isinstance(item, CommandExecution | FileChange):
            return
        items = tree.under_way.setdefault(job.job_id, set())
        if event.type == "item.started":
            items.add(item.id)
            tree.recent.add(job.job_id)
            return
        if event.type != "item.completed":
            return
        items.discard(item.id)
        if isinstance(item, CommandExecution):
            tree.due.set()
            return
        cwd = Path(job.record.request.cwd)
        for change in item.changes:
            path = relative_to_root(tree.watch.root, cwd, change.path)
            if path is not None:
                tree.patched.add(path)
                self._touch(tree, path, frozenset({job.job_id}), "file_change")

    def involving(self, job_ids: Iterable[str]) -> list[Alert]:
        """Every alert naming one of ``job_ids``."""
        wanted = set(job_ids)
        return [alert for alert in self.alerts if wanted.intersection(alert.jobs)]

    def unreported(self, job_ids: Iterable[str]) -> list[Alert]:
        """The alerts naming one of ``job_ids`` that no wait has reported yet."""
        wanted = set(job_ids)
        return [a for n, a in enumerate(self.alerts) if n not in self._reported and wanted.intersection(a.jobs)]

    def mark_reported(self, alerts: Iterable[Alert]) -> None:
        """Remember that a wait reported ``alerts``."""
        done = {id(alert) for alert in alerts}
        self._reported.update(n for n, alert in enumerate(self.alerts) if id(alert) in done)

    async def _watch(self, tree: _Worktree, *, task_status: TaskStatus[None]) -> None:
        """Look at the worktree whenever a command ends, and while one runs, until no job runs there."""
        try:
            await tree.watch.prime()
        except (GitError, OSError):
            logger.exception("the worktree %s cannot be watched; alerts come from events only", tree.watch.root)
            task_status.started()
            tree.watching = False
            return
        task_status.started()
        pause = self._poll_s
        try:
            while tree.live or tree.due.is_set():
                with anyio.move_on_after(pause if tree.busy else math.inf):
                    await tree.due.wait()
                tree.due = anyio.Event()
                began = time.monotonic()
                await self._look(tree)
                # A large worktree takes longer to look at: look less often rather than spend a core on it.
                pause = max(self._poll_s, 4 * (time.monotonic() - began))
        except (GitError, OSError):
            logger.exception("the watch of the worktree %s stopped; alerts come from events only", tree.watch.root)
        finally:
            tree.watching = False
            if not tree.live:
                tree.book.clear()

    async def _look(self, tree: _Worktree) -> None:
        """Put each path changed since the last look on the jobs that had a command or patch under way."""
        changed = await tree.watch.changes()
        candidates = frozenset(tree.recent | tree.busy)
        tree.recent = tree.busy
        patched, tree.patched = tree.patched, set()
        for path in changed:
            if candidates and path not in patched:
                self._touch(tree, path, candidates, "worktree")

    def _touch(self, tree: _Worktree, path: str, jobs: frozenset[str], seen: Seen) -> None:
        touch = Touch(jobs, seen, time.time())
        alerts = [tree.book.touch(path, touch, self._related)]
        if len(jobs) == 1:
            (job_id,) = jobs
            job = self._jobs[job_id]
            if seen == "worktree":
                job.worktree_touched[path] = None
            scope = job.record.request.scope
            if scope and not covers(scope, path):
                alerts.append(tree.book.outside(path, job_id, touch))
        for alert in alerts:
            if alert is not None:
                logger.warning("alert: %s on %s by %s (seen by %s)", alert.kind, alert.path, alert.jobs, alert.seen)
                self.alerts.append(alert)
                self._wake()

    def _related(self, other: str, jobs: frozenset[str]) -> bool:
        """Whether ``other``'s touch still matters to ``jobs``: it runs, or ran alongside them unreported."""
        job = self._jobs.get(other)
        if job is None or job.record.reported:
            return False
        if not job.done:
            return True
        end = job.result.timings.finished_at or 0.0
        return any((start := self._jobs[j].record.started_at) is not None and start < end for j in jobs)

    def _tree_of(self, job: Job) -> _Worktree | None:
        root = job.record.request.root
        return self._trees.get(Path(root)) if root is not None and job.job_id in self._jobs else None
