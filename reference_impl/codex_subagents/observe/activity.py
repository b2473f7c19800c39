"""What a job's events say of it: what it does right now, the files it touched and when, its tokens.

A job's events are read once each, in order, and folded into an `Activity`; nothing
of them is kept but what the view shows. The same words describe an event in the
view's pane and in ``codex-subagents log``, so a person reads one language.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.paths import git_quoted, relative_to_root
from ..jobs.events import (
    AgentMessage,
    CommandExecution,
    Event,
    FileChange,
    ItemEvent,
    McpToolCall,
    Reasoning,
    StreamError,
    TodoList,
    TurnCompleted,
    TurnFailed,
    Unparsed,
    Usage,
)
from ..jobs.journal import JobRecord

_KINDS = {"add": " (new)", "delete": " (deleted)", "update": ""}
"""What a patch did to a path, after its name: an update goes without saying."""
_CONTROLS = dict.fromkeys((*range(32), *range(127, 160)), "�")
"""Each control character (C0, DEL, C1), as the replacement character."""
_SHORT = 200
"""The most characters of a message or command a line shows."""


@dataclass
class Activity:
    """What the events of one job showed so far."""

    root: Path
    cwd: Path
    under_way: dict[str, str] = field(default_factory=dict[str, str])
    """Each command or patch started and not yet ended, by item id, as `line` words it."""
    last: str | None = None
    """The newest item ended, as `words` words it."""
    files: dict[str, float | None] = field(default_factory=dict[str, float | None])
    """Each path touched, from the worktree's top as git quotes it, with when it was first seen (None: not known)."""
    usage: Usage | None = None

    def add(self, event: Event) -> None:
        """Fold one event in."""
        if isinstance(event, TurnCompleted):
            self.usage = event.usage
        if not isinstance(event, ItemEvent):
            return
        item = event.item
        if event.type == "item.completed":
            self.last = words(event, self.root, self.cwd)
        if isinstance(item, CommandExecution | FileChange):
            if event.type == "item.completed":
                self.under_way.pop(item.id, None)
            else:
                self.under_way[item.id] = words(event, self.root, self.cwd)
        if isinstance(item, FileChange):
            for change in item.changes:
                self.touched(relative_to_root(self.root, self.cwd, change.path) or change.path, event.at)

    def add_record(self, record: JobRecord) -> None:
        """Fold in the paths the record names without a time: the result's (from the job's cwd) and the seen ones."""
        result = record.result
        for path in [*result.observed_files, *result.modified_files] if result else []:
            self.touched(relative_to_root(self.root, self.cwd, path) or path, None)
        for quoted in record.seen_files:
            self.files.setdefault(quoted, None)

    def touched(self, path: str, at: float | None) -> None:
        """Note that the job touched ``path`` (from the worktree's top) at ``at``, unless it was noted before."""
        self.files.setdefault(git_quoted(path), at)

    @property
    def doing(self) -> str:
        """What the job does now: the newest command or patch under way, else what it did last."""
        if self.under_way:
            return next(reversed(self.under_way.values()))
        return self.last or "starting"


def tokens(usage: Usage | None) -> int:
    """The tokens a job used: what the model read and what it wrote."""
    return 0 if usage is None else usage.input_tokens + usage.output_tokens


def words(event: Event, root: Path | None = None, cwd: Path | None = None) -> str:
    """An event in a few words, as a person reads it: ``$ pytest -q``, ``patching a.py``, ``said: done``.

    A patched path is named from the worktree's top ``root`` when the job's ``root`` and ``cwd`` are given.
    """
    if isinstance(event, ItemEvent):
        item, ended = event.item, event.type == "item.completed"
        match item:
            case CommandExecution(command=command, exit_code=code):
                return f"$ {short(unwrapped(command))}" + (f"  (exit {code})" if ended and code is not None else "")
            case FileChange(changes=changes):
                names = ", ".join(_named(change.path, root, cwd) + _KINDS[change.kind] for change in changes)
                return f"{'patched' if ended else 'patching'} {short(names)}"
            case AgentMessage(text=text):
                return f"said: {short(text)}"
            case Reasoning(text=text):
                return f"thinks: {short(text)}"
            case McpToolCall(server=server, tool=tool):
                return f"calls {server}.{tool}"
            case TodoList(items=items):
                return f"plan: {sum(entry.completed for entry in items)} of {len(items)} steps done"
            case _:
                return f"{item.type}"
    if isinstance(event, TurnCompleted):
        return f"turn completed, {tokens(event.usage)} tokens"
    if isinstance(event, TurnFailed):
        return f"turn failed: {short(event.error.message)}"
    if isinstance(event, StreamError):
        return f"error: {short(event.message)}"
    if isinstance(event, Unparsed):
        return f"unreadable line ({event.reason})"
    return event.type.replace(".", " ")


def _named(path: str, root: Path | None, cwd: Path | None) -> str:
    if root is None or cwd is None:
        return path
    return relative_to_root(root, cwd, path) or path


def unwrapped(command: str) -> str:
    """The command a shell was asked to run (``bash -lc 'pytest -q'`` is ``pytest -q``), else the command."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    shells = ("bash", "sh", "zsh", "dash")
    if len(argv) == 3 and argv[0].rsplit("/", 1)[-1] in shells and argv[1] in ("-c", "-lc"):
        return argv[2]
    return command


def clock(at: float) -> str:
    """A time of day in the reader's zone, to the second."""
    return time.strftime("%H:%M:%S", time.localtime(at))


def short(text: str) -> str:
    """One line of at most `_SHORT` characters, with no control character: a worker's command or message printed
    by ``log`` or ``watch --once`` must not be able to move the cursor or retitle the person's terminal."""
    line = printable(" ".join(text.split()))
    return line if len(line) <= _SHORT else line[: _SHORT - 1] + "…"


def printable(text: str) -> str:
    """``text`` with each control character as the replacement character, so it cannot steer the terminal."""
    return text.translate(_CONTROLS)
