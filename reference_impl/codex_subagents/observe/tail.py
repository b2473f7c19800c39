"""Read what a file a server appends to has gained since the last read: whole lines only, each line once.

A server appends a job's events and alerts one whole line at a time, but a reader
may look between two writes of one batch, or at a tail a crash tore. The reader
keeps the part of a line after the last newline and returns it once the line is
whole, so a half-written line is never parsed. A file that shrank was cut back by
a server repairing a torn tail: the reader goes on from its new end, and what it
returned before stays returned. Reading is in bounded chunks, so a 50 MB journal
costs no more memory than a small one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1 << 20
"""How many bytes one read takes."""
LONGEST_LINE = 8 << 20
"""A part of a line longer than this is dropped rather than kept waiting for its end (no server writes one)."""


class LineTail:
    """The lines appended to one file since the last `read`, from a byte offset that only moves forward."""

    def __init__(self, path: Path, offset: int = 0) -> None:
        self.path = path
        self.offset = offset
        """Where the next read starts: the end of the last whole line returned."""
        self._partial = b""

    def read(self, most: int | None = None) -> Iterator[bytes]:
        """Yield each whole line (without its newline) appended since the last read, up to ``most`` bytes of them.

        A file that does not exist (yet) has no lines.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            if size < self.offset + len(self._partial):
                self.offset, self._partial = size, b""
            budget = size if most is None else min(size, self.offset + len(self._partial) + most)
            while (start := self.offset + len(self._partial)) < budget:
                chunk = os.pread(fd, min(CHUNK, budget - start), start)
                if not chunk:
                    break
                yield from self._lines(chunk)
        finally:
            os.close(fd)

    @property
    def pending(self) -> int:
        """Bytes of a line begun but not yet ended."""
        return len(self._partial)

    def _lines(self, chunk: bytes) -> Iterator[bytes]:
        data = self._partial + chunk
        end = data.rfind(b"\n")
        if end < 0:
            self._partial = data if len(data) <= LONGEST_LINE else b""
            if not self._partial:
                self.offset += len(data)
            return
        self._partial = data[end + 1 :]
        whole = data[: end + 1]
        self.offset += len(whole)
        yield from whole.splitlines()
