"""Collisions and out-of-scope writes are seen while jobs run: from their patches and from the worktree itself.

The jobs here are records fed the events a worker would print, in a real git
repository written to as a worker's shell command would; the acceptance suite
plays the same with real Codex workers.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from codex_subagents.jobs.events import EVENT_ADAPTER, Event
from codex_subagents.jobs.job import Job, digest
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal
from codex_subagents.jobs.models import Alert, JobResult, timings
from codex_subagents.live.monitor import Monitor
from codex_subagents.live.touches import Book, Touch
from codex_subagents.live.watch import WorktreeWatch
from codex_subagents.supervision.supervisor import wait_any
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with two committed files, an uncommitted edit and an ignored file."""
    root = committed(tmp_path / "repo", {".gitignore": "*.log\n", "a.txt": "a\n", "b.txt": "b\n"})
    (root / "b.txt").write_text("the user's edit\n")
    return root


def job(repo: Path, name: str, scope: list[str] | None = None, ignore_case: bool = False) -> Job:
    """A running job of the repository, started now; ``ignore_case``: the repository's names ignore case."""
    request = JobRequest(
        prompt="p",
        cwd=str(repo),
        label=name,
        sandbox="workspace-write",
        wall_timeout_s=60,
        idle_timeout_s=60,
        root=str(repo),
        scope=scope or [],
        ignore_case=ignore_case,
    )
    record = JobRecord(job_id=name, request=request, state="running", started_at=time.time())
    return Job(record=record, journal=Journal(repo.parent / "journals" / name))


async def two_running(monitor: Monitor, root: Path) -> tuple[Job, Job]:
    """Jobs j-a and j-b of the worktree at ``root``, taken in by the monitor as they launch."""
    first, second = job(root, "j-a"), job(root, "j-b")
    with anyio.fail_after(10):
        await monitor.started(first)
        await monitor.started(second)
    return first, second


def finish(done: Job) -> None:
    """Give a job its final state, as the supervisor does when its worker ends."""
    record = done.record
    record.state = "succeeded"
    record.result = JobResult(
        job_id=done.job_id,
        label=done.job_id,
        state="succeeded",
        summary=None,
        error=None,
        contract_error=None,
        exit_code=0,
        modified_files=[],
        observed_files=[],
        final_message=None,
        usage=None,
        timings=timings(record.queued_at, record.started_at, time.time()),
    )


def item(phase: str, body: str) -> Event:
    return EVENT_ADAPTER.validate_json(f'{{"type":"item.{phase}","item":{body}}}')


def patch(repo: Path, *names: str, phase: str = "completed") -> Event:
    changes = ",".join(f'{{"path":"{repo / name}","kind":"update"}}' for name in names)
    return item(phase, f'{{"id":"p","type":"file_change","changes":[{changes}],"status":"completed"}}')


def command(phase: str, item_id: str = "c") -> Event:
    return item(phase, f'{{"id":"{item_id}","type":"command_execution","command":"sh","status":"completed"}}')


class Alerts:
    """What a monitor raised, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.raised = anyio.Event()

    def wake(self) -> None:
        self.raised.set()

    async def next(self, monitor: Monitor, count: int) -> list[Alert]:
        with anyio.fail_after(10):
            while len(monitor.alerts) < count:
                await self.raised.wait()
                self.raised = anyio.Event()
        return monitor.alerts


class Watched(Monitor):
    """A monitor that remembers the jobs it took in, so the test can end them as the supervisor would."""

    def __init__(self, wake: Callable[[], None], elsewhere: Callable[[Path], Awaitable[bool]] | None = None) -> None:
        super().__init__(wake, poll_s=0.05, elsewhere=elsewhere)
        self.taken: list[Job] = []

    async def started(self, job: Job) -> None:
        self.taken.append(job)
        await super().started(job)


@asynccontextmanager
async def monitoring(
    alerts: Alerts, elsewhere: Callable[[Path], Awaitable[bool]] | None = None
) -> AsyncGenerator[Monitor]:
    """A monitor in a task group that ends, as a server's does, once every job it took in has finished."""
    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            monitor = Watched(alerts.wake, elsewhere)
            monitor.bind(tg)
            yield monitor
            for taken in monitor.taken:
                monitor.finished(taken)


def shell_write(monitor: Monitor, writer: Job, path: Path, text: str) -> None:
    """A worker's shell command that writes ``path``: started, the write, completed."""
    monitor.event(writer, command("started"))
    path.write_text(text)
    monitor.event(writer, command("completed"))


