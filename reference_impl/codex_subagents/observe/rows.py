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
from .board import Board, JobView

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


def alert_words(alert: Alert, job_id: str) -> str:
    """An alert as one job's row shows it: the symbol and word, the path, and the other jobs named."""
    others = [other for other in alert.jobs if other != job_id]
    return f"{SYMBOLS[alert.kind]} {alert.path}" + (f" with {', '.join(others)}" if others else "")


def flags(view: JobView) -> str:
    """The symbols of the job's alerts after its state, so a narrow screen shows them too."""
    kinds = {alert.kind for alert in view.alerts}
    return "".join(f" {SYMBOLS[kind].split()[0]}" for kind in SYMBOLS if kind in kinds)


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


def row(view: JobView, now: float) -> tuple[str, ...]:
    """The cells of a job's row, in the order of `COLUMNS`."""
    files = view.files
    return (
        view.job_id,
        view.label,
        f"{MARKS.get(view.state, '?')} {view.state}{flags(view)}",
        duration(view.elapsed(now)),
        view.doing,
        f"{len(files)}: {', '.join(list(files)[:3])}{' …' if len(files) > 3 else ''}" if files else "0",
        f"{view.tokens:,}",
        "; ".join(alert_words(alert, view.job_id) for alert in view.alerts),
    )


def header(board: Board, baseline: str | None) -> str:
    """The counts of the jobs, their tokens, the servers alive, and the baseline in use."""
    if board.problem:
        return board.problem
    counts = board.counts()
    total = sum(view.tokens for view in board.jobs)
    return (
        f"{counts['running']} running · {counts['queued']} queued · {counts['finished']} finished · "
        f"{total:,} tokens · {board.servers} server{'s' if board.servers != 1 else ''} · "
        f"baseline {baseline or 'none yet'}"
    )


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


def line(view: JobView, now: float) -> JobLine:
    """A job as a JSON line."""
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
