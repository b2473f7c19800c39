"""Which jobs make a batch: those queued since a baseline of the worktree was recorded, or in a time range.

A boss following the skill records a baseline, then spawns its workers; the
baseline a person sees named on the watch is the newest one of the worktree. A
batch chosen by a baseline runs from the time it was recorded to the time the
next newer baseline of the same worktree was, and holds the jobs queued in
between that work in that worktree; a batch chosen by times holds every job of
the state dir queued in the range. Without a choice the batch is the latest one:
since the worktree's newest baseline, or every job when it has none. The
rollbacks made in the worktree during the batch come with it.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..core import state_layout as layout
from ..core.errors import ConfigError, GitError
from ..worktree import baselines, rollback_log
from ..worktree.description import BaselineInfo
from ..worktree.location import worktree_at
from ..worktree.rollback_log import Rollback
from .activity import clock
from .story import JobStory, read_story


@dataclass(frozen=True)
class Current:
    """The batch a watch shows: since the worktree's newest baseline (None: it has none), with the rollbacks made
    since then."""

    baseline: BaselineInfo | None = None
    rollbacks: tuple[Rollback, ...] = ()

    @property
    def since(self) -> float:
        """When the batch began: when its baseline was recorded (0: the worktree has none, every job counts)."""
        return self.baseline.created_at if self.baseline else 0.0

    def __str__(self) -> str:
        if self.baseline is None:
            return "none yet"
        return f"{self.baseline.baseline_id} ({clock(self.baseline.created_at)})"


async def current(root: Path) -> Current:
    """The worktree's newest baseline and the rollbacks made since; nothing when git cannot tell."""
    found = await _baselines(root)
    if not found:
        return Current()
    try:
        made = await rollback_log.read(await worktree_at(root))
    except (GitError, OSError):
        made = []
    return Current(found[0], tuple(r for r in made if r.at >= found[0].created_at))


@dataclass(frozen=True)
class Choice:
    """How a person chose the batch: a baseline's id, a time range, or neither (the latest batch)."""

    baseline_id: str | None = None
    since: float | None = None
    until: float | None = None


@dataclass
class Batch:
    """The jobs of one batch, oldest first, with the rollbacks made during it."""

    chosen: str
    """How the batch was chosen, in words, for the page's header."""
    since: float | None
    until: float | None
    jobs: list[JobStory] = field(default_factory=list[JobStory])
    rollbacks: list[Rollback] = field(default_factory=list[Rollback])
    baseline: BaselineInfo | None = None


def moment(text: str) -> float:
    """A time a person typed: epoch seconds, or an ISO 8601 date and time (local time when it names no zone).

    Raises:
        ConfigError: for anything else.
    """
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ConfigError(
            f"{text!r} is not a time; give epoch seconds (1767225600) or an ISO time (2026-01-01T09:30)."
        ) from None


async def select(state_dir: Path, root: Path | None, choice: Choice) -> Batch:
    """The batch ``choice`` names among the jobs of ``state_dir``; ``root`` is the worktree the command runs in.

    Raises:
        ConfigError: for a baseline the worktree does not have, or a range that ends before it starts.
    """
    batch = await _window(root, choice)
    if batch.since is not None and batch.until is not None and batch.until < batch.since:
        raise ConfigError(f"--until ({clock(batch.until)}) is before --since ({clock(batch.since)}); swap them.")
    worktree = root if batch.baseline is not None else None
    batch.jobs = _jobs(state_dir, batch.since, batch.until, worktree)
    if root is not None:
        try:
            made = await rollback_log.read(await worktree_at(root))
        except (GitError, OSError):
            made = []
        end = batch.until if batch.until is not None else max((job.end for job in batch.jobs), default=None)
        batch.rollbacks = [r for r in made if _within(r.at, batch.since, end)]
    return batch


async def _window(root: Path | None, choice: Choice) -> Batch:
    """The times the choice names, and the baseline it names."""
    if choice.baseline_id is None and (choice.since is not None or choice.until is not None):
        since, until = choice.since, choice.until
        words = f"jobs queued {_range(since, until)}"
        return Batch(chosen=words, since=since, until=until)
    found = await _baselines(root) if root is not None else []
    if choice.baseline_id is None:
        if not found:
            return Batch(chosen="every job of the state dir (the worktree has no baseline)", since=None, until=None)
        return _since(found, 0, latest=True)
    for number, info in enumerate(found):
        if info.baseline_id == choice.baseline_id:
            return _since(found, number, latest=False)
    raise ConfigError(_unknown(choice.baseline_id, root, [info.baseline_id for info in found]))


def _since(found: list[BaselineInfo], number: int, *, latest: bool) -> Batch:
    """The batch of ``found[number]`` (newest first): up to the next newer baseline, if there is one."""
    info = found[number]
    until = found[number - 1].created_at if number > 0 else None
    words = "the latest batch: " if latest else ""
    words += f"jobs queued since baseline {info.baseline_id} ({clock(info.created_at)})"
    if until is not None:
        words += f" until baseline {found[number - 1].baseline_id} ({clock(until)})"
    return Batch(chosen=words, since=info.created_at, until=until, baseline=info)


def _unknown(baseline_id: str, root: Path | None, known: list[str]) -> str:
    if root is None:
        return f"No baseline {baseline_id!r}: baselines belong to a worktree; run report inside the repository."
    if not known:
        return f"No baseline {baseline_id!r}: the worktree {root} has none; choose the jobs with --since/--until."
    near = difflib.get_close_matches(baseline_id, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(near)}?" if near else f" Its newest: {', '.join(known[:3])}."
    return f"No baseline {baseline_id!r} in the worktree {root}.{hint}"


async def _baselines(root: Path) -> list[BaselineInfo]:
    """The worktree's baselines, newest first; none when git cannot list them."""
    try:
        return (await baselines.listed(await worktree_at(root))).baselines
    except (GitError, OSError):
        return []


def _jobs(state_dir: Path, since: float | None, until: float | None, worktree: Path | None) -> list[JobStory]:
    """The jobs of the state dir queued in the range (and working in ``worktree``, if given), oldest first.

    A job directory whose files all changed before ``since`` holds no job of the
    range: it is passed over on a ``stat``, so old jobs cost no read.
    """
    jobs = layout.jobs(state_dir)
    try:
        names = sorted(name for name in os.listdir(jobs) if not name.startswith("."))
    except OSError:
        return []
    found: list[JobStory] = []
    for name in names:
        directory = jobs / name
        if since is not None and _last_change(directory) < since:
            continue
        story = read_story(directory)
        if not _within(story.queued_at, since, until) and story.record is not None:
            continue
        if worktree is not None and story.record is not None and not story.record.request.works_in(worktree):
            continue
        found.append(story)
    return sorted(found, key=lambda story: (story.queued_at, story.job_id))


def _last_change(directory: Path) -> float:
    try:
        return max(entry.stat().st_mtime for entry in os.scandir(directory))
    except (OSError, ValueError):
        return float("inf")


def _within(at: float, since: float | None, until: float | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def _range(since: float | None, until: float | None) -> str:
    start = f"from {datetime.fromtimestamp(since).isoformat(' ', 'seconds')}" if since is not None else ""
    end = f"until {datetime.fromtimestamp(until).isoformat(' ', 'seconds')}" if until is not None else ""
    return " ".join(part for part in (start, end) if part)
