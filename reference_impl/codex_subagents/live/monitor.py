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
Where git treats the worktree's names as case-insensitive, a path is kept
under the first spelling met, so ``Docs/a.md`` and ``docs/a.md`` collide.
A write seen in the worktree and put on one job alone, and the path of a
collision, become claims of the jobs they name (`JobRecord.seen_files`): a
job cancelled after a collision reports nothing, yet its write still counts.
While a job of another server (another Codex session) runs in the worktree, a
write seen there may be its, so it is put on no single job of this one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
from anyio.abc import TaskGroup, TaskStatus

from ..core.errors import GitError
from ..core.paths import git_quoted, relative_to_root
from ..jobs.events import CommandExecution, Event, FileChange, ItemEvent
from ..jobs.job import Job
from ..jobs.models import Alert, Seen
from ..worktree.scope import covers
from .touches import AlertLog, Book, Touch
from .watch import WorktreeWatch

logger = logging.getLogger(__name__)
_ELSEWHERE = "another server's job"
"""The candidate that stands for the jobs of other servers in a touch seen in the worktree; never shown."""


@dataclass
class _Worktree:
    """What the monitor keeps about one worktree while jobs run in it."""

    watch: WorktreeWatch
    fold: bool = False
    """Whether the worktree's names ignore case."""
    book: Book = field(default_factory=Book)
    live: set[str] = field(default_factory=set[str])
    under_way: dict[str, set[str]] = field(default_factory=dict[str, set[str]])
    """Job -> ids of its commands started and not yet completed."""
    recent: set[str] = field(default_factory=set[str])
    """Jobs that had a command under way since the last look."""
    patched: set[str] = field(default_factory=set[str])
    """Paths written by announced patches since the last look: their writer is known."""
    spellings: dict[str, str] = field(default_factory=dict[str, str])
    """Casefolded path -> the spelling first met, where names ignore case."""
    due: anyio.Event = field(default_factory=anyio.Event)
    looking: anyio.Lock = field(default_factory=anyio.Lock)
    watching: bool = False

    def one_spelling(self, path: str) -> str:
        """The one spelling kept for ``path``."""
        return self.spellings.setdefault(path.casefold(), path) if self.fold else path

    @property
    def busy(self) -> set[str]:
        """The jobs with a command under way now."""
        return {job for job, items in self.under_way.items() if items}

    def follow(self, job_id: str, cwd: Path, event: ItemEvent) -> list[str]:
        """Follow one of a job's commands or patches; return the paths a completed patch wrote."""
        item = event.item
        if not isinstance(item, CommandExecution | FileChange):
            return []
        items = self.under_way.setdefault(job_id, set())
        if event.type == "item.started" and isinstance(item, CommandExecution):
            # Only a command can write unannounced: a patch names its paths when it completes, so a job with only a
            # patch under way is no candidate for a write the worktree shows (another job's, whose start is unread).
            items.add(item.id)
            self.recent.add(job_id)
        elif event.type == "item.completed":
            items.discard(item.id)
            # A look soon after a patch too: it takes in the patch's own write, so a later shell write of the
            # same path by another job is seen as that job's.
            self.due.set()
            if isinstance(item, FileChange):
                found = (relative_to_root(self.watch.root, cwd, change.path) for change in item.changes)
                paths = [self.one_spelling(path) for path in found if path is not None]
                self.patched.update(paths)
                return paths
        return []

    async def run(self, look: Callable[[], Awaitable[None]], poll_s: float) -> None:
        """Call ``look`` whenever it is due, and every ``poll_s`` while a command runs, until no job runs here."""
        pause, rest = poll_s, 0.0
        while self.live or self.due.is_set():
            # A look costs about one `git status` of the whole worktree: in a large one, space the looks
            # (the commands that end meanwhile are taken in together) rather than spend a core on them.
            await anyio.sleep(rest)
            with anyio.move_on_after(pause if self.busy else math.inf):
                await self.due.wait()
            self.due = anyio.Event()
            began = time.monotonic()
            await look()
            took = time.monotonic() - began
            pause, rest = max(poll_s, 5 * took), 5 * took

    async def look(self) -> tuple[list[str], frozenset[str]]:
        """The paths changed since the last look that no announced patch explains, and the jobs that may have."""
        async with self.looking:
            changed = [self.one_spelling(path) for path in await self.watch.changes()]
            candidates = frozenset(self.recent | self.busy)
            self.recent = self.busy
            patched, self.patched = self.patched, set()
        return [path for path in changed if path not in patched], candidates


