"""The cap on running workers and the queue of jobs waiting to start, which also keeps apart jobs of one scope.

A queued job starts when a slot is free and its declared scope could own no
path in common with the scope of a running job, nor with that of a job queued
before it that still waits: later jobs that conflict with nothing may start
first, but never one that would take the paths an earlier waiting job asked
for. A job without a scope conflicts with nothing. Scopes are compared as the
files they name (`scope.meets`), so jobs of two worktrees meet only where one
worktree holds the other. Every change (a job queued,
started, finished or cancelled) dispatches the queue again at once and wakes
the jobs it starts through their own events; nothing polls.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskStatus

from ..core.errors import QueueFullError
from ..jobs.job import Job
from ..jobs.journal import JobRequest
from ..worktree.scope import Owned, meets


@dataclass(eq=False)
class _Waiter:
    """A queued job: its id, its scope, and the event set when it gets its slot."""

    job_id: str
    scope: Owned
    granted: anyio.Event = field(default_factory=anyio.Event)


class Slots:
    """The cap on running workers, and the FIFO queue of the jobs waiting for a slot and for their scope."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._running: dict[str, Owned] = {}
        self._queue: list[_Waiter] = []

    def counts(self) -> tuple[int, int]:
        """How many jobs hold a slot now, and how many wait for one or for their scope."""
        return len(self._running), len(self._queue)

    def position(self, job_id: str) -> int | None:
        """Return the job's 1-based place in the queue, or None when it is not queued."""
        place = self._place(job_id)
        return None if place is None else place + 1

    def check(self, queue_limit: int, request: JobRequest) -> None:
        """Refuse another job of ``request`` that would have to wait while the queue is at its limit.

        A job waits when every slot is taken, or when its scope meets a running or queued job's.
        """
        running, queued = self.counts()
        if queued < queue_limit:
            return
        claimed = [*self._running.values(), *(waiter.scope for waiter in self._queue)]
        wanted = request.owned()
        if running >= self._cap or any(meets(wanted, other) for other in claimed):
            raise QueueFullError(running, queued, self._cap)

    def blockers(self, job_id: str) -> list[str]:
        """The running jobs, and the jobs queued before it, whose scopes keep a queued job waiting."""
        place = self._place(job_id)
        if place is None:
            return []
        waiting, before = self._queue[place], [(w.job_id, w.scope) for w in self._queue[:place]]
        return [other for other, scope in [*self._running.items(), *before] if meets(waiting.scope, scope)]

    def _place(self, job_id: str) -> int | None:
        return next((place for place, waiter in enumerate(self._queue) if waiter.job_id == job_id), None)

    @asynccontextmanager
    async def hold(self, job: Job, task_status: TaskStatus[None]) -> AsyncGenerator[None]:
        """Hold a slot for the job, waiting in the queue while none is free; the job counts as started either way.

        A job that gets its slot at once is ``running`` when the spawn returns.
        Leaving, whether the job ran or was cancelled while it waited, gives its
        place back and lets the queue move on.
        """
        waiter = _Waiter(job.job_id, job.record.request.owned())
        self._queue.append(waiter)
        try:
            self._dispatch()
            if waiter.granted.is_set():
                job.record.state = "running"
                task_status.started()
            else:
                task_status.started()
                await waiter.granted.wait()
            yield
        finally:
            if waiter in self._queue:
                self._queue.remove(waiter)
            self._running.pop(job.job_id, None)
            self._dispatch()

    def _dispatch(self) -> None:
        """Start every queued job, oldest first, that has a slot and whose scope nothing before it claims."""
        claimed = list(self._running.values())
        for waiter in list(self._queue):
            if len(self._running) >= self._cap:
                return
            if not any(meets(waiter.scope, scope) for scope in claimed):
                self._queue.remove(waiter)
                self._running[waiter.job_id] = waiter.scope
                waiter.granted.set()
            claimed.append(waiter.scope)
