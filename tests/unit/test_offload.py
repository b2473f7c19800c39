"""Work run in a child Python process: its result, its typed errors, a child kept ready for the next call, and nothing
left running once it is cancelled or no longer needed."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import anyio
import psutil
import pytest
from pydantic import JsonValue

from codex_subagents.core import git, offload
from codex_subagents.core.errors import BaselineError, InputError, SubagentsError

pytestmark = pytest.mark.anyio

IMPORTED_AT = time.time()
"""When this module was imported: in a child, when the child got ready."""


async def echo(*args: JsonValue) -> JsonValue:
    """Run in the child: return the arguments with the child's pid, niceness and whether it collects garbage."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    return {"args": list(args), "pid": os.getpid(), "nice": nice, "group": session_nice(), "gc": gc.isenabled()}


def session_nice() -> str | None:
    """The nice value of this process's session where Linux schedules sessions as groups (autogroup), else None."""
    autogroup = Path("/proc/self/autogroup")
    return autogroup.read_text().split()[-1] if sys.platform == "linux" and autogroup.exists() else None


async def readiness(variable: str) -> JsonValue:
    """Run in the child: when it imported this module, and what its environment holds for ``variable``."""
    return {"imported_at": IMPORTED_AT, "value": os.environ.get(variable)}


def ready_children() -> set[int]:
    """The pids of this process's living children that are Python children of `offload`."""
    found: set[int] = set()
    for process in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "codex_subagents.core.offload" in " ".join(process.cmdline()) and process.status() != "zombie":
                found.add(process.pid)
    return found


async def fail(kind: str, message: str) -> None:
    """Run in the child: raise the error named ``kind``."""
    raise {"BaselineError": BaselineError, "InputError": InputError, "RuntimeError": RuntimeError}[kind](message)


async def hold(fifo: str) -> None:
    """Run in the child: start a grandchild, write both pids into ``fifo``, then wait for ever."""
    grandchild = await anyio.open_process(["sleep", "600"])
    await anyio.to_thread.run_sync(Path(fifo).write_text, f"{os.getpid()} {grandchild.pid}")
    await anyio.sleep_forever()


def gone(pid: int) -> bool:
    """Whether ``pid`` exits within seconds (a zombie nobody reaps has exited too)."""
    try:
        process = psutil.Process(pid)
        try:
            process.wait(timeout=5)
        except psutil.TimeoutExpired:
            return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
    return True


async def test_a_function_runs_in_another_process_and_its_json_result_comes_back() -> None:
    """Arguments go in as JSON and the result comes back as JSON, from a process that yields the processor.

    The child, which lives for one call and builds only acyclic objects, never runs the cyclic collector.
    """
    with anyio.fail_after(30):
        result = await offload.run(f"{__name__}:echo", "é \udcff", None, [1, 2.5, True])
    assert isinstance(result, dict)
    assert result["args"] == ["é \udcff", None, [1, 2.5, True]]
    assert result["pid"] != os.getpid()
    assert result["nice"] == min(os.getpriority(os.PRIO_PROCESS, 0) + git.NICENESS, 19)
    assert result["group"] in (None, str(git.NICENESS))
    assert result["gc"] is False


@pytest.mark.parametrize("kind", [BaselineError, InputError])
async def test_a_typed_error_raised_in_the_child_is_raised_again_with_its_message(kind: type[Exception]) -> None:
    """The caller catches the same class, with the same message, as if the work had run in its own process."""
    with anyio.fail_after(30), pytest.raises(kind) as caught:
        await offload.run(f"{__name__}:fail", kind.__name__, "No baseline 'b-1'; call codex_baselines.")
    assert (type(caught.value), str(caught.value)) == (kind, "No baseline 'b-1'; call codex_baselines.")


async def test_a_crash_in_the_child_is_reported_with_the_end_of_its_traceback() -> None:
    """An unexpected exception is not lost: the error names the function and quotes what the child printed."""
    with anyio.fail_after(30), pytest.raises(SubagentsError) as caught:
        await offload.run(f"{__name__}:fail", "RuntimeError", "the disk vanished")
    assert type(caught.value) is SubagentsError
    assert f"{__name__}:fail" in str(caught.value)
    assert "RuntimeError: the disk vanished" in str(caught.value)


async def test_a_cancelled_call_kills_the_child_and_the_processes_it_started(tmp_path: Path) -> None:
    """Once the caller gives up, neither the child nor its grandchild runs on."""
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    pids = ""
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(offload.run, f"{__name__}:hold", str(fifo))
            pids = await anyio.to_thread.run_sync(fifo.read_text, abandon_on_cancel=True)
            group.cancel_scope.cancel()
    assert [gone(int(pid)) for pid in pids.split()] == [True, True]


