"""A running job's journal as a live server writes it, for tests that watch one job change under the screen."""

from __future__ import annotations

import time
from pathlib import Path

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.framing import to_event
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal, recorded
from codex_subagents.jobs.registry import ServerLock


def running_journal(state: Path, lock: ServerLock, job_id: str, label: str, queued_at: float | None = None) -> Journal:
    """The journal of job ``job_id``, which the server holding ``lock`` runs, queued at ``queued_at`` (else now),
    with no event yet: its row says "starting"."""
    root = state.parent / "repo"
    request = JobRequest(
        prompt="work", cwd=str(root), root=str(root), label=label, sandbox="workspace-write",
        wall_timeout_s=600, idle_timeout_s=300,
    )  # fmt: skip
    record = JobRecord(
        job_id=job_id, request=request, server_id=lock.server_id, state="running",
        queued_at=time.time() if queued_at is None else queued_at, started_at=time.time(),
    )  # fmt: skip
    journal = Journal(layout.job(state, record.job_id))
    journal.create(record)
    return journal


def command_started(journal: Journal, command: str) -> None:
    """Append to ``journal`` the event of a command started, as the server journals it."""
    item = f'{{"id":"c1","type":"command_execution","command":"{command}","status":"in_progress"}}'
    line = f'{{"type":"item.started","item":{item}}}'.encode()
    event = to_event(line, len(line), 1 << 20, 0, time.time())
    assert event is not None
    journal.append(recorded(event, line))
