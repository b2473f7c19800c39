"""The watch draws only what changed: a look in which one job's row changed repaints that row's line alone. The
highlight stays on its job when a newer job is listed above it, and a click moves it; the events pane keeps its newest
line in view. No label, file name or place steers the terminal, on the screen or in the plain table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from journals import command_started, running_journal
from screen import screen_text, table_jobs, watch_app
from test_finished_jobs import finished

from codex_subagents.commands.watch import once
from codex_subagents.commands.watch_table import JobTable
from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.journal import JobRecord, Journal
from codex_subagents.jobs.registry import ServerLock
from codex_subagents.observe.batch import Current
from codex_subagents.observe.board import Board

pytestmark = pytest.mark.anyio


@pytest.fixture
def between(tmp_path: Path) -> Iterator[Journal]:
    """The journal of one job a live server runs (this test holds the server's lock), listed between two finished
    jobs; with no event yet its row says "starting"."""
    state = tmp_path / "state"
    lock = ServerLock(state)
    lock.acquire()
    finished(state, 1, ["a.py"])
    finished(state, 3, ["b.py"])
    journal = running_journal(state, lock, "j-000000000002", "runner", queued_at=1_700_000_002.0)
    try:
        yield journal
    finally:
        journal.close()
        lock.release()


async def test_a_look_in_which_one_row_changed_repaints_that_rows_line_alone(
    between: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the table is on the screen, the running job's new command repaints its line, and neither the column
    names nor the finished jobs' lines above and below it (each look may repaint it again: its time moves on)."""
    app = watch_app(between.directory.parent.parent)
    with anyio.fail_after(30):
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            table = app.query_one(JobTable)
            assert table_jobs(app) == ["j-000000000003", "j-000000000002", "j-000000000001"]
            drawn: list[int] = []
            render_line = table.render_line

            def drawing(y: int) -> object:
                drawn.append(y)
                return render_line(y)

            monkeypatch.setattr(table, "render_line", drawing)
            command_started(between, "ls")
            app.tick()
            await pilot.pause()
            text = screen_text(app)
    row = next(line for line in text.splitlines() if line.strip().startswith("j-000000000002"))
    assert "$ ls" in row
    assert drawn and set(drawn) == {2}, drawn


async def test_the_highlight_stays_on_its_job_when_a_newer_job_is_listed_above_it(between: Journal) -> None:
    """Down highlights the running job; a job queued later takes the top row, and the highlight moves down with
    the running job, whose events the pane goes on showing."""
    state = between.directory.parent.parent
    app = watch_app(state)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = app.query_one(JobTable)
            await pilot.press("down")
            assert table.rows.highlighted == "j-000000000002"
            finished(state, 4, ["c.py"])
            app.tick()
            await pilot.pause()
            assert table_jobs(app)[:2] == ["j-000000000004", "j-000000000003"]
            assert table.rows.highlighted == "j-000000000002"
            assert "─j-000000000002 runner─" in screen_text(app)


async def test_a_click_on_a_row_highlights_it(between: Journal) -> None:
    """A click on the third row highlights its job, and the pane shows that job's events."""
    app = watch_app(between.directory.parent.parent)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert await pilot.click(JobTable, offset=(2, 3))
            await pilot.pause()
            highlighted, text = app.query_one(JobTable).rows.highlighted, screen_text(app)
    assert highlighted == "j-000000000001" and "─j-000000000001 part 1─" in text


def labelled(state: Path, label: str, files: list[str]) -> None:
    """Write finished job 1 of ``state``, which reports ``files``, with ``label`` as the boss gave it."""
    finished(state, 1, files)
    path = layout.job(state, "j-000000000001") / "job.json"
    record = JobRecord.model_validate_json(path.read_text())
    record.request.label = label
    path.write_text(record.model_dump_json())


async def test_a_label_with_control_characters_shows_them_as_such_within_its_row(tmp_path: Path) -> None:
    """A newline or an escape in a label is shown as the replacement character: the row stays one line, and the
    terminal is not steered."""
    state = tmp_path / "state"
    labelled(state, "one\ntwo\x1b[2J", ["a.py"])
    app = watch_app(state)
    with anyio.fail_after(30):
        async with app.run_test(size=(200, 60)) as pilot:
            await pilot.pause()
            text = screen_text(app)
    row = next(line for line in text.splitlines() if line.strip().startswith("j-000000000001"))
    assert "one�two�[2J  ✓ succeeded" in row


def test_a_plain_table_shows_a_label_a_file_name_and_a_place_without_their_control_characters(
    tmp_path: Path,
) -> None:
    """``watch --once`` prints a boss's label and the place it is run in with marks for their control characters, and
    a worker's file name quoted as git quotes it."""
    state = tmp_path / "state"
    labelled(state, "fix\x1b]0;owned\x07", ["a\x1b[2J.py"])
    table = once(Board(state), Path("/repo\x9b2J"), Current(), as_json=False)
    assert not {char for char in table if ord(char) < 32 or 127 <= ord(char) < 160} - {"\n"}
    assert "fix�]0;owned�" in table and '"a\\033[2J.py"' in table and "/repo�2J" in table


async def test_the_opened_pane_shows_its_newest_event_at_the_next_look(between: Journal) -> None:
    """Opened, the pane takes in forty new events at the next look and is scrolled to the last of them."""
    app = watch_app(between.directory.parent.parent)
    with anyio.fail_after(30):
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("down", "enter")
            for number in range(40):
                command_started(between, f"echo {number}")
            app.tick()
            await pilot.pause()
            text = screen_text(app)
    assert "$ echo 39" in text and "$ echo 0\n" not in text
