"""The supervisor runs workers in the background under a cap, and stops, times out and recovers them.

These tests use `tests/fake_codex.py` as the worker so that every state is
reached quickly and exactly; the acceptance suite runs the real Codex CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import replace

import anyio
import pytest

import processes
from codex_subagents.core.config import Settings
from codex_subagents.core.errors import JobStateError, QueueFullError, UnknownJobError
from codex_subagents.jobs.events import AgentMessage, ItemEvent, TurnCompleted, Unparsed
from codex_subagents.jobs.journal import JobRecord, Journal, recorded
from unit.fakes import FINAL, GOOD_RUN, in_root, plan, supervising, until

pytestmark = pytest.mark.anyio


async def test_a_spawned_worker_runs_in_the_background_and_reports_its_result(settings: Settings) -> None:
    """Spawn returns a running job at once; its result carries the worker's reported and observed files."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL)))
        assert job.record.state == "running"
        with anyio.fail_after(10):
            waited = await supervisor.wait_any([job.job_id], 10)
        assert ([done.job_id for done in waited.finished], waited.timed_out) == ([job.job_id], False)
        result = supervisor.result(job.job_id)
        assert waited.finished == [result]
        assert job.record.state == result.state == "succeeded"
        assert (result.summary, result.modified_files, result.contract_error) == ("wrote a.txt", ["a.txt"], None)
        assert result.observed_files == ["/w/a.txt"]
        assert result.usage is not None and result.usage.input_tokens == 10
        assert [event.type for event in job.journal.read(0, 10)] == [
            "thread.started",
            "turn.started",
            "item.completed",
            "turn.completed",
        ]


async def test_jobs_past_the_cap_wait_in_fifo_order(settings: Settings) -> None:
    """With cap 2, the third and fourth jobs queue in order and start as slots free up."""
    async with supervising(replace(settings, queue_limit=4)) as supervisor:
        talking = plan(lines=GOOD_RUN[:1], hang=True)
        jobs = [await supervisor.spawn(in_root(settings, talking)) for _ in range(4)]
        assert [job.record.state for job in jobs] == ["running", "running", "queued", "queued"]
        assert [supervisor.queue_position(job) for job in jobs] == [None, None, 1, 2]
        await supervisor.cancel(jobs[0].job_id)
        await until(jobs[2], lambda job: job.journal.count == 1)
        assert jobs[2].record.state == "running"
        assert [supervisor.queue_position(job) for job in jobs] == [None, None, None, 1]
        for job in jobs[1:]:
            await supervisor.cancel(job.job_id)
        assert [job.record.state for job in jobs] == ["cancelled"] * 4


async def test_a_full_queue_refuses_spawn_with_a_clear_error(settings: Settings) -> None:
    """Past the cap and the queue limit, spawn fails and says to wait."""
    async with supervising(replace(settings, cap=1, queue_limit=1)) as supervisor:
        first = await supervisor.spawn(in_root(settings, plan(hang=True)))
        second = await supervisor.spawn(in_root(settings, plan(hang=True)))
        with pytest.raises(QueueFullError, match="codex_wait_any"):
            await supervisor.spawn(in_root(settings, plan(hang=True)))
        assert len(supervisor.jobs()) == 2
        for job in (second, first):
            await supervisor.cancel(job.job_id)


async def test_cancel_stops_the_whole_process_tree_and_keeps_the_events(settings: Settings) -> None:
    """A cancelled worker and the children it started are all gone; its partial events stay readable."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN[:2], children=3, hang=True)))
        await until(job, lambda j: j.journal.count == 2)
        assert job.record.pid is not None
        tree = processes.descendants(job.record.pid) | {job.record.pid}
        assert len(tree) >= 4
        cancelled = await supervisor.cancel(job.job_id)
        assert (cancelled.previous_state, cancelled.state, job.record.state) == ("running", "cancelled", "cancelled")
        assert processes.alive(tree) == set()
        assert [event.type for event in job.journal.read(0, 10)] == ["thread.started", "turn.started"]


async def test_cancelling_a_queued_job_removes_it_from_the_queue(settings: Settings) -> None:
    """A queued job never starts once cancelled."""
    async with supervising(replace(settings, cap=1)) as supervisor:
        running = await supervisor.spawn(in_root(settings, plan(hang=True)))
        queued = await supervisor.spawn(in_root(settings, plan(hang=True)))
        cancelled = await supervisor.cancel(queued.job_id)
        assert (cancelled.previous_state, queued.record.state, queued.record.pid) == ("queued", "cancelled", None)
        assert "removed from the queue" in cancelled.message
        assert supervisor.queue_position(queued) is None
        await supervisor.cancel(running.job_id)


async def test_a_silent_worker_is_stopped_by_the_idle_budget(settings: Settings) -> None:
    """No output for longer than the idle budget ends the job as timed_out, and the slot frees."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(hang=True, idle=0.3)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "timed_out"
        assert "idle" in (job.result.error or "")
        assert supervisor.running_count == 0


async def test_a_worker_over_its_wall_budget_is_timed_out(settings: Settings) -> None:
    """A worker still busy past its wall-clock budget is stopped and reported timed_out."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN[:1], hang=True, wall=0.5)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "timed_out"
        assert "wall" in (job.result.error or "")


async def test_wait_any_reports_each_finished_job_exactly_once(settings: Settings) -> None:
    """Successive waits hand out finished jobs once each, then return at once with nothing left."""
    async with supervising(settings) as supervisor:
        jobs = [await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL))) for _ in range(2)]
        seen: list[str] = []
        with anyio.fail_after(10):
            while len(seen) < 2:
                seen += [done.job_id for done in (await supervisor.wait_any(None, 10)).finished]
            again = await supervisor.wait_any(None, 10)
        assert sorted(seen) == sorted(job.job_id for job in jobs)
        assert (again.finished, again.timed_out, again.pending) == ([], False, [])


async def test_wait_any_times_out_when_nothing_finishes(settings: Settings) -> None:
    """A wait on a running job returns timed_out after its timeout."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(hang=True)))
        with anyio.fail_after(10):
            waited = await supervisor.wait_any([job.job_id], 0.2)
        assert (waited.finished, waited.timed_out) == ([], True)
        assert [pending.job_id for pending in waited.pending] == [job.job_id]
        await supervisor.cancel(job.job_id)