def always(_: str, __: frozenset[str]) -> bool:
    return True


def book_touch(
    book: Book, path: str, *jobs: str, related: Callable[[str, frozenset[str]], bool] = always
) -> Alert | None:
    return book.touch(path, Touch(frozenset(jobs), "file_change", 0.0), related)


def test_two_jobs_touching_one_path_collide_once() -> None:
    """The second job's touch names both, the first toucher first; the same pair is not raised again."""
    book = Book()
    assert book_touch(book, "x", "j-a") is None
    alert = book_touch(book, "x", "j-b")
    assert alert is not None and (alert.kind, alert.path, alert.jobs) == ("collision", "x", ["j-a", "j-b"])
    assert book_touch(book, "x", "j-b") is None
    assert book_touch(book, "x", "j-a") is None


def test_a_touch_one_job_could_account_for_is_no_collision() -> None:
    """A job touching its own path again, or a shell write that may be its own, collides with nothing."""
    book = Book()
    assert book_touch(book, "x", "j-a") is None
    assert book_touch(book, "x", "j-a") is None
    assert book_touch(book, "x", "j-a", "j-b") is None


def test_a_write_several_jobs_could_have_made_names_them_all_after_the_first_toucher() -> None:
    """When the later writer is one of two jobs, the alert lists the earlier toucher, then both suspects."""
    book = Book()
    book_touch(book, "x", "j-a")
    alert = book_touch(book, "x", "j-c", "j-b")
    assert alert is not None and alert.jobs == ["j-a", "j-b", "j-c"]


def test_an_earlier_toucher_that_no_longer_matters_makes_no_collision() -> None:
    """A job that finished before the other started, or was already reported, touched the path in sequence."""
    book = Book()
    book_touch(book, "x", "j-a")
    assert book_touch(book, "x", "j-b", related=lambda _, __: False) is None


async def test_the_watch_sees_writes_edits_of_edited_files_and_deletions_but_not_ignored_files(repo: Path) -> None:
    """Each look names what changed since the previous one, whatever git's list held before."""
    watch = WorktreeWatch(repo)
    await watch.prime()
    assert await watch.changes() == []
    (repo / "a.txt").write_text("edited\n")
    (repo / "b.txt").write_text("edited again\n")
    (repo / "new.txt").write_text("new\n")
    (repo / "out.log").write_text("ignored\n")
    assert await watch.changes() == ["a.txt", "b.txt", "new.txt"]
    (repo / "new.txt").unlink()
    (repo / "a.txt").write_text("a\n")
    assert await watch.changes() == ["a.txt", "new.txt"]
    assert await watch.changes() == []


