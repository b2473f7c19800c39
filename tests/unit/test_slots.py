"""Slots run jobs under the cap in FIFO order, and keep apart jobs whose declared scopes could share a path.

Each job here holds its slot until the test releases it, so every state is
reached on purpose; whether a job is still queued is read from the queue
itself, which is updated the moment a slot is given.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest
from anyio import TASK_STATUS_IGNORED
from anyio.abc import TaskGroup, TaskStatus

from codex_subagents.core.errors import QueueFullError
from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal
from codex_subagents.supervision.slots import Slots

pytestmark = pytest.mark.anyio


@dataclass
class Holder:
    """A job in a task of its own that holds its slot, once it has one, until released."""

    job: Job
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    entered: anyio.Event = field(default_factory=anyio.Event)
    release: anyio.Event = field(default_factory=anyio.Event)

    async def run(self, slots: Slots, *, task_status: TaskStatus[None]) -> None:
        """Wait for a slot, hold it until released, and give it back."""
        with self.scope:
            async with slots.hold(self.job, task_status):
                self.entered.set()
                await self.release.wait()


class Queue:
    """Slots with the jobs a test puts in them."""

    def __init__(self, tmp_path: Path, tg: TaskGroup, cap: int) -> None:
        self.slots = Slots(cap)
        self._tmp_path = tmp_path
        self._tg = tg

    async def add(self, name: str, *scope: str, root: str = "/w", ignore_case: bool = False) -> Holder:
        """Spawn job ``name`` with ``scope`` in the worktree ``root`` into the slots, once it is running or queued."""
        request = _request(*scope, root=root, ignore_case=ignore_case)
        holder = Holder(Job(record=JobRecord(job_id=name, request=request), journal=Journal(self._tmp_path / name)))
        await self._tg.start(holder.run, self.slots)
        return holder

    def positions(self, *holders: Holder) -> list[int | None]:
        """The queue place of each job, None for one that has its slot."""
        return [self.slots.position(holder.job.job_id) for holder in holders]


@asynccontextmanager
async def slots_of(tmp_path: Path, cap: int) -> AsyncGenerator[Queue]:
    """Slots of ``cap`` with a task group for their jobs; every job still holding or waiting is stopped at the end."""
    async with anyio.create_task_group() as tg:
        yield Queue(tmp_path, tg, cap)
        tg.cancel_scope.cancel()


async def entered(holder: Holder) -> None:
    """Wait, bounded, until the job holds its slot."""
    with anyio.fail_after(5):
        await holder.entered.wait()


async def test_jobs_past_the_cap_wait_in_fifo_order_and_start_as_slots_free(tmp_path: Path) -> None:
    """With cap 1, a job that gets its slot at once is running; the others queue in order and start one by one."""
    async with slots_of(tmp_path, cap=1) as queue:
        first, second, third = [await queue.add(name) for name in ("a", "b", "c")]
        assert [h.job.record.state for h in (first, second, third)] == ["running", "queued", "queued"]
        assert queue.positions(first, second, third) == [None, 1, 2]
        first.release.set()
        await entered(second)
        assert queue.positions(first, second, third) == [None, None, 1]
        second.release.set()
        await entered(third)
        assert queue.positions(third) == [None]


async def test_a_job_whose_scope_meets_a_running_one_waits_even_with_a_slot_free(tmp_path: Path) -> None:
    """A free slot is not enough: the job waits until the running job that could share its paths gives its slot back."""
    async with slots_of(tmp_path, cap=3) as queue:
        api = await queue.add("api", "src/**")
        parser = await queue.add("parser", "src/parser.py")
        assert (parser.job.record.state, queue.positions(parser)) == ("queued", [1])
        api.release.set()
        await entered(parser)
        assert queue.positions(parser) == [None]


async def test_a_later_job_that_conflicts_with_nothing_starts_first(tmp_path: Path) -> None:
    """No head-of-line blocking: a job of other paths, or without a scope, passes a job that waits for its scope."""
    async with slots_of(tmp_path, cap=3) as queue:
        await queue.add("api", "src/**")
        waiting = await queue.add("parser", "src/parser.py")
        docs = await queue.add("docs", "docs/*.md")
        assert (docs.job.record.state, queue.positions(waiting, docs)) == ("running", [1, None])
        await entered(docs)
        unscoped = await queue.add("anything")
        assert unscoped.job.record.state == "running"


async def test_a_later_job_never_takes_paths_an_earlier_waiting_job_asked_for(tmp_path: Path) -> None:
    """A job that would not meet any running job still waits behind an earlier queued job whose scope it meets."""
    async with slots_of(tmp_path, cap=3) as queue:
        first = await queue.add("first", "src/a.py")
        broad = await queue.add("broad", "src/**")
        narrow = await queue.add("narrow", "src/b.py")
        assert queue.positions(first, broad, narrow) == [None, 1, 2]
        first.release.set()
        await entered(broad)
        assert queue.positions(broad, narrow) == [None, 1]
        broad.release.set()
        await entered(narrow)


async def test_cancelling_a_queued_job_removes_it_and_lets_the_queue_move_on(tmp_path: Path) -> None:
    """The job behind a cancelled one starts at once when the cancelled job was all that held it back."""
    async with slots_of(tmp_path, cap=3) as queue:
        await queue.add("first", "src/a.py")
        broad = await queue.add("broad", "src/**")
        narrow = await queue.add("narrow", "src/b.py")
        broad.scope.cancel()
        await entered(narrow)
        assert queue.positions(broad, narrow) == [None, None]
        assert not broad.entered.is_set()


async def test_a_job_cancelled_as_it_is_given_its_slot_gives_the_slot_back(tmp_path: Path) -> None:
    """A slot given to a job whose cancel is already on its way goes to the next job, not lost."""
    async with slots_of(tmp_path, cap=1) as queue, AsyncExitStack() as stack:
        first = Holder(Job(record=JobRecord(job_id="first", request=_request()), journal=Journal(tmp_path / "f")))
        await stack.enter_async_context(queue.slots.hold(first.job, TASK_STATUS_IGNORED))
        doomed = await queue.add("doomed")
        after = await queue.add("after")
        doomed.scope.cancel()
        await stack.aclose()
        await entered(after)
        assert not doomed.entered.is_set()


async def test_a_full_queue_refuses_another_job(tmp_path: Path) -> None:
    """Past the cap and the queue limit, check refuses; below either, it lets the job in."""
    async with slots_of(tmp_path, cap=1) as queue:
        queue.slots.check(1, _request())
        await queue.add("a")
        queue.slots.check(1, _request())
        await queue.add("b")
        with pytest.raises(QueueFullError):
            queue.slots.check(1, _request())
        queue.slots.check(2, _request())


async def test_a_job_whose_scope_is_taken_counts_against_the_queue_limit_though_slots_are_free(
    tmp_path: Path,
) -> None:
    """With free slots, a job that would wait for its scope is refused at the limit; one that would start is not."""
    async with slots_of(tmp_path, cap=4) as queue:
        await queue.add("holder", "src/**")
        await queue.add("waiting", "src/a.py")
        with pytest.raises(QueueFullError, match="its scope meets a busy job's"):
            queue.slots.check(1, _request("src/b.py"))
        queue.slots.check(1, _request("docs/**"))
        queue.slots.check(1, _request("src/b.py", root="/elsewhere"))
        queue.slots.check(1, _request())


async def test_a_queued_job_names_the_jobs_whose_scopes_hold_it_back(tmp_path: Path) -> None:
    """Running jobs and earlier queued jobs that could share its paths are named; others, and started jobs, none."""
    async with slots_of(tmp_path, cap=3) as queue:
        await queue.add("api", "src/api/**")
        await queue.add("docs", "docs")
        await queue.add("broad", "src/**")
        await queue.add("narrow", "src/api/x.py", "docs/a.md")
        assert queue.slots.blockers("narrow") == ["api", "docs", "broad"]
        assert queue.slots.blockers("broad") == ["api"]
        assert queue.slots.blockers("docs") == []


async def test_scopes_are_compared_as_the_files_they_name_in_their_worktrees(tmp_path: Path) -> None:
    """One pattern in two worktrees does not wait; a job in a nested worktree waits for one that owns its files."""
    async with slots_of(tmp_path, cap=4) as queue:
        outer = await queue.add("outer", "lib/**", root="/w")
        other = await queue.add("other", "lib/**", root="/v")
        inner = await queue.add("inner", "a.py", root="/w/lib")
        assert queue.positions(outer, other, inner) == [None, None, 1]
        assert queue.slots.blockers("inner") == ["outer"]


@pytest.mark.parametrize("ignore_case", [True, False])
async def test_where_the_worktree_ignores_case_two_spellings_of_a_scope_wait(tmp_path: Path, ignore_case: bool) -> None:
    """As on macOS, ``Docs/**`` and ``docs/a.md`` name one file; where names keep their case, two."""
    async with slots_of(tmp_path, cap=4) as queue:
        await queue.add("upper", "Docs/**", ignore_case=ignore_case)
        lower = await queue.add("lower", "docs/a.md", ignore_case=ignore_case)
        assert queue.positions(lower) == [1 if ignore_case else None]


def _request(*scope: str, root: str = "/w", ignore_case: bool = False) -> JobRequest:
    return JobRequest(
        prompt="p",
        cwd=root,
        label="j",
        sandbox="read-only",
        wall_timeout_s=1,
        idle_timeout_s=1,
        root=root,
        scope=[*scope],
        ignore_case=ignore_case,
    )
