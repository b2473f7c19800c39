"""A server starting, stopping and restarting under an open watch: the real server and real Codex workers, the watch
headless. Each change is on the screen within a few looks, and none is a traceback."""

from __future__ import annotations

import re
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import anyio
import pytest
from live_batch import boss_session, make_repo, scripts_file, spawn
from screen import SeenApp

pytestmark = [pytest.mark.anyio, pytest.mark.codex]
SERVERS = re.compile(r"· (\d+) servers? ·")


def servers(text: str) -> int | None:
    """The count of live servers the screen's header shows."""
    found = SERVERS.search(text)
    return int(found[1]) if found else None


def job_row(text: str, job_id: str) -> str:
    """The screen's row of job ``job_id`` (empty when the table has none)."""
    return next((line for line in text.splitlines() if line.strip().startswith(job_id)), "")


async def test_the_server_count_and_a_running_jobs_state_follow_a_server_killed_and_started_again(
    tmp_path: Path,
) -> None:
    """The header counts 0, 1, 0, 1 servers as one starts, is killed and a new one starts; the job running when the
    server died shows as orphaned, then as interrupted once the new server adopts it."""
    repo = make_repo(tmp_path / "repo", {"README.md": "hi\n"})
    state = tmp_path / "state"
    state.mkdir()
    app = SeenApp(state, repo)
    until = app.until
    with ExitStack() as stack, anyio.fail_after(180):
        async with app.run_test(size=(200, 60)):
            await until(lambda text: servers(text) == 0)
            session = boss_session(repo, state, "--cap", "2", scripts=[scripts_file(tmp_path / "scripts.json")])
            boss = await anyio.to_thread.run_sync(stack.enter_context, session)
            await until(lambda text: servers(text) == 1)
            job_id = await anyio.to_thread.run_sync(spawn, boss, "holder")
            model = boss.model
            await anyio.to_thread.run_sync(
                boss.portal.call, lambda: model.wait_for(lambda r: r.script == "holder" and r.turn == 1)
            )
            await until(lambda text: "▶ running" in job_row(text, job_id))
            await anyio.to_thread.run_sync(partial(boss.stop, kill=True))
            orphaned = await until(lambda text: "⊘ orphaned" in job_row(text, job_id))
            await anyio.to_thread.run_sync(boss.start)
            adopted = await until(lambda text: "↯ interrupted" in job_row(text, job_id) and servers(text) == 1)
            assert app.is_running
    counts = [servers(text) for text in app.screens]
    assert [count for n, count in enumerate(counts) if n == 0 or count != counts[n - 1]] == [0, 1, 0, 1]
    assert servers(orphaned) == 0 and "its server is gone" in job_row(orphaned, job_id)
    assert "the server stopped while this job ran" in job_row(adopted, job_id)
    assert not any("Traceback" in text for text in app.screens)
