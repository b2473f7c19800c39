"""A server killed with SIGKILL and started again on the same state dir loses nothing it had promised.

The server runs as Codex runs it, ``codex-subagents serve`` over stdio, with real
Codex workers on the scripted model. Two jobs finish and are reported, two are
held running (one with shell children). The server is then SIGKILLed, so its
workers are orphaned mid-turn, and the journal gets torn tails appended. The
second server must give the same results and event pages for the finished
jobs, mark the running ones ``interrupted`` with their partial events, stop
their orphaned process trees, report each of them exactly once, and run new
work.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import cast

import anyio
import pytest

from codex_subagents.core.config import Settings
from codex_subagents.jobs.journal import JobRequest
from codex_subagents.scripted_model import ScriptedModel
from codex_subagents.supervision.supervisor import JobSupervisor
from reliability.support import (
    Json,
    counting_codex,
    eventually,
    final,
    make_repo,
    marked,
    prompt,
    scripts,
    serve,
    short,
    survivors,
    tree_of,
)

pytestmark = [pytest.mark.anyio, pytest.mark.codex, pytest.mark.slow]

SCRIPTS = scripts(
    quick=[{"shell": "printf done > done.txt", "login": False}, final(["done.txt"])],
    children=[
        {"shell": "sleep 300 & sleep 300; wait", "login": False, "yield_time_ms": 300},
        {"hold": True, **final()},
    ],
    held=[{"hold": True, **final()}],
)


async def _asked(model: ScriptedModel, job_id: str, turn: int) -> None:
    with anyio.fail_after(60):
        await model.wait_for(lambda request: request.turn == turn and job_id in request.user_text())


def _ids(jobs: object) -> list[str]:
    assert isinstance(jobs, list)
    return sorted(str(cast("Json", job)["job_id"]) for job in cast("list[object]", jobs))


async def test_a_killed_server_restarts_with_results_cursors_and_no_orphans(tmp_path: Path) -> None:
    """After SIGKILL and a restart: same results and pages, running jobs interrupted once, their trees gone."""
    repo = make_repo(tmp_path / "repo")
    state = tmp_path / "state"
    async with ScriptedModel(SCRIPTS) as model:
        async with serve(repo, state, model) as first:
            done = [
                str((await first.call("codex_spawn", prompt=prompt("quick"), label=f"d{i}"))["job_id"]) for i in (1, 2)
            ]
            children = str((await first.call("codex_spawn", prompt=prompt("children"), label="children"))["job_id"])
            held = str((await first.call("codex_spawn", prompt=prompt("held"), label="held"))["job_id"])
            reported: list[str] = []
            while len(reported) < 2:
                waited = await first.call("codex_wait_any", job_ids=done, timeout_s=60)
                reported += _ids(waited["finished"])
            assert sorted(reported) == sorted(done)
            results = {job: await first.call("codex_result", job_id=job) for job in done}
            pages = {job: await first.call("codex_events", job_id=job, cursor=0, limit=500) for job in done}
            middles = {job: await first.call("codex_events", job_id=job, cursor=2, limit=3) for job in done}
            await _asked(model, children, 1)
            await _asked(model, held, 0)
            worker = first.worker_pid(children)
            await eventually(
                lambda: sum(c.startswith("sleep 300") for c in survivors(tree_of(worker)).values()) >= 2,
                20,
                "the worker's shell children never ran",
            )
            trees = {job: tree_of(first.worker_pid(job)) for job in (children, held)}
            partial = {job: await first.call("codex_events", job_id=job, cursor=0, limit=500) for job in trees}
            os.kill(first.pid(), signal.SIGKILL)
            assert all(survivors(tree) for tree in trees.values()), "the workers should outlive their server"
        _tear(state / "jobs" / children, state / "jobs" / done[0])
        async with serve(repo, state, model) as second:
            for job in done:
                assert await second.call("codex_result", job_id=job) == results[job]
                assert await second.call("codex_events", job_id=job, cursor=0, limit=500) == pages[job]
                assert await second.call("codex_events", job_id=job, cursor=2, limit=3) == middles[job]
            for job, tree in trees.items():
                await eventually(lambda tree=tree: not survivors(tree), 10, f"{job}'s worker tree survived a restart")
                assert not marked(job), short(marked(job))
                page = await second.call("codex_events", job_id=job, cursor=0, limit=500)
                before = partial[job]["events"]
                assert isinstance(before, list) and before, "the job had events before the kill"
                assert page["events"] == before, "partial events were changed or lost"
                assert (page["state"], page["finished"]) == ("interrupted", True)
                result = await second.call("codex_result", job_id=job)
                assert result["state"] == "interrupted" and "server stopped" in str(result["error"])
            first_wait = await second.call("codex_wait_any", timeout_s=5)
            assert (_ids(first_wait["finished"]), first_wait["timed_out"]) == (sorted(trees), False)
            second_wait = await second.call("codex_wait_any", timeout_s=5)
            assert (second_wait["finished"], second_wait["timed_out"], second_wait["pending"]) == ([], False, [])
            fresh = str((await second.call("codex_spawn", prompt=prompt("quick"), label="fresh"))["job_id"])
            waited = await second.call("codex_wait_any", job_ids=[fresh], timeout_s=60)
            assert _ids(waited["finished"]) == [fresh]
            assert (await second.call("codex_result", job_id=fresh))["state"] == "succeeded"


def _tear(*directories: Path) -> None:
    """Leave what a kill mid-write leaves: half an event line, half an index entry, a half-written record."""
    for directory in directories:
        with (directory / "events.jsonl").open("ab") as events:
            events.write(b'{"type":"item.completed","item":{"id":"x","type":"agent_mes')
        with (directory / "events.idx").open("ab") as index:
            index.write(b"\x07\x00\x00")
        (directory / "job.json.tmp").write_bytes(b'{"job_id": "torn", "state": "runn')


async def test_stray_entries_in_the_state_dir_do_not_stop_a_restart(tmp_path: Path) -> None:
    """A stray file, an empty directory and a garbage record among the journals are skipped, not fatal."""
    repo = make_repo(tmp_path / "repo")
    codex, _ = counting_codex(tmp_path)
    settings = Settings(state_dir=tmp_path / "state", allow_roots=(repo,), codex=codex)
    request = JobRequest(
        prompt='FAKE:{"lines": []}',
        cwd=str(repo),
        label="x",
        sandbox="workspace-write",
        wall_timeout_s=60,
        idle_timeout_s=60,
    )
    async with JobSupervisor(settings) as supervisor:
        job = await supervisor.spawn(request)
        with anyio.fail_after(20):
            await job.finished.wait()
    jobs = settings.state_dir / "jobs"
    (jobs / ".DS_Store").write_bytes(b"\x00\x01")
    (jobs / "j-empty").mkdir()
    (jobs / "j-garbage").mkdir()
    (jobs / "j-garbage" / "job.json").write_text("{not json")
    async with JobSupervisor(settings) as supervisor:
        assert [known.job_id for known in supervisor.jobs()] == [job.job_id]
        assert supervisor.get(job.job_id).record.state == job.record.state
