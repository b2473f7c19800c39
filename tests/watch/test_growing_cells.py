"""A cell of the watch's table that grows after its row was drawn: it is shown whole, its column widened."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from screen import screen_text, watch_app

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.framing import to_event
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal, recorded
from codex_subagents.jobs.registry import ServerLock

pytestmark = pytest.mark.anyio
COMMAND = "pytest -q tests/test_a_module_with_a_rather_long_name.py"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Journal]:
    """The journal of one job a live server runs (this test holds the server's lock), with no event yet."""
    state = tmp_path / "state"
    lock = ServerLock(state)
    lock.acquire()
    root = tmp_path / "repo"
    request = JobRequest(
        prompt="work", cwd=str(root), root=str(root), label="grower", sandbox="workspace-write",
        wall_timeout_s=600, idle_timeout_s=300,
    )  # fmt: skip
    record = JobRecord(
        job_id="j-000000000001", request=request, server_id=lock.server_id, state="running", started_at=time.time()
    )
    journal = Journal(layout.job(state, record.job_id))
    journal.create(record)
    try:
        yield journal
    finally:
        journal.close()
        lock.release()


async def test_a_doing_now_that_grows_after_the_first_look_is_shown_whole(running: Journal) -> None:
    """The row is drawn while the job is "starting"; once it runs a long command, the row shows all of it."""
    app = watch_app(running.directory.parent.parent)
    with anyio.fail_after(30):
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            first = screen_text(app)
            item = f'{{"id":"c1","type":"command_execution","command":"{COMMAND}","status":"in_progress"}}'
            line = f'{{"type":"item.started","item":{item}}}'.encode()
            event = to_event(line, len(line), 1 << 20, 0, time.time())
            assert event is not None
            running.append(recorded(event, line))
            app.tick()
            await pilot.pause()
            grown = screen_text(app)
    row = next(text for text in first.splitlines() if "j-000000000001" in text)
    assert "▶ running" in row and "starting" in row
    row = next(text for text in grown.splitlines() if "j-000000000001" in text)
    assert f"$ {COMMAND}" in row
