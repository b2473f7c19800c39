"""P12 and P13's server stand-in: jobs that stream events into their journals as a server writes them.

Run as ``python -m bench.stream_child STATE_DIR ROOT JOBS RATE``. It takes a server's
lock on the state dir, so the watch sees a live server and its jobs running, writes
each job's record as a server does, prints ``ready``, and then reads commands on
stdin: ``stream SECONDS`` appends events to every job's journal for that long, each
job at ``RATE`` events a second at jittered times (`Journal.append` of the line
`recorded` makes of it, stamped with the time of its write), and prints one JSON
line of the events written, ``[job, number, at]`` each. The end of stdin releases
the lock. Every event names itself by a marker, ``mkJJ-NNNNN``, in the words the
watch shows for it, so a reader of the screen can tell when it appeared.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.framing import to_event
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal, recorded
from codex_subagents.jobs.registry import ServerLock

OUTPUT = "".join(f"tests/test_part_{n}.py::test_case PASSED\n" for n in range(40))
"""A command's output, about 1.6 KB: what a test run prints."""
_LIMIT = 8 << 20


def job_id(job: int) -> str:
    """The id of stream job ``job``."""
    return f"j-stream{job:06d}"


def marker(job: int, number: int) -> str:
    """The words that name event ``number`` of job ``job`` on the screen."""
    return f"mk{job:02d}-{number:05d}"


def codex_line(job: int, number: int, *, marked_paths: bool = True) -> bytes:
    """Event ``number`` of job ``job`` as Codex prints it: a thought, a test run, a patch or a message, in turn; the
    patched path names the event's marker, or with ``marked_paths=False`` is one of twenty files."""
    mark, item_id = marker(job, number), f"i{number}"
    match number % 4:
        case 0:
            item: dict[str, object] = {"type": "reasoning", "text": f"{mark} check the next part of the module"}
        case 1:
            item = {
                "type": "command_execution", "command": f"/bin/bash -lc 'pytest -q -k {mark}'",
                "aggregated_output": OUTPUT, "exit_code": 0, "status": "completed",
            }  # fmt: skip
        case 2:
            path = f"src/{mark}.py" if marked_paths else f"src/part_{number % 20}.py"
            change = {"path": path, "kind": "update"}
            item = {"type": "file_change", "changes": [change], "status": "completed"}
        case _:
            item = {"type": "agent_message", "text": f"{mark} the part passes its tests"}
    return json.dumps({"type": "item.completed", "item": {"id": item_id, **item}}).encode()


def journal_line(job: int, number: int, at: float, *, marked_paths: bool = True) -> bytes:
    """Event ``number`` of job ``job`` as the server journals it, received at ``at``."""
    line = codex_line(job, number, marked_paths=marked_paths)
    event = to_event(line, len(line), _LIMIT, number, at)
    assert event is not None
    return recorded(event, line)


def running(state: Path, root: Path, job: int, server_id: str) -> Journal:
    """Write job ``job``'s request and record as a server does for a job it runs, and return its journal."""
    now = time.time()
    request = JobRequest(
        prompt="stream", cwd=str(root), root=str(root), label=f"streamer {job}", sandbox="workspace-write",
        wall_timeout_s=3600, idle_timeout_s=600,
    )  # fmt: skip
    record = JobRecord(
        job_id=job_id(job), request=request, server_id=server_id, state="running", queued_at=now, started_at=now
    )
    journal = Journal(layout.job(state, record.job_id))
    journal.create(record)
    return journal


def stream(journals: list[Journal], rate: float, seconds: float) -> list[tuple[int, int, float]]:
    """Append events to every journal at ``rate`` a second each, at jittered times, for ``seconds``."""
    began = time.monotonic()
    due = [began + random.uniform(0, 1 / rate) for _ in journals]
    written: list[tuple[int, int, float]] = []
    while True:
        job = min(range(len(journals)), key=due.__getitem__)
        if due[job] - began > seconds:
            return written
        time.sleep(max(0.0, due[job] - time.monotonic()))
        journal, at = journals[job], time.time()
        journal.append(journal_line(job, journal.count, at))
        written.append((job, journal.count - 1, at))
        due[job] += random.uniform(0.5, 1.5) / rate


def main() -> None:
    """Hold a server's lock and its running jobs; stream on command."""
    state, root, jobs, rate = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    lock = ServerLock(state)
    lock.acquire()
    try:
        journals = [running(state, root, job, lock.server_id) for job in range(jobs)]
        print("ready", flush=True)
        for command in sys.stdin:
            written = stream(journals, rate, float(command.split()[1]))
            print(json.dumps(written), flush=True)
    finally:
        lock.release()


if __name__ == "__main__":
    main()
