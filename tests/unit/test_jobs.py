"""The supervisor runs workers in the background under a cap, and stops, times out and recovers them.

These tests use `tests/fake_codex.py` as the worker so that every state is
reached quickly and exactly; the acceptance suite runs the real Codex CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from codex_subagents import procs
from codex_subagents.config import Settings
from codex_subagents.errors import JobStateError, QueueFullError, UnknownJobError
from codex_subagents.events import AgentMessage, ItemEvent, TurnCompleted, Unparsed
from codex_subagents.jobs import Job, JobSupervisor
from codex_subagents.journal import JobRecord, JobRequest, Journal

pytestmark = pytest.mark.anyio

FAKE = Path(__file__).resolve().parents[1] / "fake_codex.py"

GOOD_RUN = [
    '{"type":"thread.started","thread_id":"t-1"}',
    '{"type":"turn.started"}',
    '{"type":"item.completed","item":{"id":"item_0","type":"file_change",'
    '"changes":[{"path":"/w/a.txt","kind":"add"}],"status":"completed"}}',
    '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,'
    '"cache_write_input_tokens":0,"output_tokens":5,"reasoning_output_tokens":0}}',
]
FINAL = json.dumps({"summary": "wrote a.txt", "modifiedFiles": ["a.txt"]})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose codex is the fake worker, with the state dir in a temporary directory."""
    codex = tmp_path / "codex"
    codex.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    codex.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    return Settings(
        cap=2,
        queue_limit=2,
        state_dir=tmp_path / "state",
        allow_roots=(work,),
        codex=codex,
        kill_grace_s=1.0,
    )


def plan(**behaviour: object) -> JobRequest:
    """A request whose fake worker acts out ``behaviour``."""
    return JobRequest(
        prompt="FAKE:" + json.dumps(behaviour),
        cwd="/w",
        label=str(behaviour.get("label", "job")),
        sandbox="workspace-write",
        wall_timeout_s=float(str(behaviour.get("wall", 60))),
        idle_timeout_s=float(str(behaviour.get("idle", 60))),
    )


@asynccontextmanager
async def supervising(settings: Settings, environ: dict[str, str] | None = None) -> AsyncGenerator[JobSupervisor]:
    """A supervisor whose workers run in the settings' allowed root."""
    async with JobSupervisor(settings, environ=environ) as supervisor:
        yield supervisor


def in_root(settings: Settings, request: JobRequest) -> JobRequest:
    """Point a request at the allowed root."""
    return request.model_copy(update={"cwd": str(settings.allow_roots[0])})


async def until(job: Job, condition: Callable[[Job], bool]) -> None:
    """Wait, event-driven, until ``condition`` holds for the job."""
    with anyio.fail_after(10):
        while not condition(job):
            await job.updated.wait()


