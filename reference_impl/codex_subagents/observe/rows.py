"""The words the watch shows: one row per job, the header's counts, and an alert as a symbol and a word.

The live screen, the plain table (``--once``) and the JSON lines (``--json``) are
made from these, so the three never disagree. Alerts stand out by a symbol and a
word, never by colour alone: a reader without colour, or a script, sees them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from ..jobs.models import Alert
from .activity import clock, printable
from .batch import Batch, Current
from .board import Board, JobView, story
from .findings import overlaps, reruns

COLUMNS = ("job", "label", "state", "time", "doing now", "files", "tokens", "alerts")
SYMBOLS = {"collision": "⚠ collision", "out_of_scope": "✗ out of scope"}
MARKS = {
    "running": "▶",
    "queued": "…",
    "succeeded": "✓",
    "failed": "✗",
    "cancelled": "■",
    "timed_out": "⏱",
    "interrupted": "↯",
    "orphaned": "⊘",
    "damaged": "‼",
}
"""A mark before each state, so a state reads at a glance without colour."""
WIDEST = 60
"""The most characters a cell of the plain table shows, the alerts aside."""


class JobLine(BaseModel):
    """One job as ``watch --json`` prints it: one JSON object per line."""

    job_id: str
    label: str
    state: str = Field(
        description="A job state, or damaged (its record cannot be read) or orphaned (its server is gone)"
    )
    waiting_for: list[str] | None = Field(description="A queued job's: what it waits for; empty for a free slot")
    elapsed_s: float | None
    doing: str
    files: list[str]
    tokens: int
    alerts: list[Alert]
    findings: list[str] = Field(description="Overlaps with jobs that ran at the same time, and re-runs, in words")


def alert_words(alert: Alert, job_id: str) -> str:
    """An alert as one job's row shows it: the symbol and word, the path, and the other jobs named."""
    others = [other for other in alert.jobs if other != job_id]
    return f"{SYMBOLS[alert.kind]} {printable(alert.path)}" + (f" with {', '.join(others)}" if others else "")


def flags(view: JobView) -> str:
    """The symbols of the job's alerts after its state, so a narrow screen shows them too."""
    kinds = {alert.kind for alert in view.alerts}
    return "".join(f" {SYMBOLS[kind].split()[0]}" for kind in SYMBOLS if kind in kinds)


def alert_line(alert: Alert, job_id: str) -> str:
    """An alert as a line of one job's events: the time it was raised, then its words."""
    return f"{clock(alert.at)}  {alert_words(alert, job_id)}"


def duration(seconds: float | None) -> str:
    """``42s``, ``3m05s``, ``1h02m``; a dash when unknown."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def findings(views: Sequence[JobView], batch: Current) -> dict[str, list[str]]:
    """What the batch's jobs did together, by job, in words: the paths jobs running at the same time both touched
    (an overlap, as `codex_overlaps` would name it, and whether a rollback undid it), and the re-runs."""
    jobs = Batch(chosen="", since=batch.since, until=None, rollbacks=list(batch.rollbacks))
    jobs.jobs = [story(view) for view in reversed(views) if view.queued_at >= batch.since]
    found: dict[str, list[str]] = {}
    for overlap in overlaps(jobs):
        if overlap.together:
            undone = f" (rolled back {clock(overlap.undone_at)})" if overlap.undone_at else ""
            for job_id in overlap.jobs:
                others = _some([other for other in overlap.jobs[:4] if other != job_id][:3], len(overlap.jobs) - 1)
                found.setdefault(job_id, []).append(f"≈ overlap {overlap.path} with {others}{undone}")
    for rerun in reruns(jobs).values():
        found.setdefault(rerun.job_id, []).append(f"↻ re-run of {_some(list(rerun.of[:3]), len(rerun.of))}")
    return found


def _some(first: list[str], count: int) -> str:
    """The first few job ids of ``count``, and how many more."""
    more = count - len(first)
    return ", ".join(first) + (f" and {more} more" if more > 0 else "")


def row(view: JobView, now: float, found: Sequence[str] = ()) -> tuple[str, ...]:
    """The cells of a job's row, in the order of `COLUMNS`; ``found`` is what `findings` says of the job. Control
    characters (in a label a boss chose, a path a worker wrote) are shown as the replacement character, so no
    table of them can steer the person's terminal."""
    files = view.files
    cells = (
        view.job_id,
        view.label,
        f"{MARKS.get(view.state, '?')} {view.state}{flags(view)}",
        duration(view.elapsed(now)),
        view.doing,
        f"{len(files)}: {', '.join(list(files)[:3])}{' …' if len(files) > 3 else ''}" if files else "0",
        f"{view.tokens:,}",
        "; ".join([*(alert_words(alert, view.job_id) for alert in view.alerts), *found]),
    )
    return tuple(map(printable, cells))


def header(board: Board, batch: Current) -> str:
    """The counts of the jobs, their tokens, the servers alive, the baseline in use and the last rollback since."""
    if board.problem:
        return board.problem
    counts = board.counts()
    total = sum(view.tokens for view in board.jobs)
    return (
        f"{counts['running']} running · {counts['queued']} queued · {counts['finished']} finished · "
        f"{total:,} tokens · {board.servers} server{'s' if board.servers != 1 else ''} · "
        f"baseline {batch}{_rolled_back(batch)}"
    )


def _rolled_back(batch: Current) -> str:
    if not batch.rollbacks:
        return ""
    last = batch.rollbacks[-1]
    what = "everything" if last.paths is None else ", ".join(sorted(last.paths)[:3])
    return f" · ↺ rollback {clock(last.at)} of {what}"


def place(board: Board, here: Path | None) -> str:
    """Whose jobs these are: the repository the view was started in, or the ones the jobs ran in when they differ."""
    roots = board.roots()
    where = f"state dir {board.state_dir}"
    if not roots or roots == {here}:
        return f"{here or board.state_dir} ({where})"
    others = sorted(str(root) for root in roots if root != here)
    named = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
    if here in roots:
        return f"{here} ({where}; jobs of {named} too)"
    return f"jobs of {named} ({where}; you are in {here or 'no repository'})"


def line(view: JobView, now: float, found: Sequence[str] = ()) -> JobLine:
    """A job as a JSON line; ``found`` is what `findings` says of the job."""
    elapsed = view.elapsed(now)
    return JobLine(
        job_id=view.job_id,
        label=view.label,
        state=view.state,
        waiting_for=view.waiting_for,
        elapsed_s=None if elapsed is None else round(elapsed, 3),
        doing=view.doing,
        files=list(view.files),
        tokens=view.tokens,
        alerts=view.alerts,
        findings=list(found),
    )


def plain(title: str, rows: Sequence[tuple[str, ...]]) -> str:
    """A table of ``rows`` under ``title`` in plain text, each column as wide as its widest cell up to
    `WIDEST` characters (longer ones are cut), the alerts in full."""
    cells = [COLUMNS, *rows]
    widths = [min(max(len(cell[n]) for cell in cells), WIDEST) for n in range(len(COLUMNS) - 1)]
    lines = [title] + [
        "  ".join([*(_cut(cell, w).ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
        for r in cells
    ]
    return "\n".join(lines) + "\n"


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[: width - 1] + "…"