class Monitor(AlertLog):
    """The alerts of one server's jobs; ``wake`` tells waiters that something happened."""

    def __init__(
        self, wake: Callable[[], None], poll_s: float = 1.0, elsewhere: Callable[[Path], Awaitable[bool]] | None = None
    ) -> None:
        """``elsewhere`` says whether a job of another server runs in a worktree."""
        super().__init__()
        self._wake = wake
        self._poll_s = poll_s
        self._elsewhere = elsewhere
        self._jobs: dict[str, Job] = {}
        self._trees: dict[Path, _Worktree] = {}
        self._homes: dict[str, _Worktree] = {}
        self._tg: TaskGroup | None = None

    def bind(self, tg: TaskGroup) -> None:
        """Run the worktrees' watches in ``tg``, the supervisor's task group."""
        self._tg = tg

    async def started(self, job: Job) -> None:
        """Take a job that is about to launch into the watch of its worktree, primed before it can write."""
        if job.record.request.root is None or self._tg is None:
            return
        root = Path(job.record.request.root)
        tree = self._trees.setdefault(root, _Worktree(WorktreeWatch(root), job.record.request.ignore_case))
        self._jobs[job.job_id] = job
        self._homes[job.job_id] = tree
        tree.live.add(job.job_id)
        if not tree.watching:
            tree.watching = True
            await self._tg.start(_watch, tree, lambda: self.look(root), self._poll_s)

    def finished(self, job: Job) -> None:
        """Take one last look for what the job's commands left, then let it go."""
        if (tree := self._homes.get(job.job_id)) is not None:
            tree.live.discard(job.job_id)
            tree.under_way.pop(job.job_id, None)
            tree.due.set()

    def event(self, job: Job, event: Event) -> None:
        """Follow a job's commands and patches as its events are read; a finished patch is a certain touch."""
        if not isinstance(event, ItemEvent) or (tree := self._homes.get(job.job_id)) is None:
            return
        for path in tree.follow(job.job_id, Path(job.record.request.cwd), event):
            self._touch(tree, path, frozenset({job.job_id}), "file_change")

    async def look(self, root: Path) -> None:
        """Look at the worktree now, as its watch does after every command: put each path changed since the
        last look on the jobs that had a command or patch under way meanwhile."""
        tree = self._trees[root]
        changed, candidates = await tree.look()
        if changed and candidates and self._elsewhere is not None and await self._elsewhere(root):
            candidates |= {_ELSEWHERE}
        for path in changed if candidates else ():
            self._touch(tree, path, candidates, "worktree")

    def _touch(self, tree: _Worktree, path: str, jobs: frozenset[str], seen: Seen) -> None:
        touch = Touch(jobs, seen, time.time())
        alerts = [tree.book.touch(path, touch, partial(_related, self._jobs))]
        if len(jobs) == 1:
            (job_id,) = jobs
            job = self._jobs[job_id]
            if seen == "worktree":
                job.worktree_touched[path] = None
                _claim(self._tg, job, path)
            scope = job.record.request.scope
            if scope and not covers(scope, path, tree.fold):
                alerts.append(tree.book.outside(path, job_id, touch))
        for alert in alerts:
            if alert is not None:
                alert.jobs = [job_id for job_id in alert.jobs if job_id != _ELSEWHERE]
                if alert.kind == "collision":
                    # Whichever of them the boss cancels, the path stays theirs until a rollback puts it back.
                    for job_id in alert.jobs:
                        _claim(self._tg, self._jobs[job_id], path)
                logger.warning("alert: %s", alert.message())
                self.alerts.append(alert)
                _record(alert, [self._jobs[job_id] for job_id in alert.jobs])
                self._wake()


async def _watch(
    tree: _Worktree, look: Callable[[], Awaitable[None]], poll_s: float, *, task_status: TaskStatus[None]
) -> None:
    """Prime the worktree's watch, then look whenever it is due until no job runs there; a failure only logs."""
    try:
        try:
            await tree.watch.prime()
        except (GitError, OSError):
            logger.exception("the worktree %s cannot be watched; alerts come from events only", tree.watch.root)
            task_status.started()
            return
        task_status.started()
        await tree.run(look, poll_s)
    except (GitError, OSError):
        logger.exception("the watch of the worktree %s stopped; alerts come from events only", tree.watch.root)
    finally:
        tree.watching = False
        if not tree.live:
            tree.book.clear()
            tree.spellings.clear()


def _claim(tg: TaskGroup | None, job: Job, path: str) -> None:
    """Make ``path`` a claim of ``job`` in its record, saved soon, so other servers and a restart see it.

    The record keeps it as git quotes it: a name that is not UTF-8 has no JSON string of its own.
    """
    quoted = git_quoted(path)
    if quoted not in job.record.seen_files:
        job.record.seen_files.append(quoted)
        if tg is not None:
            tg.start_soon(_save, job)


async def _save(job: Job) -> None:
    """Save a job's record with a new claim; a disk that refuses it leaves the claim in memory only."""
    try:
        await job.persist()
    except (OSError, ValueError):
        logger.exception("job %s: a path seen changing could not be saved in its record", job.job_id)


def _record(alert: Alert, jobs: list[Job]) -> None:
    """Append the alert to the alerts file of each job it names; a disk that refuses it leaves it in memory only."""
    for job in jobs:
        try:
            job.journal.add_alert(alert)
        except OSError:
            logger.exception("job %s: an alert could not be recorded in its directory", job.job_id)


def _related(jobs: Mapping[str, Job], other: str, group: frozenset[str]) -> bool:
    """Whether ``other``'s touch still matters to the ``group``: it runs, or ran alongside them unreported."""
    job = jobs.get(other)
    if job is None or job.record.reported:
        return False
    if not job.done:
        return True
    end = job.result.timings.finished_at or 0.0
    return any(j in jobs and (start := jobs[j].record.started_at) is not None and start < end for j in group)
