"""The MCP tools, called through a real in-memory MCP client session.

Workers here are `tests/fake_codex.py`, so every tool path is exercised quickly;
the acceptance suite repeats the important paths with the real Codex CLI over stdio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from mcp import Client
from pydantic import BaseModel

from codex_subagents import build_server
from codex_subagents.coordination import batch
from codex_subagents.core.config import Settings
from codex_subagents.jobs import models as r
from codex_subagents.worktree import description, rollback

pytestmark = pytest.mark.anyio

M = TypeVar("M", bound=BaseModel)
FAKE = Path(__file__).resolve().parent / "fake_codex.py"
TOOLS = {
    "codex_spawn": (False, False),
    "codex_events": (True, False),
    "codex_wait_any": (False, False),
    "codex_result": (True, False),
    "codex_cancel": (False, True),
    "codex_status": (True, False),
    "codex_baseline": (False, False),
    "codex_baselines": (True, False),
    "codex_baseline_drop": (False, True),
    "codex_overlaps": (True, False),
    "codex_rollback": (False, True),
    "codex_integrity": (True, False),
}


def fake(**behaviour: object) -> str:
    """A prompt that makes the fake worker act out ``behaviour``."""
    return "FAKE:" + json.dumps(behaviour)


def final(*files: str) -> str:
    """A contract report naming ``files``."""
    return json.dumps({"summary": "ok", "modifiedFiles": list(files)})


DONE = ['{"type":"turn.started"}', '{"type":"turn.completed"}']


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one committed file."""
    path = tmp_path / "repo"
    path.mkdir()
    (path / "a.txt").write_text("original a\n")
    run = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*run, "init", "-q"], cwd=path, check=True)
    subprocess.run([*run, "add", "-A"], cwd=path, check=True)
    subprocess.run([*run, "commit", "-qm", "start"], cwd=path, check=True)
    return path


@pytest.fixture
def settings(tmp_path: Path, repo: Path) -> Settings:
    """Settings whose codex is the fake worker."""
    codex = tmp_path / "codex"
    codex.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    codex.chmod(0o755)
    return Settings(cap=2, state_dir=tmp_path / "state", allow_roots=(repo,), codex=codex, kill_grace_s=1.0)


@pytest.fixture
async def client(settings: Settings) -> AsyncGenerator[Client]:
    """An MCP client session connected in memory to the server."""
    async with Client(build_server(settings)) as session:
        yield session


async def call(client: Client, tool: str, model: type[M], **arguments: object) -> M:
    """Call a tool that must succeed and read its structured result as ``model``."""
    with anyio.fail_after(20):
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return model.model_validate(result.structured_content)


async def refused(client: Client, tool: str, **arguments: object) -> str:
    """Call a tool that must fail and return the error text."""
    with anyio.fail_after(20):
        result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


async def finish(client: Client, job_id: str) -> r.JobResult:
    """Wait for a job and return its result."""
    waited = await call(client, "codex_wait_any", r.WaitResult, job_ids=[job_id], timeout_s=20)
    assert [job.job_id for job in waited.finished] == [job_id]
    return await call(client, "codex_result", r.JobResult, job_id=job_id)


async def test_the_server_lists_every_tool_with_its_safety_hints(client: Client) -> None:
    """Every tool is listed, read tools are read-only and cancel and rollback are destructive."""
    listed = (await client.list_tools()).tools
    hints = {
        tool.name: (
            bool(tool.annotations and tool.annotations.read_only_hint),
            bool(tool.annotations and tool.annotations.destructive_hint),
        )
        for tool in listed
    }
    assert hints == TOOLS
    assert all(tool.output_schema for tool in listed)


async def test_wait_any_is_announced_as_changing_state_so_it_is_never_run_twice(client: Client) -> None:
    """codex_wait_any marks what it reported, so it is neither read-only nor idempotent: a retry would miss a job."""
    [wait] = [tool for tool in (await client.list_tools()).tools if tool.name == "codex_wait_any"]
    assert wait.annotations is not None
    hints = (wait.annotations.read_only_hint, wait.annotations.idempotent_hint, wait.annotations.destructive_hint)
    assert hints == (False, False, False)


