"""Run bulk work away from the event loop: in a child Python process, or in a thread with collection paused.

Work that touches every path of a large worktree (a baseline's ``lstat`` of
each file, the parsing of git's listings, the tree and the signatures it writes)
holds the interpreter lock for seconds, whichever thread runs it, and every
tool call and every worker's stream waits behind it. A child process has an
interpreter of its own (`ready_children` starts it, or has one ready). It gets
the parent's import path and imports only the module its function lives in. It
runs at a lower priority (`lower_priority`, as do the git processes it starts):
its work is bulk, and the server's answers and its workers come first on a busy
machine. Only the function's JSON result comes back, so nothing of size is
parsed again in the server. A `SubagentsError` raised in the child is raised
again in the parent with its class and message. The child runs in a session of
its own, and a cancelled call kills that whole session (the child and the git
processes it started) before it is reaped. The child never runs the cyclic
garbage collector: it lives for one call and builds only acyclic objects.

Per-path steps that stay in the server (a comparison's ``lstat`` of every file,
reading cached signatures) run through `in_thread`, which also pauses the
collector while they run: every collection their allocations would trigger
traverses all their new objects again while holding the interpreter lock, about
a third of such a step in a 100,000-file tree, and a pause of the event loop with it.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from functools import partial
from typing import TypeVar, TypeVarTuple, Unpack

import anyio
from pydantic import JsonValue

from . import ready_children
from .errors import BaselineError, GitError, InputError, SubagentsError
from .git import NICENESS
from .priority import set_session_niceness

_Result = TypeVar("_Result")
_Args = TypeVarTuple("_Args")
_TYPED: dict[str, type[SubagentsError]] = {kind.__name__: kind for kind in (BaselineError, GitError, InputError)}


async def run(function: str, *args: JsonValue) -> JsonValue:
    """Await ``function`` (``"module:name"``) with ``args`` in a child process and return its result; while a `ready`
    block for its module runs, the next child is started at once.

    Raises:
        BaselineError, GitError, InputError: raised in the child, with its message.
        SubagentsError: when the child failed otherwise, with the end of what it printed.
    """
    module = function.partition(":")[0]
    request = json.dumps({"function": function, "args": list(args)}).encode()
    process = await anyio.to_thread.run_sync(ready_children.started, module)
    try:
        out, err = await anyio.to_thread.run_sync(process.communicate, request, abandon_on_cancel=True)
    except BaseException:
        with contextlib.suppress(OSError):  # the thread left behind reaps the child once it is killed
            os.killpg(process.pid, signal.SIGKILL)
        raise
    await anyio.to_thread.run_sync(ready_children.refill, module)
    try:
        reply = json.loads(out)
    except ValueError:
        tail = err.decode(errors="replace").strip()[-2000:] or f"exit code {process.returncode}"
        raise SubagentsError(f"A child process running {function} failed: {tail}") from None
    if "error" in reply:
        raise _TYPED.get(reply["error"], SubagentsError)(reply["message"])
    return reply["result"]


def discard_ready() -> None:
    """Stop every child kept ready (a test run does before it looks for processes its tests left behind)."""
    ready_children.discard()


@contextlib.asynccontextmanager
async def ready(function: str) -> AsyncGenerator[None]:
    """Keep a child ready for ``function`` (``"module:name"``) while the block runs (a server, from its start to its
    end), so that no call of it pays the interpreter's start; the child is stopped when the last such block ends."""
    module = function.partition(":")[0]
    await anyio.to_thread.run_sync(ready_children.hold, module)
    try:
        yield
    finally:
        ready_children.release(module)


async def concurrently(*steps: Callable[[], Awaitable[object]]) -> None:
    """Run ``steps`` at once, as git processes and threads on a machine's cores; the first error any of them
    raises stops the others and is raised as it is, not wrapped in an exception group, so that callers catch it
    by its class."""
    failures: list[Exception] = []
    async with anyio.create_task_group() as group:

        async def one(step: Callable[[], Awaitable[object]]) -> None:
            try:
                await step()
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

        for step in steps:
            group.start_soon(one, step)
    if failures:
        raise failures[0]


async def gathered(steps: Mapping[str, Callable[[], Awaitable[_Result]]]) -> dict[str, _Result]:
    """Run the named ``steps`` at once, as `concurrently` does, and return each one's result by its name."""
    found: dict[str, _Result] = {}

    async def one(name: str) -> None:
        found[name] = await steps[name]()

    await concurrently(*(partial(one, name) for name in steps))
    return found


async def in_thread(function: Callable[[Unpack[_Args]], _Result], *args: *_Args) -> _Result:
    """Run a bulk step of the server (per-path work over a whole worktree) in a worker thread, collection paused."""
    return await anyio.to_thread.run_sync(_uncollected, function, *args)


class _Pause:
    """Pauses the cyclic collector while at least one bulk step runs, whichever threads they run in."""

    lock = threading.Lock()
    holders = 0
    resume = False


def _uncollected(function: Callable[[Unpack[_Args]], _Result], *args: *_Args) -> _Result:
    with _Pause.lock:
        if not _Pause.holders:
            _Pause.resume = gc.isenabled()
            gc.disable()
        _Pause.holders += 1
    try:
        return function(*args)
    finally:
        with _Pause.lock:
            _Pause.holders -= 1
            if not _Pause.holders and _Pause.resume:
                gc.enable()


def lower_priority() -> None:
    """Yield the processor: a higher nice value and, on Linux, the same for this process's session.

    Where Linux shares the processor out between sessions first (`priority`), the child's
    session is its own, so its own nice value alone would leave it competing with the
    server as an equal.
    """
    os.nice(NICENESS)
    set_session_niceness(NICENESS)


def child(module: str) -> int:
    """The child's side: read the import path (the first line on stdin), import ``module``, then read the request
    (the rest), run it and print the reply as JSON. A child kept ready and never used reads nothing and exits."""
    gc.disable()
    path = sys.stdin.buffer.readline()
    if not path:
        return 0
    sys.path[:] = json.loads(path)
    lower_priority()
    loaded = importlib.import_module(module)
    data = sys.stdin.buffer.read()
    if not data:
        return 0
    request = json.loads(data)
    name = str(request["function"]).partition(":")[2]
    function: Callable[..., Awaitable[JsonValue]] = getattr(loaded, name)
    try:
        reply: JsonValue = {"result": anyio.run(function, *request["args"])}
    except SubagentsError as exc:
        reply = {"error": type(exc).__name__, "message": str(exc)}
    sys.stdout.write(json.dumps(reply))
    return 0
