"""Fixtures shared by every test: the async backend and the project's paths."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the backend the MCP SDK and Codex's stdio client use."""
    return "asyncio"


@pytest.fixture
def idle_status() -> dict[str, object]:
    """What ``codex_status`` answers on a fresh server with the default cap, whichever client asks."""
    return {
        "jobs": [],
        "running": 0,
        "queued": 0,
        "cap": 4,
        "damaged": [],
        "alerts": [],
        "usage": None,
        "elsewhere": {},
    }


def _leftovers(basetemp: Path, *, mine: bool = True) -> list[str]:
    """Processes still alive that this session started: descendants of pytest, or running in its temp dirs.

    Without ``mine``, only those in the temp dirs: the descendants of an xdist controller are its workers.
    """
    import psutil

    from processes import alive, descendants

    found: list[str] = []
    children = alive(descendants(os.getpid())) if mine else set[int]()
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if (proc.pid in children and "codex" in command) or (str(basetemp) in command and alive({proc.pid})):
            found.append(f"{proc.pid}: {command[:200]}")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any worker, server or child of theirs outlived the tests.

    Under pytest-xdist each test process looks for what its own tests left (the xdist workers report theirs to
    the controller in their ``workeroutput``), and the controller adds any process still running in the temp dirs.
    """
    del exitstatus
    from codex_subagents.core import offload

    offload.discard_ready()  # the child kept ready for the next baseline is the tests' own, not a leftover
    basetemp = Path(str(session.config._tmp_path_factory.getbasetemp()))  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownArgumentType] -- pytest has no public accessor for the base temp dir
    workeroutput: dict[str, object] | None = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["leftovers"] = _leftovers(basetemp)
        return
    workers: list[str] = session.config.stash.get(_WORKERS_LEFTOVERS, list[str]())
    here = _leftovers(basetemp, mine=not session.config.pluginmanager.has_plugin("dsession"))
    leftovers = list(dict.fromkeys([*workers, *here]))
    if leftovers:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nProcesses left behind by the tests:\n" + "\n".join(leftovers), file=sys.stderr)


_WORKERS_LEFTOVERS = pytest.StashKey[list[str]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Keep what an xdist worker found its tests left behind, for the controller's check at the end of the run."""
    del error
    output: dict[str, object] = getattr(node, "workeroutput", {})
    found = output.get("leftovers", [])
    config: pytest.Config = getattr(node, "config")  # noqa: B009 -- xdist's WorkerController is untyped
    assert isinstance(found, list)
    config.stash.setdefault(_WORKERS_LEFTOVERS, []).extend(str(line) for line in found)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType] -- a JSON list from the worker
