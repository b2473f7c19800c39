"""At start a server adopts only the jobs of gone servers, rebuilds damaged records, and never signals a stranger.

Several servers may share one state dir; each proves itself alive with a lock
held for its life. These tests run real fake workers and real processes.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import anyio
import pytest

import processes
from codex_subagents.core.config import Settings
from codex_subagents.core.errors import BaselineError
from codex_subagents.jobs import registry
from codex_subagents.jobs.journal import JobRecord, Journal
from codex_subagents.jobs.registry import ServerLock, live_jobs_in, others, server_alive
from unit.fakes import FINAL, GOOD_RUN, in_root, plan, supervising, until

pytestmark = pytest.mark.anyio


async def test_a_torn_record_is_rebuilt_from_the_request_and_the_events(settings: Settings) -> None:
    """A job.json cut in half, as a power loss leaves it, comes back as a damaged job with its events and report."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL)))
        with anyio.fail_after(10):
            await job.finished.wait()
    record = job.journal.record_path
    record.write_bytes(record.read_bytes()[: record.stat().st_size // 2])
    async with supervising(settings) as supervisor:
        again = supervisor.get(job.job_id)
        assert again.result.state == "interrupted"
        assert "record was damaged" in (again.result.error or "")
        assert (again.result.summary, again.result.observed_files) == ("wrote a.txt", ["/w/a.txt"])
        assert again.journal.count == len(GOOD_RUN)
        assert supervisor.status().damaged == []


async def test_a_record_that_cannot_be_rebuilt_is_reported_not_dropped(settings: Settings) -> None:
    """A garbage job.json with no request file beside it is named in codex_status's damaged list."""
    async with supervising(settings):
        pass
    garbage = settings.state_dir / "jobs" / "j-garbage"
    garbage.mkdir()
    (garbage / "job.json").write_text("{not json")
    async with supervising(settings) as supervisor:
        assert supervisor.jobs() == []
        assert supervisor.status().damaged == ["j-garbage"]


async def test_a_record_the_busy_check_cannot_read_refuses_the_rollback_and_is_named(settings: Settings) -> None:
    """The busy check of a rollback fails closed on a record it cannot read, and names it; other looks pass it over."""
    garbage = settings.state_dir / "jobs" / "j-garbage" / "job.json"
    garbage.parent.mkdir(parents=True)
    garbage.write_text("{not json")
    root = settings.allow_roots[0]
    with pytest.raises(BaselineError, match=re.escape(repr(str(garbage)))) as refused:
        live_jobs_in(settings.state_dir, root, strict=True)
    assert "move its job directory out" in str(refused.value)
    assert live_jobs_in(settings.state_dir, root) == []


async def test_a_recorded_pid_now_owned_by_another_process_is_never_signalled(settings: Settings) -> None:
    """A job left running names a pid whose start time no longer matches: that process lives, the job is interrupted."""
    stranger = subprocess.Popen(["sleep", "600"])  # noqa: ASYNC220 -- the process that reused the worker's pid
    try:
        start = processes.process_start(stranger.pid)
        assert start is not None
        Journal(settings.state_dir / "jobs" / "j-reused").create(
            JobRecord(
                job_id="j-reused",
                request=in_root(settings, plan(hang=True)),
                state="running",
                queued_at=1.0,
                started_at=2.0,
                pid=stranger.pid,
                process_start=start - 100,
            )
        )
        async with supervising(settings) as supervisor:
            assert supervisor.get("j-reused").result.state == "interrupted"
        assert stranger.poll() is None, "a process that only shares the worker's old pid was signalled"
    finally:
        stranger.kill()
        stranger.wait()


async def test_a_second_server_leaves_the_jobs_of_a_live_one_alone(settings: Settings) -> None:
    """While one server runs a job, a second on the same state dir neither loads nor stops it; both see it busy.

    The second sees it running elsewhere, and counts it among the worktree's claims as another server's.
    """
    async with supervising(settings) as first:
        job = await first.spawn(in_root(settings, plan(lines=GOOD_RUN[:1], hang=True)))
        await until(job, lambda job: job.journal.count == 1)
        assert job.record.pid is not None
        worker = job.record.pid
        assert not await first.running_elsewhere(settings.allow_roots[0])
        async with supervising(settings) as second:
            assert second.jobs() == []
            assert job.record.state == "running" and processes.alive({worker}) == {worker}
            root = settings.allow_roots[0]
            assert live_jobs_in(settings.state_dir, root) == [job.job_id]
            assert live_jobs_in(settings.state_dir, root / "elsewhere") == []
            assert server_alive(settings.state_dir, first.server_id)
            assert server_alive(settings.state_dir, second.server_id)
            assert (await second.running_elsewhere(root), await first.running_elsewhere(root)) == (True, False)
            assert not await second.running_elsewhere(root / "elsewhere")
            assert (await second.claims(root))[job.job_id].elsewhere
            await first.cancel(job.job_id)
            assert not await second.running_elsewhere(root)
        assert live_jobs_in(settings.state_dir, settings.allow_roots[0]) == []
    assert not server_alive(settings.state_dir, first.server_id)


async def test_a_job_left_running_by_a_gone_server_is_not_busy_and_is_adopted(settings: Settings) -> None:
    """A running record whose server's lock is free blocks nothing; the next server adopts it and drops the lock."""
    gone = ServerLock(settings.state_dir)
    gone.acquire()
    Journal(settings.state_dir / "jobs" / "j-left").create(
        JobRecord(
            job_id="j-left",
            request=in_root(settings, plan(hang=True)),
            server_id=gone.server_id,
            state="running",
            queued_at=1.0,
        )
    )
    assert live_jobs_in(settings.state_dir, settings.allow_roots[0]) == ["j-left"]
    gone.release()
    assert live_jobs_in(settings.state_dir, settings.allow_roots[0]) == []
    async with supervising(settings) as supervisor:
        adopted = supervisor.get("j-left")
        assert (adopted.result.state, adopted.record.server_id) == ("interrupted", supervisor.server_id)
        locks = sorted(path.name for path in (settings.state_dir / "servers").glob("s-*.lock"))
        assert locks == [f"{supervisor.server_id}.lock"], "the gone server's lock file was left behind"
    assert not list((settings.state_dir / "servers").glob("s-*.lock"))


async def test_a_finished_and_reported_job_is_loaded_again_without_being_rewritten(settings: Settings) -> None:
    """A job whose result was handed out is never written again: a restart loads it as it is, quickly."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL)))
        with anyio.fail_after(10):
            assert [done.job_id for done in (await supervisor.wait_any([job.job_id], 10)).finished] == [job.job_id]
    before = job.journal.record_path.read_bytes()
    async with supervising(settings) as supervisor:
        assert supervisor.result(job.job_id) == job.result
    assert job.journal.record_path.read_bytes() == before


def test_records_are_parsed_again_only_when_their_file_changed(settings: Settings) -> None:
    """A look at other servers' jobs reads a record once; a saved change is seen, and a damaged file is passed over."""
    journal = Journal(settings.state_dir / "jobs" / "j-other")
    record = JobRecord(job_id="j-other", request=in_root(settings, plan()), server_id="s-other", state="running")
    journal.create(record)
    (first,) = others(settings.state_dir, "s-me")
    (again,) = others(settings.state_dir, "s-me")
    assert again is first and first.state == "running"
    journal.save(record.model_copy(update={"state": "cancelled"}))
    (changed,) = others(settings.state_dir, "s-me")
    assert changed.state == "cancelled"
    journal.record_path.write_text("{torn")
    assert others(settings.state_dir, "s-me") == []


def test_the_records_of_job_directories_that_are_gone_are_forgotten(settings: Settings) -> None:
    """The cache of parsed records holds no more than the state dir does: a removed job's record leaves it."""
    journal = Journal(settings.state_dir / "jobs" / "j-gone")
    journal.create(JobRecord(job_id="j-gone", request=in_root(settings, plan()), server_id="s-other"))
    assert [record.job_id for record in others(settings.state_dir, "s-me")] == ["j-gone"]
    assert journal.record_path in registry._READ  # pyright: ignore[reportPrivateUsage] -- the cache under test
    shutil.rmtree(journal.directory)
    assert others(settings.state_dir, "s-me") == []
    assert journal.record_path not in registry._READ  # pyright: ignore[reportPrivateUsage] -- the cache under test