async def test_bad_output_lines_become_unparsed_events_and_the_stream_goes_on(settings: Settings) -> None:
    """Malformed, unknown, binary, oversize and duplicate-key lines are all kept; the run still succeeds."""
    lines: list[object] = [
        GOOD_RUN[0],
        "not json at all",
        '{"type":"mystery.event"}',
        list(b'\xff\xfe{"type":'),
        '{"type":"item.completed","item":{"id":"x","type":"plan","text":"?"}}',
        "x" * 5000,
        '{"type":"item.started","item":{"id":"item_1","type":"web_search","id":"ws_1","query":"q"}}',
        *GOOD_RUN[1:],
    ]
    async with supervising(replace(settings, max_line_bytes=1000)) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=lines, last_message=FINAL)))
        with anyio.fail_after(10):
            await job.finished.wait()
        events = job.journal.read(0, 20)
        unparsed = [event for event in events if isinstance(event, Unparsed)]
        assert [event.seq for event in events] == list(range(len(events)))
        assert len(unparsed) == 5
        assert "5000 bytes exceeds the 1000-byte limit" in unparsed[-1].reason
        search = next(e for e in events if isinstance(e, ItemEvent) and e.item.type == "web_search")
        assert isinstance(search, ItemEvent)
        assert (search.item.id, getattr(search.item, "search_id", None)) == ("item_1", "ws_1")
        assert isinstance(events[-1], TurnCompleted)
        assert job.record.state == "succeeded"


async def test_a_worker_without_a_final_message_breaks_the_contract_visibly(settings: Settings) -> None:
    """A run that ends with no final message succeeds as a process but its result names the missing report."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.result.contract_error == "the final message is missing, so the worker reported no modifiedFiles"


async def test_a_failed_turn_reports_the_codex_error(settings: Settings) -> None:
    """A turn.failed line and a non-zero exit make the job failed with Codex's message."""
    lines = [GOOD_RUN[0], '{"type":"turn.failed","error":{"message":"model overloaded"}}']
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=lines, exit=1)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "failed"
        assert (job.result.exit_code, job.result.error) == (1, "model overloaded")


async def test_workers_see_only_allowlisted_environment(settings: Settings) -> None:
    """A secret of the server's environment does not reach a worker; the job marker does."""
    environ = {"PATH": os.environ["PATH"], "HOME": "/home/x", "SECRET_TOKEN": "hunter2", "OPENAI_API_KEY": "k"}
    async with supervising(settings, environ=environ) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(echo_env=True)))
        with anyio.fail_after(10):
            await job.finished.wait()
        event = job.journal.read(0, 1)[0]
        assert isinstance(event, ItemEvent) and isinstance(event.item, AgentMessage)
        seen = json.loads(event.item.text)
        assert "SECRET_TOKEN" not in seen
        assert seen["OPENAI_API_KEY"] == "k"
        assert seen["CODEX_SUBAGENTS_JOB_ID"] == job.job_id


async def test_unknown_and_unfinished_jobs_are_refused_with_next_steps(settings: Settings) -> None:
    """Asking for an unknown job or the result of a running one names the call to make instead."""
    async with supervising(settings) as supervisor:
        with pytest.raises(UnknownJobError, match="codex_status"):
            supervisor.get("j-nope")
        job = await supervisor.spawn(in_root(settings, plan(hang=True)))
        with pytest.raises(JobStateError, match="codex_wait_any"):
            supervisor.result(job.job_id)
        await supervisor.cancel(job.job_id)


async def test_a_restart_keeps_results_and_stops_workers_left_running(settings: Settings) -> None:
    """After a crash, finished jobs keep results and reported marks; a job left running is interrupted."""
    async with supervising(settings) as supervisor:
        done = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL)))
        with anyio.fail_after(10):
            await supervisor.wait_any([done.job_id], 10)
    orphan = subprocess.Popen(["sleep", "600"], start_new_session=True)  # noqa: ASYNC220 -- stands in for a worker left by a crashed server
    journal = Journal(settings.state_dir / "jobs" / "j-orphan")
    journal.create(
        JobRecord(
            job_id="j-orphan",
            request=in_root(settings, plan(hang=True)),
            state="running",
            queued_at=1.0,
            started_at=2.0,
            pid=orphan.pid,
            process_start=processes.process_start(orphan.pid),
        )
    )
    journal.append(recorded(Unparsed(reason="r", excerpt="e", size=1, seq=0), b""))
    with (journal.directory / "events.jsonl").open("ab") as torn:
        torn.write(b'{"type":"turn.sta')
    try:
        async with supervising(settings) as supervisor:
            again = supervisor.get(done.job_id)
            assert (again.record.state, again.record.reported) == ("succeeded", True)
            interrupted = supervisor.get("j-orphan")
            assert interrupted.record.state == "interrupted"
            assert interrupted.journal.count == 1
            assert orphan.wait(timeout=5) == -signal.SIGKILL
            waited = await supervisor.wait_any(None, 1)
            assert [job.job_id for job in waited.finished] == ["j-orphan"]
    finally:
        orphan.kill()
