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


def _leftovers(basetemp: Path) -> list[str]:
    """Processes still alive that this session started: descendants of pytest, or running in its temp dirs."""
    import psutil

    from processes import alive, descendants

    found: list[str] = []
    mine = alive(descendants(os.getpid()))
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if (proc.pid in mine and "codex" in command) or (str(basetemp) in command and alive({proc.pid})):
            found.append(f"{proc.pid}: {command[:200]}")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any worker, server or child of theirs outlived the tests."""
    del exitstatus
    if hasattr(session.config, "workerinput"):
        return
    basetemp = session.config._tmp_path_factory.getbasetemp()  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType] -- pytest has no public accessor for the base temp dir
    leftovers = _leftovers(Path(str(basetemp)))  # pyright: ignore[reportUnknownArgumentType]
    if leftovers:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nProcesses left behind by the tests:\n" + "\n".join(leftovers), file=sys.stderr)
