"""The watch's finished jobs: each look re-checks a rotating slice of them, so a late change to any of them is shown
within a few looks and no look re-reads them all at once."""

from __future__ import annotations

import os
from pathlib import Path

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.events import Usage
from codex_subagents.jobs.journal import JobRecord, JobRequest
from codex_subagents.jobs.models import JobResult, timings
from codex_subagents.observe.board import SETTLED_EVERY, Board

JOBS = 3 * SETTLED_EVERY


def finished(state: Path, number: int, files: list[str]) -> None:
    """Write the record of finished job ``number``, which reports ``files``, replacing it by a rename as servers do."""
    job_id, queued, root = f"j-{number:012x}", 1_700_000_000.0 + number, state.parent / "repo"
    request = JobRequest(
        prompt="work", cwd=str(root), label=f"part {number}", sandbox="workspace-write",
        wall_timeout_s=600, idle_timeout_s=300, root=str(root),
    )  # fmt: skip
    result = JobResult(
        job_id=job_id, label=request.label, state="succeeded", summary="done", error=None, contract_error=None,
        exit_code=0, modified_files=files, observed_files=files, final_message="done",
        usage=Usage(input_tokens=100, output_tokens=10), timings=timings(queued, queued + 1, queued + 5),
    )  # fmt: skip
    record = JobRecord(
        job_id=job_id, request=request, state="succeeded", queued_at=queued, started_at=queued + 1, result=result
    )
    directory = layout.job(state, job_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "job.json.new").write_text(record.model_dump_json())
    os.replace(directory / "job.json.new", directory / "job.json")


def showing_late(board: Board) -> int:
    """How many of the board's jobs show the file ``late.py`` among the files they touched."""
    return sum("late.py" in view.files for view in board.jobs)


def test_a_late_change_to_finished_jobs_is_shown_a_slice_per_look_within_settled_every_looks(tmp_path: Path) -> None:
    """Once every finished job's record gains a file, each look shows it for one more tenth of the jobs, and after
    `SETTLED_EVERY` looks every job shows it, with what it showed before."""
    state = tmp_path / "state"
    for number in range(JOBS):
        finished(state, number, ["a.py"])
    board = Board(state)
    board.look()
    assert showing_late(board) == 0 and all(view.files.keys() == {"a.py"} for view in board.jobs)
    for number in range(JOBS):
        finished(state, number, ["a.py", "late.py"])
    shown: list[int] = []
    for _ in range(SETTLED_EVERY):
        board.look()
        shown.append(showing_late(board))
    assert shown == [JOBS // SETTLED_EVERY * (k + 1) for k in range(SETTLED_EVERY)]
    assert all(view.files.keys() == {"a.py", "late.py"} for view in board.jobs)
    assert board.counts() == {"running": 0, "queued": 0, "finished": JOBS}


def test_jobs_found_later_take_their_own_turns(tmp_path: Path) -> None:
    """Jobs that appear after the first look are spread over the looks too, so their re-checks do not bunch up."""
    state = tmp_path / "state"
    board = Board(state)
    for number in range(JOBS):
        finished(state, number, ["a.py"])
        board.look()
    for number in range(JOBS):
        finished(state, number, ["a.py", "late.py"])
    shown: list[int] = []
    for _ in range(SETTLED_EVERY):
        board.look()
        shown.append(showing_late(board))
    assert shown == [JOBS // SETTLED_EVERY * (k + 1) for k in range(SETTLED_EVERY)]
