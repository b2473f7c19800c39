"""Child Python processes for `offload.run`, one kept ready per module, so that a call pays no interpreter start.

A child is started with an exec (no fork, so macOS and Linux behave alike), in a
session of its own, and imports the module its function lives in before it reads
its request: the interpreter's start and those imports (a fifth of a second, most
of what a first baseline of a large worktree costs beyond git's own work) are
paid before the call when a child was kept ready. A child is kept ready for a
module while at least one holder wants it (a server from its start to its end):
the end of one holder leaves the others' child in place. A ready child only
waits on its standard input and exits when that closes, so one left behind by a
server that died exits with it. A ready child serves a call only if the import
path, environment and working directory are still those it was started with, so
that no call runs with settings older than the caller's.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import NamedTuple

_START = """
import sys
sys.path.insert(0, sys.argv[1])
from codex_subagents.core.offload import child
sys.exit(child(sys.argv[2]))
"""


class _Context(NamedTuple):
    """What a child inherits that a later call may have changed."""

    path: tuple[str, ...]
    environment: tuple[tuple[str, str], ...]
    cwd: str


class _Ready(NamedTuple):
    process: subprocess.Popen[bytes]
    context: _Context


_lock = threading.Lock()
_ready: dict[str, _Ready] = {}
_holders: Counter[str] = Counter()


def started(module: str) -> subprocess.Popen[bytes]:
    """A child for ``module``: the one kept ready, if it still waits and the caller's context is the same, else a
    new one. The caller writes its request to the child's standard input and reaps it."""
    context = _context()
    with _lock:
        ready = _ready.pop(module, None)
    if ready and ready.context == context and ready.process.poll() is None:
        return ready.process
    if ready:
        stop(ready.process)
    return _start(module)


def hold(module: str) -> None:
    """Want a child kept ready for ``module`` from now on, and start it."""
    with _lock:
        _holders[module] += 1
    refill(module)


def release(module: str) -> None:
    """Want no child for ``module`` any longer; the last holder to go stops the child kept ready."""
    with _lock:
        _holders[module] -= 1
        ready = None if _holders[module] else _ready.pop(module, None)
        if not _holders[module]:
            del _holders[module]
    if ready:
        stop(ready.process)


def refill(module: str) -> None:
    """Start a child for ``module`` to serve the next call, if a holder wants one; it replaces any kept before."""
    with _lock:
        if not _holders[module]:
            return
    process = _start(module)
    with _lock:
        held = _holders[module] > 0
        previous = _ready.pop(module, None)
        if held:
            _ready[module] = _Ready(process, _context())
    for unwanted in (previous.process if previous else None, None if held else process):
        if unwanted:
            stop(unwanted)


def discard() -> None:
    """Stop every child kept ready (before the caller checks that none of its processes outlived it)."""
    with _lock:
        kept = [ready.process for ready in _ready.values()]
        _ready.clear()
    for process in kept:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole session (the git processes it started too) and reap it."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _start(module: str) -> subprocess.Popen[bytes]:
    """Start a child that imports ``module``; the import path goes first on its standard input, one line of JSON,
    not on its command line, which anyone may read."""
    command = [sys.executable, "-P", "-c", _START, str(Path(__file__).parents[2]), module]
    pipe = subprocess.PIPE
    process = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=pipe, start_new_session=True)
    assert process.stdin is not None
    process.stdin.write(json.dumps(sys.path).encode() + b"\n")
    process.stdin.flush()
    return process


def _context() -> _Context:
    return _Context(tuple(sys.path), tuple(sorted(os.environ.items())), os.getcwd())


atexit.register(discard)
