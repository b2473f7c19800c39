"""A cell of the watch's table that grows after its row was drawn: it is shown whole, its column widened."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from journals import command_started, running_journal
from screen import screen_text, watch_app

from codex_subagents.jobs.journal import Journal
from codex_subagents.jobs.registry import ServerLock

pytestmark = pytest.mark.anyio
COMMAND = "pytest -q tests/test_a_module_with_a_rather_long_name.py"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Journal]:
    """The journal of one job a live server runs (this test holds the server's lock), with no event yet."""
    state = tmp_path / "state"
    lock = ServerLock(state)
    lock.acquire()
    journal = running_journal(state, lock, "j-000000000001", "grower")
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
            command_started(running, COMMAND)
            app.tick()
            await pilot.pause()
            grown = screen_text(app)
    row = next(text for text in first.splitlines() if "j-000000000001" in text)
    assert "▶ running" in row and "starting" in row
    row = next(text for text in grown.splitlines() if "j-000000000001" in text)
    assert f"$ {COMMAND}" in row