async def test_wait_any_lists_a_finished_job_in_short_and_codex_result_gives_all(client: Client) -> None:
    """A finished job appears in codex_wait_any with its summary and errors only; codex_result adds the rest."""
    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(lines=DONE, last_message=final("a.txt")))
    with anyio.fail_after(20):
        waited = await client.call_tool("codex_wait_any", {"job_ids": [spawned.job_id], "timeout_s": 20})
    shown = r.WaitResult.model_validate(waited.structured_content)
    assert waited.structured_content is not None and "final_message" not in json.dumps(waited.structured_content)
    assert [(job.job_id, job.summary, type(job)) for job in shown.finished] == [(spawned.job_id, "ok", r.FinishedJob)]
    result = await call(client, "codex_result", r.JobResult, job_id=spawned.job_id)
    assert (result.modified_files, result.final_message) == (["a.txt"], final("a.txt"))


async def test_a_worker_spawned_through_the_tools_reports_its_files(client: Client, repo: Path) -> None:
    """Spawn, wait, result and events work together over MCP."""
    spawned = await call(
        client,
        "codex_spawn",
        r.SpawnResult,
        prompt=fake(lines=DONE, write={"b.txt": "b\n"}, last_message=final("b.txt")),
        label="writer",
    )
    assert (spawned.state, spawned.label, spawned.queue_position) == ("running", "writer", None)
    result = await finish(client, spawned.job_id)
    assert (result.state, result.modified_files, result.summary) == ("succeeded", ["b.txt"], "ok")
    assert (repo / "b.txt").read_text() == "b\n"
    page = await call(client, "codex_events", r.EventsPage, job_id=spawned.job_id, cursor=1, limit=5)
    assert (page.next_cursor, page.finished, len(page.events)) == (2, True, 1)


async def test_bad_spawns_are_refused_clearly_and_start_nothing(client: Client, tmp_path: Path) -> None:
    """A cwd outside the roots, full access without opt-in, flag-like models and config keys outside the allowlist
    are refused."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    errors = [
        await refused(client, "codex_spawn", prompt="p", cwd=str(outside)),
        await refused(client, "codex_spawn", prompt="p", cwd="../.."),
        await refused(client, "codex_spawn", prompt="p", sandbox="danger-full-access"),
        await refused(client, "codex_spawn", prompt="p", model="--dangerously-bypass-approvals-and-sandbox"),
        await refused(client, "codex_spawn", prompt="p", config=["sandbox_mode=danger-full-access"]),
    ]
    assert "outside the allowed roots" in errors[0] and "--allow-root" in errors[0]
    assert "outside the allowed roots" in errors[1]
    assert "--allow-danger-full-access" in errors[2]
    assert "not a plain name" in errors[3]
    assert "'sandbox_mode' is not one a spawn may set" in errors[4] and "--worker-config" in errors[4]
    assert (await call(client, "codex_status", r.StatusResult)).jobs == []


async def test_unknown_and_unfinished_jobs_get_errors_that_name_the_next_call(client: Client) -> None:
    """An unknown id points to codex_status; a running job's result points to codex_wait_any."""
    assert "codex_status" in await refused(client, "codex_result", job_id="j-nope")
    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(hang=True))
    assert "codex_wait_any" in await refused(client, "codex_result", job_id=spawned.job_id)
    cancelled = await call(client, "codex_cancel", r.CancelResult, job_id=spawned.job_id)
    assert (cancelled.previous_state, cancelled.state) == ("running", "cancelled")
    again = await call(client, "codex_cancel", r.CancelResult, job_id=spawned.job_id)
    assert (again.previous_state, again.state) == ("cancelled", "cancelled")
    assert spawned.job_id in again.message


async def test_wait_any_lists_the_jobs_still_running(client: Client) -> None:
    """A timed-out wait carries a digest of each pending job."""
    spawned = await call(
        client, "codex_spawn", r.SpawnResult, prompt=fake(lines=['{"type":"turn.started"}'], hang=True), label="slow"
    )
    last_event = None
    with anyio.fail_after(20):
        while last_event is None:  # each wait times out; the worker's first line may come after the first one
            waited = await call(client, "codex_wait_any", r.WaitResult, timeout_s=0.2)
            assert (waited.timed_out, waited.finished) == (True, [])
            [pending] = waited.pending
            assert (pending.job_id, pending.label, pending.state) == (spawned.job_id, "slow", "running")
            last_event = pending.last_event
    assert last_event == "turn.started"
    await call(client, "codex_cancel", r.CancelResult, job_id=spawned.job_id)


