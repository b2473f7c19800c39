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

from ..jobs.events import Unparsed, Usage
from ..jobs.journal import EVENTS, RECORD, REQUEST, JobRecord, read_alerts, read_record
from ..jobs.models import Alert
from .activity import Activity, tokens
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


def record_or_request(directory: Path) -> tuple[JobRecord | None, str | None]:
    """A job's record and why it is not the whole truth, if so: the request written at spawn stands in for a
    record not written yet (no problem) or one that cannot be read (its problem said); None when neither can."""
    try:
        return read_record(directory / RECORD), None
    except FileNotFoundError:
        problem = None
    except (OSError, ValueError) as exc:
        problem = f"its record cannot be read ({type(exc).__name__}); shown from its request"
    try:
        return read_record(directory / REQUEST), problem
    except (OSError, ValueError) as exc:
        return None, f"neither its record nor its request can be read ({type(exc).__name__})"


def read_story(directory: Path) -> JobStory:
    """Read one job's directory; a damaged record or journal is a problem the story carries, never raised."""
    story = JobStory(directory.name, None)
    story.record, story.problem = record_or_request(directory)
    record = story.record
    if record is None:
        return story
    activity = Activity(Path(record.request.root or record.request.cwd), Path(record.request.cwd))
    unreadable = 0
    for line in LineTail(directory / EVENTS).read():
        event = journal_event(line)
        unreadable += isinstance(event, Unparsed)
        activity.add(event)
    activity.add_record(record)
    story.touches = [Touch(path, at) for path, at in activity.files.items()]
    story.usage = activity.usage
    story.alerts = read_alerts(directory)
    if unreadable:
        lost = f"{unreadable} line(s) of its events cannot be read and are left out"
        story.problem = f"{story.problem}; {lost}" if story.problem else lost
    return story
