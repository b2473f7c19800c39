"""Stop a worker and every process it started: its process group and its descendants.

A worker starts in a new session, so one ``killpg`` reaches most of its tree.
Codex's sandbox runs commands in sessions of their own, so the descendants are
also listed from ``/proc`` before anything is signalled and each is signalled
by pid. A process that has left both the session and the tree (``setsid`` and a
double fork) still carries the job's marker variable in its environment, so
processes carrying it are swept too; only one that also cleared its environment
escapes. The escalation is bounded: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

import anyio
from anyio.abc import Process

logger = logging.getLogger(__name__)


def _stat(pid: int) -> list[str] | None:
    """Return the fields of ``/proc/<pid>/stat`` after the command name, or None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def parent_of(pid: int) -> int | None:
    """Return the parent pid of ``pid``, or None if it is gone."""
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def process_start(pid: int) -> str | None:
    """Return the kernel's start time of ``pid``, to tell it from a later process with the same id."""
    fields = _stat(pid)
    return fields[19] if fields else None


def descendants(pid: int) -> set[int]:
    """Return the pids of every living descendant of ``pid`` (not ``pid`` itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def environment(pid: int) -> list[bytes]:
    """Return the ``NAME=value`` entries ``pid`` was started with, or none if it is gone or not ours to read."""
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def carrying(marker: str) -> set[int]:
    """Return the living processes whose environment holds the entry ``marker`` (``NAME=value``)."""
    entry = marker.encode()
    return alive(
        {int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and entry in environment(int(e.name))}
    )


def alive(pids: set[int]) -> set[int]:
    """Return those of ``pids`` that still exist and are not zombies."""
    return {pid for pid in pids if (fields := _stat(pid)) is not None and fields[0] != "Z"}


async def stop_tree(process: Process, grace: float, marker: str) -> set[int]:
    """Stop ``process``, its group, its descendants and whatever carries ``marker``; return what survived SIGKILL.

    The tree is listed again every few milliseconds while the worker lives, because
    Codex keeps forking (shell snapshots, commands) in process groups of their own;
    every group seen is signalled as a whole. Runs shielded so that a cancelled
    caller still leaves nothing behind.
    """
    survivors: set[int] = set()
    with anyio.CancelScope(shield=True):
        tree: set[int] = set()
        groups: set[int] = set()
        with anyio.move_on_after(grace):
            while process.returncode is None or alive(tree):
                grown = (descendants(process.pid) | carrying(marker)) - tree
                new_groups = ({process.pid} | _groups(grown)) - groups
                _signal(new_groups, grown, signal.SIGTERM)
                tree |= grown
                groups |= new_groups
                await anyio.sleep(0.02)
        tree |= descendants(process.pid) | carrying(marker)
        groups |= _groups(tree)
        _signal(groups, tree, signal.SIGKILL)
        with anyio.move_on_after(grace):
            await process.wait()
        survivors = alive(tree)
        for _ in range(20):
            if not survivors:
                break
            await anyio.sleep(0.05)
            survivors = alive(survivors)
    if survivors:
        logger.warning("worker %d left processes that survived SIGKILL: %s", process.pid, sorted(survivors))
    return survivors


def _groups(pids: set[int]) -> set[int]:
    """The process groups of ``pids``, never the server's own."""
    own = os.getpgrp()
    found: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            found.add(os.getpgid(pid))
    return found - {own}


def _signal(groups: set[int], pids: set[int], signum: signal.Signals) -> None:
    """Send ``signum`` to each process group and each pid, ignoring those already gone."""
    for group in groups:
        with contextlib.suppress(OSError):
            os.killpg(group, signum)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def kill_now(pid: int | None, marker: str) -> None:
    """SIGKILL what is left of a worker: its group, its descendants, itself and whatever carries ``marker``.

    Used after a worker exited on its own (stray children it left behind) and
    after a server restart (``pid`` None when the worker is already gone).
    """
    group: set[int] = set() if pid is None else {pid}
    tree = carrying(marker) | group | (descendants(pid) if pid is not None else set[int]())
    _signal(group, tree, signal.SIGKILL)