async def test_a_bulk_step_in_a_thread_runs_with_collection_paused_and_resumed_after() -> None:
    """The step returns its result, sees no collector, and the server collects again once it is done."""
    with anyio.fail_after(30):
        seen = await offload.in_thread(lambda text: (text.upper(), gc.isenabled()), "step")
    assert seen == ("STEP", False)
    assert gc.isenabled()


async def test_collection_resumes_only_when_the_last_of_overlapping_steps_ends() -> None:
    """Two steps in two threads: the first to end leaves the collector paused for the other."""
    first_in, second_in, first_go, second_go = (threading.Event() for _ in range(4))
    first_done = anyio.Event()
    during: list[bool] = []

    def step(entered: threading.Event, go: threading.Event) -> None:
        entered.set()
        go.wait(20)

    async def first() -> None:
        await offload.in_thread(step, first_in, first_go)
        first_done.set()

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await anyio.to_thread.run_sync(first_in.wait, 20)
            group.start_soon(offload.in_thread, step, second_in, second_go)
            await anyio.to_thread.run_sync(second_in.wait, 20)
            first_go.set()
            await first_done.wait()
            during.append(gc.isenabled())
            second_go.set()
    assert during == [False]
    assert gc.isenabled()


async def test_a_step_that_fails_resumes_collection_and_a_collector_switched_off_stays_off() -> None:
    """The step's exception reaches the caller; collection is back as it was before, on or off."""

    def broken() -> None:
        raise OSError("disk gone")

    with anyio.fail_after(30), pytest.raises(OSError, match="disk gone"):
        await offload.in_thread(broken)
    assert gc.isenabled()
    gc.disable()
    try:
        with anyio.fail_after(30):
            await offload.in_thread(lambda: None)
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_the_next_call_is_served_by_a_child_that_was_ready_before_it() -> None:
    """While a server keeps a child ready, the interpreter's start and the module's import are paid after a call,
    not inside the next one."""
    offload.discard_ready()
    with anyio.fail_after(30):
        async with offload.ready(f"{__name__}:echo"):
            first = await offload.run(f"{__name__}:echo")
            waiting = ready_children()
            second = await offload.run(f"{__name__}:echo")
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["pid"] not in waiting
    assert isinstance(second["pid"], int)
    assert waiting == {second["pid"]}, "the second call's child was started before it"


async def test_without_a_server_keeping_one_a_call_leaves_no_child_waiting() -> None:
    """A call made outside every `ready` block starts its child and leaves none behind it."""
    offload.discard_ready()
    with anyio.fail_after(30):
        await offload.run(f"{__name__}:echo")
    assert not ready_children()


async def test_a_child_made_ready_before_the_environment_changed_serves_no_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call runs with the caller's environment of now, never one a child inherited earlier."""
    with anyio.fail_after(30):
        async with offload.ready(f"{__name__}:readiness"):
            monkeypatch.setenv("CODEX_SUBAGENTS_TEST_SETTING", "changed")
            began = time.time()
            seen = await offload.run(f"{__name__}:readiness", "CODEX_SUBAGENTS_TEST_SETTING")
    assert isinstance(seen, dict)
    assert seen["value"] == "changed"
    assert isinstance(seen["imported_at"], float) and seen["imported_at"] > began


async def test_a_child_is_kept_ready_while_a_server_runs_and_stopped_when_it_ends() -> None:
    """A server that stops leaves no child waiting for a call."""
    kept: set[int] = set()
    with anyio.fail_after(30):
        async with offload.ready(f"{__name__}:readiness"):
            kept = ready_children()
    assert kept
    assert all(gone(pid) for pid in kept)
    assert not ready_children()


async def test_a_server_that_ends_leaves_the_child_another_server_keeps_ready() -> None:
    """Two servers in one process (an in-memory session beside another): the first to end does not take the
    other's ready child with it; the last one does."""
    with anyio.fail_after(30):
        async with offload.ready(f"{__name__}:echo"):
            async with offload.ready(f"{__name__}:echo"):
                kept = ready_children()
            left = ready_children()
            answer = await offload.run(f"{__name__}:echo")
    assert len(kept) == 1
    assert left == kept
    assert isinstance(answer, dict) and answer["pid"] in kept
    assert not ready_children()


def test_a_child_kept_ready_exits_with_a_server_that_was_killed() -> None:
    """Its standard input closes with the server, whatever killed it, and a child that reads nothing exits."""
    script = (
        "import anyio, os, signal, psutil\n"
        "from codex_subagents.core import offload\n"
        "async def main():\n"
        "    async with offload.ready('json:dumps'):\n"
        "        print(' '.join(str(child.pid) for child in psutil.Process().children()), flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "anyio.run(main)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    pids = [int(pid) for pid in done.stdout.split()]
    assert len(pids) == 1, done.stderr
    assert gone(pids[0])