async def test_a_spawned_worker_runs_in_the_background_and_reports_its_result(settings: Settings) -> None:
    """Spawn returns a running job at once; its result carries the worker's reported and observed files."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL)))
        assert job.record.state == "running"
        with anyio.fail_after(10):
            ready, timed_out = await supervisor.wait_any([job.job_id], 10)
        assert (ready, timed_out) == ([job], False)
        outcome = supervisor.result(job.job_id).record.outcome
        assert outcome is not None
        assert job.record.state == "succeeded"
        assert (outcome.summary, outcome.modified_files, outcome.contract_error) == ("wrote a.txt", ["a.txt"], None)
        assert outcome.observed_files == ["/w/a.txt"]
        assert outcome.usage is not None and outcome.usage.input_tokens == 10
        assert [event.type for event in job.journal.read(0, 10)] == [
            "thread.started",
            "turn.started",
            "item.completed",
            "turn.completed",
        ]


async def test_jobs_past_the_cap_wait_in_fifo_order(settings: Settings) -> None:
    """With cap 2, the third and fourth jobs queue in order and start as slots free up."""
    async with supervising(replace(settings, queue_limit=4)) as supervisor:
        jobs = [await supervisor.spawn(in_root(settings, plan(hang=True, label=f"j{i}"))) for i in range(4)]
        assert [job.record.state for job in jobs] == ["running", "running", "queued", "queued"]
        assert [supervisor.queue_position(job) for job in jobs] == [None, None, 1, 2]
        await supervisor.cancel(jobs[0].job_id)
        with anyio.fail_after(10):
            while jobs[2].record.state != "running":
                await jobs[2].updated.wait() if jobs[2].record.pid else await anyio.lowlevel.checkpoint()
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
        tree = procs.descendants(job.record.pid) | {job.record.pid}
        assert len(tree) >= 4
        _, before = await supervisor.cancel(job.job_id)
        assert (before, job.record.state) == ("running", "cancelled")
        assert procs.alive(tree) == set()
        assert [event.type for event in job.journal.read(0, 10)] == ["thread.started", "turn.started"]


async def test_cancelling_a_queued_job_removes_it_from_the_queue(settings: Settings) -> None:
    """A queued job never starts once cancelled."""
    async with supervising(replace(settings, cap=1)) as supervisor:
        running = await supervisor.spawn(in_root(settings, plan(hang=True)))
        queued = await supervisor.spawn(in_root(settings, plan(hang=True)))
        _, before = await supervisor.cancel(queued.job_id)
        assert (before, queued.record.state, queued.record.pid) == ("queued", "cancelled", None)
        assert supervisor.queue_position(queued) is None
        await supervisor.cancel(running.job_id)


async def test_a_silent_worker_is_stopped_by_the_idle_budget(settings: Settings) -> None:
    """No output for longer than the idle budget ends the job as timed_out, and the slot frees."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(hang=True, idle=0.3)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "timed_out"
        assert job.record.outcome is not None and "idle" in (job.record.outcome.error or "")
        assert supervisor.running_count == 0


async def test_a_worker_over_its_wall_budget_is_timed_out(settings: Settings) -> None:
    """A worker still busy past its wall-clock budget is stopped and reported timed_out."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN[:1], hang=True, wall=0.5)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "timed_out"
        assert "wall" in (job.record.outcome.error or "" if job.record.outcome else "")


async def test_wait_any_reports_each_finished_job_exactly_once(settings: Settings) -> None:
    """Successive waits hand out finished jobs once each, then return at once with nothing left."""
    async with supervising(settings) as supervisor:
        jobs = [await supervisor.spawn(in_root(settings, plan(lines=GOOD_RUN, last_message=FINAL))) for _ in range(2)]
        seen: list[Job] = []
        with anyio.fail_after(10):
            while len(seen) < 2:
                ready, _ = await supervisor.wait_any(None, 10)
                seen += ready
            again, timed_out = await supervisor.wait_any(None, 10)
        assert sorted(job.job_id for job in seen) == sorted(job.job_id for job in jobs)
        assert (again, timed_out) == ([], False)


async def test_wait_any_times_out_when_nothing_finishes(settings: Settings) -> None:
    """A wait on a running job returns timed_out after its timeout."""
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(hang=True)))
        with anyio.fail_after(10):
            assert await supervisor.wait_any([job.job_id], 0.2) == ([], True)
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
        assert job.record.outcome is not None
        assert job.record.outcome.contract_error == (
            "the final message is missing, so the worker reported no modifiedFiles"
        )


async def test_a_failed_turn_reports_the_codex_error(settings: Settings) -> None:
    """A turn.failed line and a non-zero exit make the job failed with Codex's message."""
    lines = [GOOD_RUN[0], '{"type":"turn.failed","error":{"message":"model overloaded"}}']
    async with supervising(settings) as supervisor:
        job = await supervisor.spawn(in_root(settings, plan(lines=lines, exit=1)))
        with anyio.fail_after(10):
            await job.finished.wait()
        assert job.record.state == "failed"
        assert job.record.outcome is not None
        assert (job.record.outcome.exit_code, job.record.outcome.error) == (1, "model overloaded")


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
    journal.save(
        JobRecord(
            job_id="j-orphan",
            request=in_root(settings, plan(hang=True)),
            state="running",
            queued_at=1.0,
            started_at=2.0,
            pid=orphan.pid,
            process_start=procs.process_start(orphan.pid),
        )
    )
    journal.append(Unparsed(reason="r", excerpt="e", size=1, seq=0))
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
            ready, _ = await supervisor.wait_any(None, 1)
            assert [job.job_id for job in ready] == ["j-orphan"]
    finally:
        orphan.kill()