async def test_the_watch_looks_into_submodules_and_nested_repositories(
    repo: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A write inside a submodule or an untracked nested repository is named by its path from the worktree's top.

    A submodule path that leaves the worktree, one not checked out and a nested repository git cannot read are
    passed over, and the others are still watched; the one git cannot read is logged, once.
    """
    library = committed(tmp_path / "library", {"lib.py": "v1\n"})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/lib")
    git(repo, "commit", "-qm", "add the submodule")
    scratch = committed(repo / "scratch", {"notes.txt": "mine\n"})
    with (repo / ".gitmodules").open("a") as modules:
        modules.write('[submodule "up"]\n\tpath = ../up\n[submodule "gone"]\n\tpath = gone\n')
    (repo / "broken").mkdir()
    (repo / "broken" / ".git").write_text("gitdir: /nonexistent\n")
    committed(repo / "torn", {"t.txt": "t\n"})
    (repo / "torn" / ".git" / "index").write_bytes(b"not an index")
    watch = WorktreeWatch(repo)
    await watch.prime()
    (repo / "vendor" / "lib" / "lib.py").write_text("a worker's edit\n")
    (scratch / "notes.txt").write_text("a worker's note\n")
    assert await watch.changes() == ["scratch/notes.txt", "vendor/lib/lib.py"]
    (repo / "vendor" / "lib" / "lib.py").write_text("edited again\n")
    (repo / "vendor" / "lib" / "new.py").write_text("new\n")
    (scratch / "more.txt").write_text("another note\n")
    assert await watch.changes() == ["scratch/more.txt", "vendor/lib/lib.py", "vendor/lib/new.py"]
    assert await watch.changes() == []
    told = [record.getMessage() for record in caplog.records if "cannot be watched" in record.getMessage()]
    assert len(told) == 1 and told[0].startswith("the nested repository torn in "), told


async def test_a_second_job_patching_a_path_another_running_job_patched_raises_a_collision(repo: Path) -> None:
    """The alert names the path, the first job, then the second, seen by file_change, and wakes the waiters."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, repo)
        monitor.event(first, patch(repo, "a.txt"))
        assert monitor.alerts == []
        monitor.event(second, patch(repo, "a.txt", "b.txt"))
        (alert,) = await alerts.next(monitor, 1)
        assert (alert.kind, alert.path, alert.jobs, alert.seen) == ("collision", "a.txt", ["j-a", "j-b"], "file_change")
        assert monitor.involving(["j-b"]) == monitor.unreported(["j-a"]) == [alert]
        monitor.mark_reported([alert])
        assert monitor.unreported(["j-a", "j-b"]) == []


async def test_a_shell_write_to_a_path_another_job_wrote_by_shell_raises_a_collision_seen_in_the_worktree(
    repo: Path,
) -> None:
    """Each write is put on the one job whose command ran; the second makes the collision."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, repo)
        shell_write(monitor, first, repo / "shared.txt", "from a\n")
        with anyio.fail_after(10):
            await monitor.look(repo)
        assert list(first.worktree_touched) == ["shared.txt"]
        shell_write(monitor, second, repo / "shared.txt", "from b\n")
        (alert,) = await alerts.next(monitor, 1)
        assert (alert.path, alert.jobs, alert.seen) == ("shared.txt", ["j-a", "j-b"], "worktree")


async def test_a_shell_write_after_another_jobs_patch_of_the_path_raises_a_collision(repo: Path) -> None:
    """The patch's own write is taken in by a look of its own, so the later shell write is put on its job."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, repo)
        monitor.event(first, patch(repo, "a.txt", phase="started"))
        (repo / "a.txt").write_text("patched by a\n")
        monitor.event(first, patch(repo, "a.txt"))
        with anyio.fail_after(10):
            await monitor.look(repo)
        shell_write(monitor, second, repo / "a.txt", "overwritten by b\n")
        (alert,) = await alerts.next(monitor, 1)
        assert (alert.path, alert.jobs, alert.seen) == ("a.txt", ["j-a", "j-b"], "worktree")


async def test_a_collision_and_a_write_put_on_one_job_are_claims_saved_in_the_jobs_records(repo: Path) -> None:
    """The shell write is the later job's claim, the collision's path both jobs', saved so another server reads them."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, repo)
        for started in (first, second):
            started.journal.create(started.record)
        monitor.event(first, patch(repo, "a.txt", phase="started"))
        (repo / "a.txt").write_text("patched by a\n")
        monitor.event(first, patch(repo, "a.txt"))
        with anyio.fail_after(10):
            await monitor.look(repo)
        shell_write(monitor, second, repo / "a.txt", "appended to by b\n")
        await alerts.next(monitor, 1)
    assert (first.record.seen_files, second.record.seen_files) == (["a.txt"], ["a.txt"])
    saved = JobRecord.model_validate_json(second.journal.record_path.read_bytes())
    assert saved.seen_files == ["a.txt"]


async def test_a_job_that_finished_before_the_other_started_touched_in_sequence(repo: Path) -> None:
    """A re-run after an earlier job ended collides with nothing."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        earlier = job(repo, "j-a")
        await monitor.started(earlier)
        later = job(repo, "j-b")
        await monitor.started(later)
        monitor.event(earlier, patch(repo, "a.txt"))
        finish(earlier)
        later.record.started_at = time.time() + 1
        monitor.event(later, patch(repo, "a.txt"))
        assert monitor.alerts == []


async def test_a_write_outside_the_declared_scope_is_an_alert(repo: Path) -> None:
    """A scoped job patching a path no pattern covers raises out_of_scope naming it; a covered path does not."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        scoped = job(repo, "j-a", scope=["src/**"])
        await monitor.started(scoped)
        monitor.event(scoped, patch(repo, "src/ok.py"))
        monitor.event(scoped, patch(repo, "a.txt"))
        (alert,) = await alerts.next(monitor, 1)
        assert (alert.kind, alert.path, alert.jobs) == ("out_of_scope", "a.txt", ["j-a"])


@pytest.mark.parametrize("ignore_case", [True, False])
async def test_where_names_ignore_case_two_spellings_of_a_path_collide(repo: Path, ignore_case: bool) -> None:
    """As on macOS, patches of ``A.TXT`` and ``a.txt`` write one file, and ``Src/**`` owns ``src/ok.py``.

    Where names keep their case, the spellings are two files and the scope does not own the other one.
    """
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = job(repo, "j-a", ignore_case=ignore_case), job(repo, "j-b", ["Src/**"], ignore_case)
        await monitor.started(first)
        await monitor.started(second)
        monitor.event(first, patch(repo, "A.TXT"))
        monitor.event(second, patch(repo, "a.txt", "src/ok.py"))
        found = [(alert.kind, alert.path, alert.jobs) for alert in monitor.alerts]
        if ignore_case:
            assert found == [("collision", "A.TXT", ["j-a", "j-b"]), ("out_of_scope", "A.TXT", ["j-b"])]
        else:
            assert found == [("out_of_scope", "a.txt", ["j-b"]), ("out_of_scope", "src/ok.py", ["j-b"])]


async def test_while_another_servers_job_runs_a_write_seen_in_the_worktree_is_put_on_no_single_job(repo: Path) -> None:
    """The scoped job that ran a command is not blamed for a write another session's worker may have made.

    Its own patches still count: they are certain, and a later write of a patched path still collides, naming
    only this server's jobs.
    """
    asked: list[Path] = []
    answered = anyio.Event()

    async def elsewhere(root: Path) -> bool:
        asked.append(root)
        answered.set()
        return True

    alerts = Alerts()
    async with monitoring(alerts, elsewhere) as monitor:
        scoped = job(repo, "j-a", scope=["src/**"])
        await monitor.started(scoped)
        shell_write(monitor, scoped, repo / "c.txt", "maybe the other session's\n")
        with anyio.fail_after(10):
            await monitor.look(repo)
            await answered.wait()
        assert (monitor.alerts, list(scoped.worktree_touched), asked[0]) == ([], [], repo)
        monitor.event(scoped, patch(repo, "d.txt"))
        (alert,) = await alerts.next(monitor, 1)
        assert (alert.kind, alert.path, alert.jobs, alert.seen) == ("out_of_scope", "d.txt", ["j-a"], "file_change")
        other = job(repo, "j-b")
        await monitor.started(other)
        with anyio.fail_after(10):
            await monitor.look(repo)
        shell_write(monitor, other, repo / "d.txt", "j-b's, or the other session's\n")
        _, collision = await alerts.next(monitor, 2)
        assert (collision.kind, collision.path, collision.jobs) == ("collision", "d.txt", ["j-a", "j-b"])


async def test_wait_any_returns_early_with_an_alert_and_reports_it_once(repo: Path) -> None:
    """A collision ends a wait on running jobs before either finishes, and a second wait does not repeat it."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, repo)
        finished = anyio.Event()

        def event() -> anyio.Event:
            return finished

        async def collide() -> None:
            monitor.event(first, patch(repo, "a.txt"))
            monitor.event(second, patch(repo, "a.txt"))
            finished.set()

        answer = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(collide)
            with anyio.fail_after(10):
                answer = await wait_any([first, second], 30, event, lambda j: digest(j, None), monitor)
        assert answer is not None
        assert [a.path for a in answer.alerts] == ["a.txt"] and not answer.timed_out and answer.finished == []
        with anyio.fail_after(10):
            again = await wait_any([first, second], 0, event, lambda j: digest(j, None), monitor)
        assert again.alerts == []


async def test_a_worktree_that_cannot_be_watched_still_gets_alerts_from_patches(tmp_path: Path) -> None:
    """Where git cannot list the worktree, the jobs run on and their patches still raise collisions."""
    alerts = Alerts()
    gone = tmp_path / "not-a-repo"
    gone.mkdir()
    async with monitoring(alerts) as monitor:
        first, second = await two_running(monitor, gone)
        monitor.event(first, patch(gone, "a.txt"))
        monitor.event(second, patch(gone, "a.txt"))
        (alert,) = await alerts.next(monitor, 1)
        assert alert.jobs == ["j-a", "j-b"]


async def test_a_job_with_only_a_patch_under_way_is_no_candidate_for_a_write_it_did_not_announce(repo: Path) -> None:
    """A patch names its paths when it completes; a write the worktree shows meanwhile (another job's shell command,
    whose start is not read yet) is not put on the patching job."""
    alerts = Alerts()
    async with monitoring(alerts) as monitor:
        first, _ = await two_running(monitor, repo)
        monitor.event(first, patch(repo, "a.txt", phase="started"))
        (repo / "b.txt").write_text("written by the other job's shell\n")
        with anyio.fail_after(10):
            await monitor.look(repo)
    assert (first.record.seen_files, list(first.worktree_touched)) == ([], [])
