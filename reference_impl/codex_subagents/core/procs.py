"""Stop a worker and every process it started, through psutil, never touching a process that is not the job's.

A worker starts in a new session, so one ``killpg`` reaches most of its tree.
Codex runs commands in process groups and sessions of their own, so the
descendants and the members of the worker's session are listed before anything
is signalled and each is signalled as well. A process
that has left both the session and the tree (``setsid`` and a double fork)
still carries the job's marker variable in its environment, so processes
carrying it are swept too; only one that also cleared its environment escapes
(on macOS, one whose environment this user may not read escapes the same way).

Every process is held as a `psutil.Process`, which remembers its start time:
psutil refuses to signal it once its pid names another process, and a process
group is signalled only while one of its members is still provably the job's.
A pid recorded by an earlier server counts only when its start time matches.
Scans read every process of the machine, so the async callers run them in a
worker thread. The escalation is bounded: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterable

import anyio
import psutil
from anyio.abc import Process

logger = logging.getLogger(__name__)

_POLL_S = 0.02


def handle(pid: int, start: float | None = None) -> psutil.Process | None:
    """Return the living process ``pid``, or None if it is gone or, given ``start``, started at another time."""
    try:
        proc = psutil.Process(pid)
        if start is not None and proc.create_time() != start:
            return None
    except psutil.Error:
        return None
    return proc


def parent_of(pid: int) -> int | None:
    """Return the parent pid of ``pid``, or None if it is gone."""
    try:
        return psutil.Process(pid).ppid()
    except psutil.Error:
        return None


def environment(pid: int) -> dict[str, str]:
    """Return the environment ``pid`` runs with; empty if it is gone or not this user's to read."""
    try:
        return psutil.Process(pid).environ()
    except psutil.Error:
        return {}


def members(worker: psutil.Process | None, marker: str, known: Iterable[psutil.Process] = ()) -> set[psutil.Process]:
    """Return the job's living processes: its worker, the worker's tree and session, and whatever is marked.

    The worker counts while it is provably the same process; its session counts
    while one process of it is provably the job's (the worker, its tree, a marked
    process, or one of ``known``, seen earlier as the job's). A session keeps its id
    (the worker's pid) reserved as long as any process is in it, so while one
    process that is provably the job's is still in the worker's session, that
    session cannot be a stranger's, even after the worker itself is gone.
    """
    found = set(_carrying(marker))
    if worker is not None and worker.is_running():
        found |= {worker, *_children(worker)}
    if worker is not None and any(_session(proc) == worker.pid for proc in _living({*found, *known})):
        found |= {proc for proc in psutil.process_iter() if _session(proc) == worker.pid}
    return found


def kill_now(worker: psutil.Process | None, marker: str, known: Iterable[psutil.Process] = ()) -> None:
    """SIGKILL what is left of a job: its worker, its tree and session, their groups, the marked and ``known``.

    Used after a worker exited on its own (stray children it left behind, some
    seen in ``known`` while it lived) and after a server restart (``worker`` None
    when the worker is gone). Blocking: async callers run it in a worker thread.
    """
    _signal(members(worker, marker, known) | _living(known), signal.SIGKILL)


async def stop_tree(process: Process, worker: psutil.Process | None, grace: float, marker: str) -> set[int]:
    """Stop ``process``, its groups, its descendants and whatever carries ``marker``; return what survived SIGKILL.

    ``worker`` is ``process`` as psutil sees it. Everything of the job is first
    frozen (SIGSTOP) until a listing finds nothing new, so that no process can
    be forked unseen while the worker that proves its session dies; then all of
    it gets SIGTERM and is let go on. The tree is listed again every few
    milliseconds while the worker lives, because Codex keeps forking (shell
    snapshots, commands) in process groups of their own; each newcomer and its
    group get SIGTERM once. Runs shielded so that a cancelled caller still leaves
    nothing behind.
    """
    seen: set[psutil.Process] = set()
    survivors: set[psutil.Process] = set()

    def freeze_newcomers() -> bool:
        grown = members(worker, marker, seen) - seen
        _signal(grown, signal.SIGSTOP)
        seen.update(grown)
        return bool(grown)

    def terminate_frozen() -> None:
        _signal(seen, signal.SIGTERM)
        _signal(seen, signal.SIGCONT)

    def terminate_newcomers() -> bool:
        grown = members(worker, marker, seen) - seen
        _signal(grown, signal.SIGTERM)
        seen.update(grown)
        return bool(_living(seen))

    def kill_all() -> None:
        seen.update(members(worker, marker, seen))
        _signal(seen, signal.SIGKILL)

    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(grace):
            while await anyio.to_thread.run_sync(freeze_newcomers):
                pass
        await anyio.to_thread.run_sync(terminate_frozen)
        with anyio.move_on_after(grace):
            # No event announces another process's fork or exit: the process table is polled.
            while await anyio.to_thread.run_sync(terminate_newcomers) or process.returncode is None:  # noqa: ASYNC110
                await anyio.sleep(_POLL_S)
        await anyio.to_thread.run_sync(kill_all)
        with anyio.move_on_after(grace):
            await process.wait()
        survivors = await anyio.to_thread.run_sync(_living, seen)
        for _ in range(20):
            if not survivors:
                break
            await anyio.sleep(0.05)
            survivors = await anyio.to_thread.run_sync(_living, survivors)
    left = {proc.pid for proc in survivors}
    if left:
        logger.warning("worker %d left processes that survived SIGKILL: %s", process.pid, sorted(left))
    return left


def _children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return proc.children(recursive=True)
    except psutil.Error:
        return []


def _session(proc: psutil.Process) -> int | None:
    try:
        return os.getsid(proc.pid)
    except OSError:
        return None


def _carrying(marker: str) -> list[psutil.Process]:
    """The processes whose readable environment holds ``marker``; others' processes are skipped unread."""
    name, _, value = marker.partition("=")
    found: list[psutil.Process] = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if proc.environ().get(name) == value:
                found.append(proc)
    return found


def _living(procs: Iterable[psutil.Process]) -> set[psutil.Process]:
    """Those of ``procs`` still running as the same process and not zombies."""
    living: set[psutil.Process] = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                living.add(proc)
    return living


def _signal(procs: Iterable[psutil.Process], signum: signal.Signals) -> None:
    """Send ``signum`` to each process and to each group one of them provably belongs to, never the server's own."""
    targets = list(procs)
    groups: set[int] = set()
    for proc in targets:
        with contextlib.suppress(psutil.Error, OSError):
            if proc.is_running():
                groups.add(os.getpgid(proc.pid))
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(OSError):
            os.killpg(group, signum)
    for proc in targets:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signum)
