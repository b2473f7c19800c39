"""``watch`` and ``log`` given what a person may give them: a wrong job id, another repository's state dir, a state
dir not made yet, a torn or damaged journal, ten thousand jobs, a 50 MB journal. Each is a clear message or a
correct view, never a traceback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import anyio
import pytest
from live_batch import ROOT, Batch, make_repo
from screen import screen_text, watch_app

from codex_subagents.jobs.journal import read_record
from codex_subagents.observe.board import EVENTS_SLICE, Board
from codex_subagents.observe.tail import CHUNK

pytestmark = pytest.mark.codex
CLI = ROOT / ".venv" / "bin" / "codex-subagents"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``codex-subagents ARGS`` in ``cwd`` as a person would, without a terminal."""
    return subprocess.run([str(CLI), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def copied(batch: Batch, name: str, into: Path, *, running: bool = False) -> Path:
    """A copy of the directory of the batch's job of script ``name`` in a state dir of its own at ``into``; with
    ``running``, its record says it still runs (a held worker's turn ends when Codex stops waiting for it)."""
    job_id = batch.jobs[name]
    target = into / "jobs" / job_id
    shutil.copytree(batch.state_dir / "jobs" / job_id, target)
    if running:
        record = read_record(target / "job.json").model_copy(update={"state": "running", "result": None})
        (target / "job.json").write_text(record.model_dump_json())
    return target


def test_log_of_an_unknown_job_names_the_close_ids_and_the_command_that_lists_them(batch: Batch) -> None:
    """A mistyped id gets the ids it may mean; the exit code is 2 and nothing is a traceback."""
    talker = batch.jobs["talker"]
    done = cli(batch.repo, "log", talker[:-1] + "x", "--state-dir", str(batch.state_dir))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"No job '{talker[:-1]}x'" in done.stderr and f"Did you mean {talker}" in done.stderr
    assert "watch --once" in done.stderr


def test_log_of_a_malformed_job_id_says_what_an_id_looks_like(batch: Batch) -> None:
    """An id that is a path is refused before any file is opened."""
    done = cli(batch.repo, "log", "../../etc", "--state-dir", str(batch.state_dir))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'../../etc' is not a job id" in done.stderr


def test_log_prints_a_finished_jobs_events_as_readable_lines(batch: Batch) -> None:
    """The talker's command is one of its lines, with its exit code."""
    done = cli(batch.repo, "log", batch.jobs["talker"], "--state-dir", str(batch.state_dir))
    assert done.returncode == 0, done.stderr
    assert "$ echo hi > notes.txt  (exit 0)" in done.stdout
    assert re.fullmatch(r"\d\d:\d\d:\d\d  turn completed, \d+ tokens", done.stdout.splitlines()[-1])


def test_watch_of_another_repositorys_state_dir_says_whose_jobs_they_are(batch: Batch, tmp_path: Path) -> None:
    """Started in one repository on the state dir of another, the table lists the other's jobs under its name."""
    here = make_repo(tmp_path / "elsewhere", {"README.md": "other\n"})
    done = cli(here, "watch", "--once", "--state-dir", str(batch.state_dir))
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first == f"jobs of {batch.repo} (state dir {batch.state_dir}; you are in {here})"
    assert all(job_id in done.stdout for job_id in batch.jobs.values())


def test_watch_of_a_state_dir_not_made_yet_says_so(tmp_path: Path) -> None:
    """A repository where no server ran shows why there is nothing, as plain text and as no JSON line."""
    repo = make_repo(tmp_path / "fresh", {"README.md": "fresh\n"})
    table = cli(repo, "watch", "--once")
    lines = cli(repo, "watch", "--json")
    assert (table.returncode, lines.returncode, lines.stdout) == (0, 0, "")
    assert "no state dir at" in table.stdout and "no server has run a job for this repository" in table.stdout


def test_a_torn_last_line_is_not_read_until_it_is_whole(batch: Batch, tmp_path: Path) -> None:
    """Half a line at the end of a running job's journal is neither shown nor lost: once ended, it is read."""
    directory = copied(batch, "holder", tmp_path / "state", running=True)
    events = directory / "events.jsonl"
    whole = events.read_bytes().splitlines(keepends=True)
    last = whole[-1]
    events.write_bytes(b"".join(whole[:-1]) + last[: len(last) // 2])
    board = Board(tmp_path / "state")
    board.look()
    view = board.jobs[0]
    assert view.state == "orphaned" and "unreadable" not in view.doing
    log = cli(batch.repo, "log", view.job_id, "--state-dir", str(tmp_path / "state"))
    assert log.returncode == 0 and "unreadable" not in log.stdout, log.stderr
    with events.open("ab") as journal:
        journal.write(last[len(last) // 2 :])
    board.look()
    assert board.jobs[0].activity is not None and board.jobs[0].activity.last is not None


@pytest.mark.parametrize("request_kept", [True, False])
def test_a_damaged_record_shows_the_job_as_damaged_with_what_its_request_says(
    batch: Batch, tmp_path: Path, request_kept: bool
) -> None:
    """A job.json cut in half makes the job damaged; its label comes from request.json while that is whole."""
    directory = copied(batch, "talker", tmp_path / "state")
    record = directory / "job.json"
    record.write_text(record.read_text()[:40])
    if not request_kept:
        (directory / "request.json").unlink()
    done = cli(batch.repo, "watch", "--json", "--state-dir", str(tmp_path / "state"))
    assert done.returncode == 0, done.stderr
    (job,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert (job["state"], job["label"]) == ("damaged", "talker" if request_kept else "?")
    said = (
        "its record cannot be read (ValidationError); shown from its request"
        if request_kept
        else "neither its record nor its request can be read (FileNotFoundError)"
    )
    assert job["doing"] == said


def test_ten_thousand_jobs_are_listed_newest_first_and_the_table_shows_the_newest_thousand(
    batch: Batch, tmp_path: Path
) -> None:
    """--json lists every job, newest first; the plain table's header says which jobs it shows."""
    template = read_record(batch.state_dir / "jobs" / batch.jobs["talker"] / "job.json")
    jobs = tmp_path / "state" / "jobs"
    for n in range(10_000):
        record = template.model_copy(update={"job_id": f"j-{n:012x}", "queued_at": template.queued_at + n})
        (jobs / record.job_id).mkdir(parents=True)
        (jobs / record.job_id / "job.json").write_text(record.model_dump_json())
    lines = cli(batch.repo, "watch", "--json", "--state-dir", str(tmp_path / "state")).stdout.splitlines()
    table = cli(batch.repo, "watch", "--once", "--state-dir", str(tmp_path / "state")).stdout.splitlines()
    assert len(lines) == 10_000 and json.loads(lines[0])["job_id"] == f"j-{9_999:012x}"
    assert "0 running · 0 queued · 10000 finished" in table[1] and "newest 1000 shown of 10000" in table[1]
    assert len(table) == 3 + 1000 and table[3].startswith(f"j-{9_999:012x}")


def test_a_50_mb_journal_is_caught_up_over_a_few_looks_in_bounded_memory(batch: Batch, tmp_path: Path) -> None:
    """A running job's long journal is read a few slices per look, so the screen keeps answering, and no look holds
    more than a few chunks of it in memory."""
    directory = copied(batch, "holder", tmp_path / "state", running=True)
    events = directory / "events.jsonl"
    lines = events.read_bytes().splitlines(keepends=True)
    body = b"".join(lines)
    with events.open("wb") as journal:
        for _ in range((50 << 20) // len(body) + 1):
            journal.write(body)
    board = Board(tmp_path / "state")
    job_id = board_job(board)
    peaks: list[int] = []
    tracemalloc.start()
    try:
        for _ in range(3):
            tracemalloc.reset_peak()
            board.look()
            peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    size = events.stat().st_size
    first = board.events_read(job_id)
    for _ in range(size // EVENTS_SLICE + 1):
        if board.events_read(job_id) == size:
            break
        board.look()
    assert 0 < first < size // 10 and board.events_read(job_id) == size
    assert max(peaks) < 4 * CHUNK, peaks


def board_job(board: Board) -> str:
    """The one job a board shows, once it has looked."""
    board.look()
    (view,) = board.jobs
    return view.job_id


def test_brackets_in_a_label_a_command_or_a_path_show_as_they_are_and_never_stop_the_screen(
    batch: Batch, tmp_path: Path
) -> None:
    """A label comes from the boss and a command from a model: text that reads as markup is shown literally, in the
    table, the header and the events pane's title, and the screen goes on."""
    directory = copied(batch, "talker", tmp_path / "state")
    label = "[/oops] [bold]x[/bold]"
    record = read_record(directory / "job.json")
    record.request.label = label
    (directory / "job.json").write_text(record.model_dump_json())

    async def look() -> str:
        app = watch_app(tmp_path / "state", tmp_path / "[odd]repo")
        with anyio.fail_after(30):
            async with app.run_test(size=(200, 40)) as pilot:
                await pilot.pause()
                return screen_text(app)

    text = anyio.run(look)
    assert f"{directory.name}  {label}" in text
    assert f"─{directory.name} {label}─" in text
    assert "[odd]repo" in text
