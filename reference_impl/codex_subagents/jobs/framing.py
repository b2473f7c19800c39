"""Cut a worker's stdout into lines, and each line into its event, with memory bounded whatever it prints.

A line longer than the limit is not kept whole: only its first bytes are, and
it becomes an ``unparsed`` event that says how long it was. Blank lines are
dropped.
"""

from __future__ import annotations

from .events import EXCERPT_BYTES as _HEAD_BYTES
from .events import Event, Unparsed, excerpt, parse_line


def oversize(head: bytes, size: int, limit: int, seq: int, at: float) -> Unparsed:
    """Describe a line longer than ``limit`` bytes, of which only ``head`` was kept."""
    return Unparsed(
        reason=f"line size of {size} bytes exceeds the {limit}-byte limit",
        excerpt=excerpt(head),
        size=size,
        seq=seq,
        at=at,
    )


def to_event(line: bytes, size: int, limit: int, seq: int, at: float) -> Event | None:
    """Turn a framed line into its event: `oversize` past ``limit``, None for a blank line."""
    if size > limit:
        return oversize(line, size, limit, seq, at)
    return parse_line(line, seq, at) if line and not line.isspace() else None


class LineFramer:
    """Cut a byte stream into lines, keeping only the first bytes of a line longer than the limit.

    `feed` and `end` return ``(line, size)`` pairs, where ``size`` is the real length of
    the line and ``line`` holds all of it, or only its head when ``size`` exceeds the limit,
    so a worker printing an endless line costs bounded memory.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pending = b""
        self._skipped = 0
        self._head = b""

    def feed(self, chunk: bytes) -> list[tuple[bytes, int]]:
        """Take the next bytes of the stream and return the lines they complete."""
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        framed: list[tuple[bytes, int]] = []
        for line in lines:
            head = (self._head + line)[:_HEAD_BYTES] if self._skipped else line
            size = self._skipped + len(line)
            self._skipped, self._head = 0, b""
            framed.append((head[:_HEAD_BYTES] if size > self.limit else head, size))
        if len(self._pending) > self.limit:
            self._head = (self._head + self._pending)[:_HEAD_BYTES]
            self._skipped += len(self._pending)
            self._pending = b""
        return framed

    def end(self) -> list[tuple[bytes, int]]:
        """Return the last line of a stream that did not end with a newline, if any."""
        return self.feed(b"\n") if self._pending or self._skipped else []
