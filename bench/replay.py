"""A stand-in worker for P4: copy a recorded ``codex exec --json`` stream to stdout as fast as the pipe takes it.

It reads its prompt on stdin like the real CLI; the path of the stream follows the
last ``REPLAY:``. The stream goes out in 64 KiB blocks, so the reader, not this
process, sets the pace.
"""

from __future__ import annotations

import shutil
import sys


def main() -> int:
    """Copy the stream named in the prompt to stdout."""
    path = sys.stdin.read().rsplit("REPLAY:", 1)[1].strip()
    with open(path, "rb") as stream:
        shutil.copyfileobj(stream, sys.stdout.buffer, 1 << 16)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
