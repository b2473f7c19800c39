"""P9, a collision seen live: from the second worker's write of a file to codex_wait_any returning the alert.

Each trial runs in a fresh repository. Worker A writes ``shared.txt`` and then
waits on a model turn held until the bench releases it; once A is waiting, the
boss spawns worker B, which writes ``shared.txt`` too and waits the same way, and
calls codex_wait_any on both at once. The latency is the client's receive time of
the answer minus the file's modification time, B's write (A is held, so nothing
writes the file after B), both on the same wall clock; the time from the server's
read of B's ``item.completed`` line is kept beside it. Both jobs are then
cancelled and their turns released. Three ways to write: a patch after a patch,
a shell command after a shell command, and a shell command after a patch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import anyio
from pydantic import JsonValue

from codex_subagents.scripted_model import Script, ScriptedModel, parse_scripts

from .plan import Plan
from .report import Figure, info, median, percentile
from .world import BenchError, Json, Session, entries, entry, make_repo, number, serving, text

Kind = Literal["patch", "shell"]
_VARIANTS: dict[str, tuple[Kind, Kind]] = {
    "patch": ("patch", "patch"),
    "shell": ("shell", "shell"),
    "shell after a patch": ("patch", "shell"),
}
_WAIT_S = 2.0
"""How long the boss waits: twice the target; an alert not in the answer is counted as missing."""
_TARGET_MS = 1000.0
_WRITES: dict[Kind, tuple[str, str]] = {
    "patch": (
        "*** Begin Patch\n*** Add File: shared.txt\n+from a\n*** End Patch\n",
        "*** Begin Patch\n*** Update File: shared.txt\n@@\n+from b\n*** End Patch\n",
    ),
    "shell": ("printf 'from a\\n' > shared.txt", "printf 'from b\\n' >> shared.txt"),
}


def script(name: str, turns: Sequence[JsonValue]) -> tuple[Script, ...]:
    """A worker script ``name``, selected by the prompt `task` gives it."""
    return parse_scripts({"scripts": {name: {"match": f"[bench {name}]", "turns": list(turns)}}})


def write(kind: Kind, command_or_patch: str) -> dict[str, JsonValue]:
    """A turn that writes by ``apply_patch`` or by a shell command."""
    return {"patch": command_or_patch} if kind == "patch" else {"shell": command_or_patch, "login": False}


def answer(files: Sequence[str], *, hold: bool = False) -> dict[str, JsonValue]:
    """A final turn reporting ``files``, held until released when ``hold``."""
    return {"hold": hold, "final_json": {"summary": "done", "modifiedFiles": list(files)}}


async def spawn_in(session: Session, repo: Path, name: str, label: str = "") -> str:
    """Spawn a worker on script ``name`` in ``repo`` and return its job id."""
    arguments: dict[str, object] = {"prompt": f"[bench {name}] Do the scripted task.", "cwd": str(repo)}
    return text(await session.call("codex_spawn", label=label or name, **arguments), "job_id")


@dataclass
class Trial:
    """One trial: the latency by the file's time and by the event's, or what was seen instead of the alert."""

    latency_s: float | None
    event_s: float | None
    seen: Json


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P9 and return its figures and every trial."""
    trees = tmp / "p9-trees"
    trees.mkdir()
    trials: dict[str, list[Trial]] = {variant: [] for variant in _VARIANTS}
    async with (
        ScriptedModel(()) as model,
        serving(trees, model, tmp / "p9-state", "--cap", "4", errlog=errlog) as session,
    ):
        for n in range(plan.collision_trials):
            for k, (variant, kinds) in enumerate(_VARIANTS.items()):
                trials[variant].append(await _trial(session, model, trees / f"{k}-{n}", kinds))
    figures: list[Figure] = []
    for variant, done in trials.items():
        figures += _figures(variant, done)
    details: dict[str, object] = {
        variant: {
            "latency_s": [t.latency_s for t in done],
            "from_event_s": [t.event_s for t in done],
            "missing": [t.seen for t in done if t.latency_s is None],
        }
        for variant, done in trials.items()
    }
    return figures, {**details, "wait_s": _WAIT_S}


async def _trial(session: Session, model: ScriptedModel, repo: Path, kinds: tuple[Kind, Kind]) -> Trial:
    """Stage one collision in a fresh repository and time the wait's answer from B's write."""
    make_repo(repo)
    first, second = f"p9-{repo.name}-a", f"p9-{repo.name}-b"
    model.add_scripts(script(first, [write(kinds[0], _WRITES[kinds[0]][0]), answer(["shared.txt"], hold=True)]))
    model.add_scripts(script(second, [write(kinds[1], _WRITES[kinds[1]][1]), answer(["shared.txt"], hold=True)]))
    try:
        a = await spawn_in(session, repo, first)
        with anyio.fail_after(60):
            await model.wait_for(lambda request: request.script == first and request.turn == 1)
        b = await spawn_in(session, repo, second)
        reply = await session.call("codex_wait_any", job_ids=[a, b], timeout_s=_WAIT_S)
        received = time.time()
        with anyio.fail_after(60):
            await model.wait_for(lambda request: request.script == second and request.turn == 1)
        written = (repo / "shared.txt").stat().st_mtime_ns / 1e9
        completed = await _write_read_at(session, b)
        for job_id in (a, b):
            await session.call("codex_cancel", job_id=job_id)
    finally:
        model.release(first)
        model.release(second)
    alerts = entries(reply, "alerts")
    collided = any(alert.get("path") == "shared.txt" and alert.get("jobs") == [a, b] for alert in alerts)
    if not collided:
        return Trial(None, None, {"wait": reply, "written_at": written, "received_at": received})
    return Trial(received - written, received - completed, {})


async def _write_read_at(session: Session, job_id: str) -> float:
    """When the server read the ``item.completed`` line of the job's first command or patch."""
    page = await session.call("codex_events", job_id=job_id, cursor=0, limit=100)
    for event in entries(page, "events"):
        item = entry(event, "item") if isinstance(event.get("item"), dict) else {}
        if event.get("type") == "item.completed" and item.get("type") in {"file_change", "command_execution"}:
            return number(event, "at")
    raise BenchError(f"job {job_id} completed no command or patch: {page}")


def _figures(variant: str, trials: list[Trial]) -> list[Figure]:
    """p95 against the target (a miss when any alert failed to arrive), p50, and p95 from the event."""
    ms = 1000.0
    arrived = [t.latency_s for t in trials if t.latency_s is not None]
    from_event = [t.event_s for t in trials if t.event_s is not None]
    missing = len(trials) - len(arrived)
    name = f"{variant}: write → wait-any returns the collision, p95 ({len(trials)} trials)"
    if not arrived:
        shown = f"none within {_WAIT_S * ms:.0f} ms"
        return [Figure("P9", name, _WAIT_S * ms, shown, f"≤ {_TARGET_MS:g} ms", False, _missing(missing))]
    p95 = percentile(arrived, 0.95) * ms
    figure = Figure("P9", name, p95, f"{p95:.0f} ms", f"≤ {_TARGET_MS:g} ms", not missing and p95 <= _TARGET_MS)
    figure.note = _missing(missing) if missing else ""
    return [
        figure,
        info("P9", f"{variant}: the same, p50", median(arrived) * ms, " ms", 0),
        info("P9", f"{variant}: from the server's read of the write, p95", percentile(from_event, 0.95) * ms, " ms", 0),
    ]


def _missing(count: int) -> str:
    return f"{count} trial(s) had no collision alert within {_WAIT_S:g} s (the details list what the wait saw)"
