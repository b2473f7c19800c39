"""P15, the report of a batch: ``codex-subagents report --html`` of a 100-job batch, from reading to the page.

A state dir of finished jobs is written as servers leave it: each job's record,
an events journal of a few dozen lines (its reasoning, shell commands with their
output, patches of a few files, its turns), and for some an alert; the jobs
run in waves of eight over a few minutes and several patch the same files, so
the page draws overlaps and collisions too. The report is made as the command
makes it (choose the batch, read every job, draw, write the page), in a process
that read nothing before, and timed whole; its median and slowest of a few runs
are shown.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import anyio

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.events import Usage
from codex_subagents.jobs.journal import JobRecord, JobRequest
from codex_subagents.jobs.models import Alert, JobResult, timings

from .plan import Plan
from .report import Figure, at_most, info, median
from .world import BenchError, clock

_START = 1_700_000_000.0
_OUTPUT = "line of a command's output\n" * 60
_TIMED = """
import sys, time
from codex_subagents.commands.cli import main
began = time.perf_counter()
code = main(["report", "--html", sys.argv[2], "--state-dir", sys.argv[1], "--since", "0"])
print(time.perf_counter() - began)
sys.exit(code)
"""
"""The command as a person runs it, timed from the command line parsed (the package imported) to the page written."""


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P15 and return its figures and raw timings."""
    state = tmp / "p15-state"
    root = tmp / "p15-repo"
    for number in range(plan.report_jobs):
        _job(state, root, number)
    took: list[float] = []
    whole: list[float] = []
    page = tmp / "p15-report.html"
    for _ in range(plan.report_repeats):
        began = clock()
        done = await anyio.run_process([sys.executable, "-c", _TIMED, str(state), str(page)], check=False)
        whole.append(clock() - began)
        errlog.write(done.stderr.decode(errors="replace"))
        if done.returncode != 0:
            raise BenchError(f"report exited {done.returncode}: {done.stderr[-500:]!r}")
        took.append(float(done.stdout.strip()))
    lanes = page.read_text().count('<g class="lane')
    if lanes != plan.report_jobs:
        raise BenchError(f"the report drew {lanes} lanes for {plan.report_jobs} jobs")
    name = f"report of a {plan.report_jobs}-job batch"
    figures = [
        at_most("P15", f"{name}, median", median(took), 1.0, " s"),
        info("P15", f"{name}, slowest of {len(took)}", max(took), " s"),
        info("P15", "the whole command, Python's start and the package's import included", median(whole), " s"),
        info("P15", "its page", page.stat().st_size / 1024, " KiB", 0),
    ]
    figures[0].note = (
        "in a fresh process with the package imported: choosing the batch, reading every job's record, "
        "events and alerts, drawing and writing the page"
    )
    details: dict[str, object] = {"jobs": plan.report_jobs, "seconds": took, "whole_command_s": whole}
    return figures, {**details, "page_bytes": page.stat().st_size}


def _job(state: Path, root: Path, number: int) -> None:
    """Write job ``number`` of the batch: in wave ``number // 8``, patching three of twenty files."""
    job_id = f"j-{number:012x}"
    queued = _START + 20 * (number // 8) + number % 8
    started, finished = queued + 0.5, queued + 15 + number % 5
    paths = [f"src/module_{(number * 3 + k) % 20}.py" for k in range(3)]
    usage = Usage(input_tokens=20_000 + number, output_tokens=300)
    request = JobRequest(
        prompt="work", cwd=str(root), label=f"part {number}", sandbox="workspace-write",
        wall_timeout_s=600, idle_timeout_s=300, root=str(root),
    )  # fmt: skip
    result = JobResult(
        job_id=job_id, label=request.label, state="succeeded", summary="done", error=None, contract_error=None,
        exit_code=0, modified_files=paths, observed_files=paths, final_message="done", usage=usage,
        timings=timings(queued, started, finished),
    )  # fmt: skip
    record = JobRecord(
        job_id=job_id, request=request, state="succeeded", queued_at=queued, started_at=started, result=result
    )
    directory = layout.job(state, job_id)
    directory.mkdir(parents=True)
    (directory / "job.json").write_text(record.model_dump_json(indent=1))
    lines: list[dict[str, object]] = [{"type": "thread.started", "thread_id": "t"}, {"type": "turn.started"}]
    for step, path in enumerate(paths * 3):
        command = {"id": f"c{step}", "type": "command_execution", "command": "pytest -q", "status": "completed"}
        lines.append({"type": "item.completed", "item": {"id": f"r{step}", "type": "reasoning", "text": "next"}})
        lines.append({"type": "item.completed", "item": {**command, "aggregated_output": _OUTPUT, "exit_code": 0}})
        change = {"path": str(root / path), "kind": "update"}
        lines.append({"type": "item.completed", "item": {"id": f"p{step}", "type": "file_change",
                      "changes": [change], "status": "completed"}})  # fmt: skip
    lines.append({"type": "turn.completed", "usage": usage.model_dump()})
    span = finished - started
    stamped = [{**line, "seq": n, "at": started + span * n / len(lines)} for n, line in enumerate(lines)]
    (directory / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in stamped))
    if number % 8 == 1:
        alert = Alert(kind="collision", path=paths[0], jobs=[f"j-{number - 1:012x}", job_id], seen="worktree",
                      at=started + 3)  # fmt: skip
        (directory / "alerts.jsonl").write_text(alert.model_dump_json() + "\n")