async def test_overlaps_and_rollback_through_the_tools(client: Client, repo: Path) -> None:
    """Two jobs writing one file overlap; rollback puts the baseline back and keeps the user's file."""
    (repo / "mine.txt").write_text("the user's own work\n")
    baseline = await call(client, "codex_baseline", description.BaselineInfo, label="before")
    first = await call(
        client,
        "codex_spawn",
        r.SpawnResult,
        prompt=fake(lines=DONE, write={"a.txt": "one\n"}, last_message=final("a.txt")),
    )
    second = await call(
        client,
        "codex_spawn",
        r.SpawnResult,
        prompt=fake(lines=DONE, write={"a.txt": "two\n", "b.txt": "b\n"}, last_message=final("a.txt")),
    )
    for job in (first, second):
        await finish(client, job.job_id)
    report = await call(
        client,
        "codex_overlaps",
        batch.OverlapResult,
        baseline_id=baseline.baseline_id,
        job_ids=[first.job_id, second.job_id],
    )
    assert report.clean is False
    assert report.overlaps == {"a.txt": sorted([first.job_id, second.job_id])}
    assert report.unclaimed == ["b.txt"]
    rolled = await call(client, "codex_rollback", rollback.RollbackResult, baseline_id=baseline.baseline_id)
    assert sorted(rolled.restored + rolled.removed) == ["a.txt", "b.txt"]
    assert (repo / "a.txt").read_text() == "original a\n"
    assert not (repo / "b.txt").exists()
    assert (repo / "mine.txt").read_text() == "the user's own work\n"
    listed = await call(client, "codex_baselines", description.BaselineList)
    assert [b.baseline_id for b in listed.baselines] == [baseline.baseline_id]
    await call(client, "codex_baseline_drop", description.DropResult, baseline_id=baseline.baseline_id)
    assert (await call(client, "codex_baselines", description.BaselineList)).baselines == []


async def test_rollback_is_refused_while_a_worker_may_still_write(client: Client) -> None:
    """A running job in the worktree blocks rollback until it is waited for or cancelled."""
    baseline = await call(client, "codex_baseline", description.BaselineInfo)
    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(hang=True))
    error = await refused(client, "codex_rollback", baseline_id=baseline.baseline_id)
    assert str(spawned.job_id) in error and "codex_cancel" in error
    await call(client, "codex_cancel", r.CancelResult, job_id=spawned.job_id)
    await call(client, "codex_rollback", rollback.RollbackResult, baseline_id=baseline.baseline_id)


async def test_integrity_names_what_a_failed_job_left_behind(client: Client, repo: Path) -> None:
    """After a failure, the paths the job was seen writing and the changes nobody claims are named, not the user's
    edits from before the baseline."""
    (repo / "user.txt").write_text("the user's\n")
    baseline = await call(client, "codex_baseline", description.BaselineInfo)
    patch = json.dumps(
        {
            "type": "item.started",
            "item": {
                "id": "p",
                "type": "file_change",
                "changes": [{"path": str(repo / "half.txt"), "kind": "add"}],
                "status": "in_progress",
            },
        }
    )
    plan = fake(write={"half.txt": "partial", "stray.txt": "x"}, lines=[patch], exit=1)
    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=plan)
    result = await finish(client, spawned.job_id)
    assert result.state == "failed"
    report = await call(
        client, "codex_integrity", batch.IntegrityResult, job_id=spawned.job_id, baseline_id=baseline.baseline_id
    )
    # The stray write is the job's once the watch's last look has put it on the job, a suspect until then.
    assert "half.txt" in report.changed_by_job and "user.txt" not in report.suspects
    assert sorted([*report.changed_by_job, *report.suspects]) == ["half.txt", "stray.txt"]


async def test_integrity_of_a_job_of_another_worktree_is_refused(client: Client, repo: Path) -> None:
    """A job asked about in a worktree it did not run in is an error naming both, not an empty report."""
    other = repo / "other"
    other.mkdir()
    await anyio.run_process(["git", "init", "-q"], cwd=other)
    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(lines=DONE, last_message=final()))
    await finish(client, spawned.job_id)
    error = await refused(client, "codex_integrity", job_id=spawned.job_id, baseline_id="b-1", cwd="other")
    assert f"Job {spawned.job_id!r} did not run in the worktree {str(other)!r}" in error, error


