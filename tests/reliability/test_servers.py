"""Two ``codex-subagents serve`` on one repository share its state dir, and neither takes the other's workers.

Both servers run as Codex runs them, over stdio, with real Codex workers on the
scripted model. While the first server's worker is mid-turn, a second server
starts on the same repository: it must neither load that job as its own nor
stop its worker, and it must count the job as busy in the worktree, because the
first server is alive (its lock is held), not left over from a crash.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from codex_subagents.jobs.registry import live_jobs_in
from codex_subagents.scripted_model import ScriptedModel
from reliability.support import final, items, make_repo, prompt, scripts, serve, survivors, tree_of

pytestmark = [pytest.mark.anyio, pytest.mark.codex]

SCRIPTS = scripts(
    held=[{"hold": True, **final()}],
    quick=[{"shell": "printf done > done.txt", "login": False}, final(["done.txt"])],
)


async def test_a_second_server_leaves_the_first_servers_running_worker_alone(tmp_path: Path) -> None:
    """The second server lists none of the first's jobs, its worker lives on, and both servers keep working."""
    repo = make_repo(tmp_path / "repo")
    state = tmp_path / "state"
    async with ScriptedModel(SCRIPTS) as model, serve(repo, state, model) as first:
        held = str((await first.call("codex_spawn", prompt=prompt("held"), label="held"))["job_id"])
        with anyio.fail_after(60):
            await model.wait_for(lambda request: request.turn == 0 and held in request.user_text())
        worker = first.worker_pid(held)
        tree = tree_of(worker)
        async with serve(repo, state, model) as second:
            assert (await second.call("codex_status"))["jobs"] == []
            assert worker in survivors(tree), "the second server stopped the first server's worker"
            assert await anyio.to_thread.run_sync(live_jobs_in, state, repo) == [held]
            quick = str((await second.call("codex_spawn", prompt=prompt("quick"), label="quick"))["job_id"])
            waited = await second.call("codex_wait_any", job_ids=[quick], timeout_s=60)
            assert [job["job_id"] for job in items(waited["finished"])] == [quick]
        status = await first.call("codex_status")
        assert [(job["job_id"], job["state"]) for job in items(status["jobs"])] == [(held, "running")]
        cancelled = await first.call("codex_cancel", job_id=held)
        assert (cancelled["previous_state"], cancelled["state"]) == ("running", "cancelled")
        assert not survivors(tree)
