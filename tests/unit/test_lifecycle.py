"""One job's failure inside the server is that job's alone: it fails with the reason; the rest go on."""

from __future__ import annotations

import errno
from pathlib import Path

import anyio
import pytest

import processes
from codex_subagents.core.config import Settings
from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRecord, Journal
from codex_subagents.jobs.worker import marker
from codex_subagents.supervision import lifecycle
from unit.fakes import FINAL, GOOD_RUN, WatchedJournal, in_root, plan, supervising

pytestmark = pytest.mark.anyio


class FullDiskJournal(Journal):
    """A journal on a disk with no space left: appending an event fails as the kernel reports it."""

    def append(self, *events: bytes) -> None:
        """Fail like a write to a full disk."""
        del events
        raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_full_disk_while_journaling_fails_that_job_alone(settings: Settings) -> None:
    """The job whose journal cannot be written fails with ENOSPC; a job beside it and a later one succeed."""
    opened: list[Path] = []

    def open_journal(directory: Path) -> Journal:
        opened.append(directory)
        return FullDiskJournal(directory) if len(opened) == 1 else WatchedJournal(directory)

    work = plan(lines=GOOD_RUN, last_message=FINAL)
    async with supervising(settings, open_journal=open_journal) as supervisor:
        broken = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, children=2, hang=True)))
        healthy = await supervisor.spawn(in_root(settings, work))
        with anyio.fail_after(20):
            await broken.finished.wait()
            await healthy.finished.wait()
        assert broken.result.state == "failed"
        assert "No space left on device" in (broken.result.error or "")
        assert not processes.carrying(marker(broken.job_id)), "the failed job's worker tree was left running"
        assert healthy.result.state == "succeeded"
        later = await supervisor.spawn(in_root(settings, work))
        with anyio.fail_after(20):
            await later.finished.wait()
        assert later.result.state == "succeeded"
        assert {job.job_id for job in supervisor.jobs()} == {broken.job_id, healthy.job_id, later.job_id}


class ReadOnlyRecordJournal(WatchedJournal):
    """A journal whose record is written at spawn but never again, as on a disk remounted read-only then."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.saves = 0

    def save(self, record: JobRecord) -> None:
        """Write the first record; fail every later save like a write to a read-only file system."""
        self.saves += 1
        if self.saves > 1:
            raise OSError(errno.EROFS, "Read-only file system")
        super().save(record)


async def test_a_record_that_can_no_longer_be_saved_still_ends_and_reports_its_job(settings: Settings) -> None:
    """A job whose record cannot be written fails with the reason, is reported by wait_any, and another job succeeds."""
    opened: list[Path] = []

    def open_journal(directory: Path) -> Journal:
        opened.append(directory)
        return ReadOnlyRecordJournal(directory) if len(opened) == 1 else WatchedJournal(directory)

    work = plan(lines=GOOD_RUN, last_message=FINAL)
    async with supervising(settings, open_journal=open_journal) as supervisor:
        stuck = await supervisor.spawn(in_root(settings, work))
        healthy = await supervisor.spawn(in_root(settings, work))
        with anyio.fail_after(20):
            waited = await supervisor.wait_any([stuck.job_id], 20)
            await healthy.finished.wait()
        assert [job.job_id for job in waited.finished] == [stuck.job_id]
        assert stuck.result.state == "failed"
        assert "Read-only file system" in (stuck.result.error or "")
        assert healthy.result.state == "succeeded"


async def test_a_job_is_done_only_once_its_result_is_there(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool call may look at a job while it settles (the final message is read in a thread meanwhile): the job is
    not done yet then, so no call meets a done job without a result."""
    jobs: list[Job] = []
    seen: list[bool] = []
    read = lifecycle._final_message  # pyright: ignore[reportPrivateUsage] -- the step during which calls may run

    def watched(path: Path) -> str | None:
        seen.extend(job.done for job in jobs)
        return read(path)

    monkeypatch.setattr(lifecycle, "_final_message", watched)
    async with supervising(settings) as supervisor:
        jobs.append(await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL))))
        with anyio.fail_after(20):
            await jobs[0].finished.wait()
    assert seen == [False]
    assert jobs[0].done and jobs[0].result.state == "succeeded"
