"""What the tests observe of processes: which are alive, a process's start time and descendants, and which carry a
marker. Read through psutil directly, so a test never trusts the server's own process code to check it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import psutil


def process_start(pid: int) -> float | None:
    """The start time of ``pid``, to tell it from a later process with the same id; None once it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def descendants(pid: int) -> set[int]:
    """The pids of every living descendant of ``pid`` (not ``pid`` itself)."""
    try:
        return {child.pid for child in psutil.Process(pid).children(recursive=True)}
    except psutil.Error:
        return set()


def alive(pids: Iterable[int]) -> set[int]:
    """Those of ``pids`` that still exist and are not zombies."""
    living: set[int] = set()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.add(pid)
    return living


def carrying(marker: str) -> set[int]:
    """The living processes whose readable environment holds the entry ``marker`` (``NAME=value``)."""
    name, _, value = marker.partition("=")
    found: set[int] = set()
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(name) == value:
                found.add(proc.pid)
    return alive(found)
