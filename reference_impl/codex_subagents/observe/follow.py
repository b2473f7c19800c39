"""One job's events as they are journaled, from its start or from near its end, for a pane or ``log``.

A reader that starts near the end of a long journal starts at a byte offset, so it
drops the line it lands inside of; from then on it sees every line once (`tail`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ..jobs.events import EVENT_ADAPTER, Event, Unparsed, excerpt
from ..jobs.journal import EVENTS
from .activity import clock, words
from .tail import LineTail


class EventReader:
    """The events of one job's journal, each once, in order."""

    def __init__(self, directory: Path, *, last_bytes: int | None = None) -> None:
        """Read from the journal's start, or only its last ``last_bytes`` (whole lines) on."""
        path = directory / EVENTS
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        start = 0 if last_bytes is None else max(0, size - last_bytes)
        self._tail = LineTail(path, start)
        self._mid_line = start > 0 and _byte_before(path, start) != b"\n"

    def events(self) -> Iterator[Event]:
        """The events journaled since the last call."""
        for text in self._tail.read():
            if self._mid_line:
                self._mid_line = False
                continue
            yield journal_event(text)


def journal_event(text: bytes) -> Event:
    """A journal line as its event; a line no server would write is shown as unreadable, never raised."""
    try:
        return EVENT_ADAPTER.validate_json(text)
    except ValueError as exc:
        return Unparsed(reason=f"not a journal line ({type(exc).__name__})", excerpt=excerpt(text), size=len(text))


def event_line(event: Event, root: Path | None = None, cwd: Path | None = None) -> str:
    """An event as one readable line: its time and what it says (paths from the worktree's top ``root``)."""
    said = words(event, root, cwd)
    return f"{clock(event.at)}  {said}" if event.at else f"--:--:--  {said}"


def _byte_before(path: Path, offset: int) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.pread(fd, 1, offset - 1)
    finally:
        os.close(fd)
