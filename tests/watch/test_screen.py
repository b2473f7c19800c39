"""The watch's screen on a batch the real server runs: its layout at two sizes, and its keys.

The app is driven by Textual's headless driver; what the tests read is the screen's
text, as a person at an 80x24 or a 200x60 terminal would see it.
"""

from __future__ import annotations

import anyio
import pytest
from live_batch import Batch
from screen import screen_lines, screen_text, table_jobs, watch_app

from codex_subagents.commands.watch_table import JobTable

pytestmark = [pytest.mark.anyio, pytest.mark.codex]


def newest_first(batch: Batch) -> list[str]:
    """The batch's jobs in the order the table lists them."""
    return [batch.jobs[name] for name in ("later", "patcher", "holder", "talker")]


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_the_screen_shows_the_counts_one_row_per_job_and_the_keys(batch: Batch, size: tuple[int, int]) -> None:
    """The header counts the jobs by state and the live server, the table has one row per job, newest first,
    and the footer names the keys, at the smallest usual terminal and a large one."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            lines = screen_lines(app)
            jobs = table_jobs(app)
    text = "\n".join(lines)
    assert len(lines) == size[1]
    assert lines[0].strip().startswith(str(batch.repo))
    assert "2 running · 1 queued · 1 finished" in text and "· 1 server ·" in text
    assert jobs == newest_first(batch)
    footer = lines[-1]
    for key in ("↑↓ move", "⏎ open job", "r only running", "q quit"):
        assert key in footer, footer


async def test_a_wide_screen_shows_the_collision_by_a_symbol_and_a_word(batch: Batch) -> None:
    """At 200 columns each colliding job's row ends with the collision, its path and the other job."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            text = screen_text(app)
    holder, patcher = batch.jobs["holder"], batch.jobs["patcher"]
    row = next(line for line in text.splitlines() if line.strip().startswith(holder))
    assert f"⚠ collision shared.txt with {patcher}" in row
    assert "▶ running ⚠" in row and "patched shared.txt (new)" in row
    assert "… queued" in text and "waits for a free slot" in text and "✓ succeeded" in text


async def test_down_and_up_move_the_highlight_and_the_pane_follows_it(batch: Batch) -> None:
    """Down moves to the next job and its events fill the pane; up moves back."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            table = app.query_one(JobTable)
            assert table.rows.highlighted == batch.jobs["later"]
            await pilot.press("down", "down", "down")
            assert table.rows.highlighted == batch.jobs["talker"]
            assert "$ echo hi > notes.txt" in screen_text(app)
            await pilot.press("up")
            assert table.rows.highlighted == batch.jobs["holder"]
            assert "patched shared.txt (new)" in screen_text(app)


async def test_enter_opens_the_job_full_screen_and_escape_goes_back(batch: Batch) -> None:
    """Enter hides the table and gives the pane the screen; escape brings the table back, and its keys work again."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("down", "down", "down", "enter")
            opened = screen_text(app)
            await pilot.press("escape")
            back = screen_text(app)
            await pilot.press("up")
            highlighted = app.query_one(JobTable).rows.highlighted
    assert "esc back to the table" in opened.splitlines()[-1] and "open job" not in opened
    talker = batch.jobs["talker"]
    assert batch.jobs["later"] not in opened and f"{talker} talker" in opened
    assert "$ echo hi > notes.txt" in opened
    assert batch.jobs["later"] in back and app.opened is None
    assert "↑↓ move" in back.splitlines()[-1] and highlighted == batch.jobs["holder"]


async def test_r_shows_only_the_running_and_queued_jobs_and_again_every_job(batch: Batch) -> None:
    """The first r hides the finished job, the second shows it again."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("r")
            only = table_jobs(app)
            await pilot.press("r")
            every = table_jobs(app)
    assert only == newest_first(batch)[:3]
    assert every == newest_first(batch)


async def test_q_quits_and_a_look_after_it_does_nothing(batch: Batch) -> None:
    """q ends the app with no error; a look that comes after q (Textual removes the widgets before it stops the
    app's timers) draws nothing and raises nothing."""
    app = watch_app(batch.state_dir, batch.repo)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running
        app.tick()
    assert app.return_code == 0
