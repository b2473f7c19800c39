"""Job directories as a server leaves them, written directly: the record, the events journal and the alerts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from codex_subagents.core import state_layout as layout
from codex_subagents.jobs.events import Usage
from codex_subagents.jobs.journal import JobRecord, JobRequest
from codex_subagents.jobs.models import Alert, JobResult, timings

T0 = 1_700_000_000.0
"""2023-11-14T22:13:20Z: the synthetic jobs' times, before their files were written, as a real job's are."""


def finished_job(
    state: Path,
    root: Path,
    job_id: str,
    *,
    label: str,
    queued: float,
    ran: tuple[float, float],
    touches: Sequence[tuple[str, float]] = (),
    seen: Sequence[str] = (),
    alerts: Sequence[Alert] = (),
    tokens: int = 1000,
) -> Path:
    """Write the directory of a job of ``root`` that succeeded: a patch for each ``(path, at)`` touch, the
    ``seen`` paths on its record without a time, and its alerts; return the directory."""
    directory = layout.job(state, job_id)
    directory.mkdir(parents=True)
    started, finished = ran
    usage = Usage(input_tokens=tokens - 10, output_tokens=10)
    request = JobRequest(
        prompt="p",
        cwd=str(root),
        label=label,
        sandbox="workspace-write",
        wall_timeout_s=60,
        idle_timeout_s=60,
        root=str(root),
    )
    paths = [path for path, _ in touches]
    result = JobResult(
        job_id=job_id,
        label=label,
        state="succeeded",
        summary="done",
        error=None,
        contract_error=None,
        exit_code=0,
        modified_files=paths,
        observed_files=paths,
        final_message="done",
        usage=usage,
        timings=timings(queued, started, finished),
    )
    record = JobRecord(
        job_id=job_id, request=request, state="succeeded", queued_at=queued, started_at=started,
        seen_files=list(seen), result=result,
    )  # fmt: skip
    (directory / "job.json").write_text(record.model_dump_json(indent=1))
    (directory / "request.json").write_text(
        record.model_copy(update={"state": "queued", "result": None}).model_dump_json()
    )
    lines: list[dict[str, object]] = [{"type": "thread.started", "thread_id": "t", "seq": 0, "at": started}]
    for number, (path, at) in enumerate(touches):
        change = {"path": str(root / path), "kind": "update"}
        item = {"id": f"item_{number}", "type": "file_change", "status": "completed", "changes": [change]}
        lines.append({"type": "item.completed", "item": item, "seq": len(lines), "at": at})
    lines.append({"type": "turn.completed", "usage": usage.model_dump(), "seq": len(lines), "at": finished})
    (directory / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (directory / "alerts.jsonl").write_text("".join(alert.model_dump_json() + "\n" for alert in alerts))
    return directory


def collision(path: str, jobs: Sequence[str], at: float) -> Alert:
    """A collision on ``path`` between ``jobs``, raised at ``at``."""
    return Alert(kind="collision", path=path, jobs=list(jobs), seen="file_change", at=at)


def story(tmp_path: Path) -> tuple[Path, Path]:
    """The demo's story in a state dir: two jobs collide on greet.py, a third writes the README, a rollback
    puts greet.py back at T0+10, and the first job is re-run."""
    root, state = tmp_path / "repo", tmp_path / "state"
    root.mkdir(exist_ok=True)
    finished_job(
        state, root, "j-docs", label="docs", queued=T0, ran=(T0 + 0.1, T0 + 3), touches=[("README.md", T0 + 2)]
    )
    finished_job(
        state, root, "j-bye", label="goodbye", queued=T0 + 0.2, ran=(T0 + 0.3, T0 + 8), seen=["greet.py"],
        alerts=[collision("greet.py", ["j-shout", "j-bye"], T0 + 6)],
    )  # fmt: skip
    finished_job(
        state, root, "j-shout", label="shout", queued=T0 + 0.4, ran=(T0 + 0.5, T0 + 7), touches=[("greet.py", T0 + 5)],
        alerts=[collision("greet.py", ["j-shout", "j-bye"], T0 + 6)],
    )  # fmt: skip
    finished_job(
        state, root, "j-bye2", label="goodbye (re-run)", queued=T0 + 11, ran=(T0 + 11.1, T0 + 13),
        touches=[("greet.py", T0 + 12)],
    )  # fmt: skip
    return root, state
