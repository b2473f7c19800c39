"""What a batch shows across its jobs: the alerts raised, the paths several jobs touched, and the re-runs.

An alert naming several jobs is appended to each one's journal, so the batch's
alerts are gathered once each. Paths are compared as git quotes them, from the
worktree's top. A path's touches are split by the rollbacks that put it back
(`Rollback.undid`: a job that finished before the rollback no longer accounts for
the path), and several jobs in one part make an overlap, kept or undone.

A job is a re-run, by the rule the demo's boss and the skill follow, when either:

- its label is an earlier job's label plus `RERUN_SUFFIX` (it re-runs that job), or
- it was queued after a rollback of the batch and touched a path that rollback
  put back (it re-runs the jobs whose touch of the path the rollback undid).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError
from ..core.paths import git_unquoted
from ..jobs.models import Alert
from ..worktree.rollback_log import Rollback
from .batch import Batch
from .story import JobStory

RERUN_SUFFIX = " (re-run)"


@dataclass(frozen=True)
class Overlap:
    """A path several jobs of the batch touched, between two rollbacks that put it back."""

    path: str
    jobs: tuple[str, ...]
    undone_at: float | None
    """When a rollback put the path back, undoing these jobs' touches; None: their changes are kept."""
    together: bool
    """Whether some two of these jobs ran at the same time (else one after another)."""


@dataclass(frozen=True)
class Rerun:
    """A job that does again what earlier jobs of the batch did, and why it counts as a re-run."""

    job_id: str
    of: tuple[str, ...]
    why: str


def alerts(batch: Batch) -> list[Alert]:
    """Every alert of the batch's jobs, each once, oldest first."""
    seen: dict[tuple[str, str, tuple[str, ...], float], Alert] = {}
    for job in batch.jobs:
        for alert in job.alerts:
            seen.setdefault((alert.kind, alert.path, tuple(alert.jobs), alert.at), alert)
    return sorted(seen.values(), key=lambda alert: alert.at)


def overlaps(batch: Batch) -> list[Overlap]:
    """The paths several jobs touched, in order of path, one entry per part between rollbacks of it."""
    touched: dict[str, list[JobStory]] = {}
    for job in batch.jobs:
        for path in job.files:
            touched.setdefault(path, []).append(job)
    found: list[Overlap] = []
    rollbacks = sorted(batch.rollbacks, key=lambda rollback: rollback.at)
    for path, jobs in sorted(touched.items()):
        if len(jobs) < 2:
            continue
        parts: dict[float | None, list[JobStory]] = {}
        for job in jobs:
            undone = next((r.at for r in rollbacks if r.undid(_plain(path), job.finished_at)), None)
            parts.setdefault(undone, []).append(job)
        for undone, part in parts.items():
            if len(part) > 1:
                ids = tuple(job.job_id for job in part)
                found.append(Overlap(path, ids, undone, _together(part)))
    return found


def reruns(batch: Batch) -> dict[str, Rerun]:
    """The re-runs of the batch, by job id."""
    found: dict[str, Rerun] = {}
    by_label = {job.label: job for job in batch.jobs}
    for job in batch.jobs:
        original = by_label.get(job.label.removesuffix(RERUN_SUFFIX))
        if job.label.endswith(RERUN_SUFFIX) and original is not None and original.queued_at <= job.queued_at:
            found[job.job_id] = Rerun(job.job_id, (original.job_id,), f"its label is {original.label!r}{RERUN_SUFFIX}")
            continue
        for rollback in batch.rollbacks:
            undid = _undid(batch.jobs, rollback, job)
            if rollback.at <= job.queued_at and undid:
                path, earlier = next(iter(undid.items()))
                found[job.job_id] = Rerun(job.job_id, earlier, f"it touched {path} after a rollback put it back")
                break
    return found


def _undid(jobs: list[JobStory], rollback: Rollback, job: JobStory) -> dict[str, tuple[str, ...]]:
    """Each path ``job`` touched that ``rollback`` put back, with the jobs whose touch of it the rollback undid."""
    found: dict[str, tuple[str, ...]] = {}
    for path in job.files:
        earlier = tuple(
            other.job_id
            for other in jobs
            if other is not job and path in other.files and rollback.undid(_plain(path), other.finished_at)
        )
        if earlier:
            found[path] = earlier
    return found


def _together(jobs: list[JobStory]) -> bool:
    """Whether some two of ``jobs`` ran at the same time."""
    latest_end = float("-inf")
    for start, end in sorted((job.started_at or job.queued_at, job.end) for job in jobs):
        if start < latest_end:
            return True
        latest_end = max(latest_end, end)
    return False


def _plain(path: str) -> str:
    """A path as the rollback log names it: unquoted."""
    try:
        return git_unquoted(path)
    except InputError:
        return path
