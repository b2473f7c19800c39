#!/usr/bin/env python3
"""Run the real Codex CLI and slip extra lines into its JSONL output when the prompt asks for them.

The event-stream scenarios check how the server reads a worker's stdout, and
real Codex never prints a bad line, nor a hundred thousand lines in a test's
time. This wrapper sits between the two: it hands the prompt and the arguments
to the real CLI unchanged, passes every line of its output through, and right
after Codex's first line prints what a marker in the prompt asks for:
``[garble KIND]`` one bad line of a kind in `BAD_LINES`, ``[flood N]`` N valid
agent-message events. Without a marker it changes nothing. The server starts it
as its ``--codex``; the real Codex, the one ``CODEX_SUBAGENTS_CODEX`` names (else the
pinned one), runs in the same process group and is stopped with it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CODEX = (
    os.environ.get("CODEX_SUBAGENTS_CODEX") or Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "codex"
)
# One byte past the server's default limit of 4 MiB per line.
OVERSIZE = 4 * 1024 * 1024 + 1
BAD_LINES = {
    "malformed": b'{"type": "item.completed", "item": ',
    "oversize": b'{"type": "item.completed", "pad": "' + b"x" * (OVERSIZE - 37) + b'"}',
    "binary": b"\xff\xfe\x00\x01 not text",
    "unknown-type": b'{"type": "mystery.event", "detail": 1}',
}


def _message(n: int) -> bytes:
    item = f'{{"id":"flood_{n}","type":"agent_message","text":"line {n}"}}'
    return f'{{"type":"item.completed","item":{item}}}\n'.encode()


def main() -> int:
    """Relay the real Codex, adding the requested lines after its first line of output."""
    prompt = sys.stdin.buffer.read()
    extra = b""
    if garble := re.search(rb"\[garble ([a-z-]+)\]", prompt):
        extra = BAD_LINES[garble.group(1).decode()] + b"\n"
    elif flood := re.search(rb"\[flood (\d+)\]", prompt):
        extra = b"".join(_message(n) for n in range(int(flood.group(1))))
    codex = subprocess.Popen([str(CODEX), *sys.argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert codex.stdin is not None and codex.stdout is not None
    codex.stdin.write(prompt)
    codex.stdin.close()
    out = sys.stdout.buffer
    for line in codex.stdout:
        out.write(line + extra)
        out.flush()
        extra = b""
    return codex.wait()


if __name__ == "__main__":
    sys.exit(main())