@pytest.mark.parametrize("tool", ["codex_rollback", "codex_spawn"])
async def test_a_git_quoted_path_with_an_escape_above_377_is_refused_by_name(client: Client, tool: str) -> None:
    """A quoted path whose octal escape names no byte is a typed refusal naming it, in paths and in scope alike."""
    quoted = '"\\777"'
    arguments = (
        {"baseline_id": "b-1", "paths": [quoted]} if tool == "codex_rollback" else {"prompt": "p", "scope": [quoted]}
    )
    error = await refused(client, tool, **arguments)
    assert f"path {quoted!r} has the escape \\777, which names no byte" in error, error


async def test_a_server_inside_a_worker_refuses_to_spawn(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the worker marker is found, codex_spawn is refused and nothing starts."""
    monkeypatch.setenv("CODEX_SUBAGENTS_JOB_ID", "j-outer")
    async with Client(build_server(settings)) as inner:
        error = await refused(inner, "codex_spawn", prompt="p")
        assert "j-outer" in error and "must not start sub-agents" in error
        assert (await call(inner, "codex_status", r.StatusResult)).jobs == []


async def test_wait_any_reports_progress_to_a_client_that_asks_for_it(client: Client) -> None:
    """A client that passes a progress callback hears how many jobs have finished while it waits."""
    heard: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        heard.append((progress, total, message))

    spawned = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(hang=True))
    with anyio.fail_after(20):
        result = await client.call_tool(
            "codex_wait_any", {"job_ids": [spawned.job_id], "timeout_s": 0.3}, progress_callback=on_progress
        )
    assert not result.is_error
    assert heard[0] == (0, 1, "0 of 1 jobs finished")
    await call(client, "codex_cancel", r.CancelResult, job_id=spawned.job_id)


async def test_a_bad_value_and_a_broken_schema_are_both_tool_errors_the_model_can_read(client: Client) -> None:
    """An unknown job names the id and the next tool; an argument that breaks the schema is named (MCP SEP-1303)."""
    unknown = await refused(client, "codex_result", job_id="j-nosuchjob")
    assert unknown.startswith("Error executing tool codex_result: ") and "j-nosuchjob" in unknown
    assert "codex_status" in unknown
    broken = await refused(client, "codex_events", job_id="j-x", cursor="not a number")
    assert "cursor" in broken and "valid integer" in broken
    missing = await refused(client, "codex_spawn")
    assert "prompt" in missing and "Field required" in missing
    status = await call(client, "codex_status", r.StatusResult)
    assert status.jobs == []


async def test_scoped_jobs_wait_for_each_other_and_report_writes_outside_their_scope(
    client: Client, repo: Path
) -> None:
    """A job whose scope meets a running job's queues until it ends, and a touch outside a scope is named."""
    (repo / "src").mkdir()
    broad = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(hang=True), scope=["src"], cwd=str(repo))
    narrow = await call(
        client,
        "codex_spawn",
        r.SpawnResult,
        prompt=fake(lines=DONE, write={"a.py": "a\n", "b.txt": "b\n"}, last_message=final("a.py", "b.txt")),
        scope=["*.py"],
        cwd=str(repo / "src"),
    )
    assert (broad.state, narrow.state, narrow.queue_position) == ("running", "queued", 1)
    assert "outside the worktree" in await refused(client, "codex_spawn", prompt="x", scope=["../../elsewhere"])
    await call(client, "codex_cancel", r.CancelResult, job_id=broad.job_id)
    result = await finish(client, narrow.job_id)
    assert result.error is None, result.error
    assert (result.state, result.out_of_scope) == ("succeeded", ["src/b.txt"])


async def test_where_git_says_names_ignore_case_scopes_compare_without_case(client: Client, repo: Path) -> None:
    """As on macOS (``core.ignorecase``): a job owning ``src/a.py`` waits for one owning ``Src``, and its report of
    ``SRC/A.PY`` lies inside its scope."""
    await anyio.run_process(["git", "config", "core.ignorecase", "true"], cwd=repo)
    (repo / "src").mkdir()
    broad = await call(client, "codex_spawn", r.SpawnResult, prompt=fake(hang=True), scope=["Src"])
    narrow = await call(
        client,
        "codex_spawn",
        r.SpawnResult,
        prompt=fake(lines=DONE, write={"src/a.py": "a\n"}, last_message=final("SRC/A.PY")),
        scope=["src/a.py"],
    )
    assert (narrow.state, narrow.waiting_for) == ("queued", [broad.job_id])
    await call(client, "codex_cancel", r.CancelResult, job_id=broad.job_id)
    result = await finish(client, narrow.job_id)
    assert (result.state, result.out_of_scope) == ("succeeded", [])
