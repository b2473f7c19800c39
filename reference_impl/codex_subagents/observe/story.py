"""What one job of a batch did and when, read back from its directory: its times, each file touch, alerts, tokens.

A job's events are read once, whole lines only (`tail`), so a journal whose last
line a crash tore reads as the lines before it; a line no server would write is
passed over and counted. A touch carries the time its event was received; a path
the record lists without a time (seen by the server's watch, or named only in the
job's report) is a touch whose time is not known. A record that cannot be read
is replaced by the request written at spawn, and the problem is kept to be shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.paths import git_quoted, relative_to_root
from ..jobs.events import FileChange, ItemEvent, TurnCompleted, Unparsed, Usage
from ..jobs.journal import EVENTS, RECORD, REQUEST, JobRecord, read_alerts, read_record
from ..jobs.models import Alert
from .activity import tokens
from .follow import journal_event
from .tail import LineTail


@dataclass(frozen=True)
class Touch:
    """A path a job touched, from the worktree's top as git quotes it, and when (None: not known)."""

    path: str
    at: float | None


@dataclass
class JobStory:
    """One job of a batch as the report draws it."""

    job_id: str
    record: JobRecord | None
    problem: str | None = None
    """Why the job's record, or part of its journal, cannot be read, if so."""
    touches: list[Touch] = field(default_factory=list[Touch])
    alerts: list[Alert] = field(default_factory=list[Alert])
    usage: Usage | None = None

    @property
    def label(self) -> str:
        """The job's label, or ``?`` when nothing of its record can be read."""
        return self.record.request.label if self.record else "?"

    @property
    def state(self) -> str:
        """The job's state, or ``damaged``."""
        return self.record.state if self.record else "damaged"

    @property
    def queued_at(self) -> float:
        """When the job was queued (0 when nothing of its record can be read)."""
        return self.record.queued_at if self.record else 0.0

    @property
    def started_at(self) -> float | None:
        """When the job started running, if it did."""
        return self.record.started_at if self.record else None

    @property
    def finished_at(self) -> float | None:
        """When the job finished, if it did."""
        result = self.record.result if self.record else None
        return result.timings.finished_at if result else None

    @property
    def end(self) -> float:
        """Where the job's lane ends: when it finished, else its last touch or alert, else when it started."""
        if self.finished_at is not None:
            return self.finished_at
        times = [t.at for t in self.touches if t.at is not None] + [a.at for a in self.alerts]
        return max([self.started_at or self.queued_at, *times])

    @property
    def tokens(self) -> int:
        """The tokens the job used: its result's count once finished, else its last completed turn's."""
        result = self.record.result if self.record else None
        return tokens(result.usage if result and result.usage else self.usage)

    @property
    def files(self) -> list[str]:
        """Every path the job touched, each once, in the order first touched."""
        return list(dict.fromkeys(touch.path for touch in self.touches))


def read_story(directory: Path) -> JobStory:
    """Read one job's directory; a damaged record or journal is a problem the story carries, never raised."""
    story = JobStory(directory.name, None)
    try:
        story.record = read_record(directory / RECORD)
    except (OSError, ValueError) as exc:
        story.problem = f"its record cannot be read ({type(exc).__name__}); shown from its request"
        try:
            story.record = read_record(directory / REQUEST)
        except (OSError, ValueError):
            story.problem = f"neither its record nor its request can be read ({type(exc).__name__})"
            return story
    record = story.record
    root, cwd = Path(record.request.root or record.request.cwd), Path(record.request.cwd)
    named: dict[str, str] = {}

    def from_top(path: str) -> str:
        """A worker's path from the worktree's top, quoted as git quotes it (a job names few paths, often)."""
        if path not in named:
            named[path] = git_quoted(relative_to_root(root, cwd, path) or path)
        return named[path]

    unreadable = 0
    timed: set[str] = set()
    for line in LineTail(directory / EVENTS).read():
        event = journal_event(line)
        if isinstance(event, Unparsed):
            unreadable += 1
        elif isinstance(event, TurnCompleted):
            story.usage = event.usage
        elif isinstance(event, ItemEvent) and event.type == "item.completed" and isinstance(event.item, FileChange):
            for change in event.item.changes:
                path = from_top(change.path)
                story.touches.append(Touch(path, event.at or None))
                timed.add(path)
    result = record.result
    reported = [*result.observed_files, *result.modified_files] if result else []
    untimed = [from_top(path) for path in reported] + record.seen_files
    story.touches += [Touch(path, None) for path in dict.fromkeys(untimed) if path not in timed]
    story.alerts = read_alerts(directory)
    if unreadable:
        lost = f"{unreadable} line(s) of its events cannot be read and are left out"
        story.problem = f"{story.problem}; {lost}" if story.problem else lost
    return story
