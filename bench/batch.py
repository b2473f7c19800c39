"""P10, work saved by the live warning: worker-seconds spent until the tree is right, with and without it.

A batch of four workers: two write files of their own, and two add a function each
to ``shared.py`` right after ``base()``, so that run together they leave ``two()``
before ``one()`` (the right file has ``base``, ``one``, ``two``). Each worker makes
its edit first, then works (shell ``sleep`` commands of a fixed length, so
worker-seconds mean something) and writes a ``.done`` file of its own last. The
same batch runs three times, each in a fresh repository:

* end-of-batch detection (A2): wait for all, codex_overlaps, roll ``shared.py``
  back, re-run both colliding parts one after the other, each reading
  ``shared.py`` first;
* live warning: on the collision alert the boss cancels the job of the alert it
  spawned last, lets the others finish, then re-runs the cancelled part alone,
  told what changed (it reads ``shared.py``, moves its function after ``one()``
  and does its work);
* live warning with the skill's recovery: the same cancel, then the A2 recovery.

Worker-seconds are the sum of every job's ``timings.run_s`` in that run,
cancelled ones included, until the tree's bytes are right (checked at the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import anyio
from pydantic import JsonValue

from codex_subagents.scripted_model import ScriptedModel

from .collisions import answer, script, spawn_in, write
from .plan import Plan
from .report import Figure, at_least, at_most, info
from .world import BenchError, Session, clock, entries, entry, git, make_repo, number, serving, text

_BASE = "def base():\n    return 0\n"
_ONE = "\n\ndef one():\n    return 1\n"
_TWO = "\n\ndef two():\n    return 2\n"
_WORKERS = ("w1", "c1", "w2", "c2")
"""In spawn order: c2 is spawned last, so it is the one the live boss cancels."""
_RIGHT = {
    "shared.py": _BASE + _ONE + _TWO,
    **{f"{w}.txt": f"{w} part\n" for w in ("w1", "w2")},
    **{f"{w}.done": f"{w} done\n" for w in _WORKERS},
}
_MODES = ("end of batch", "live warning", "live warning, skill's recovery")


def _lines(text: str) -> str:
    return "".join(f"+{line}\n" for line in text.splitlines())


def _context(text: str) -> str:
    return "".join(f" {line}\n" for line in text.splitlines())


def _patch(body: str) -> str:
    return f"*** Begin Patch\n*** Update File: shared.py\n{body}*** End Patch\n"


_EDITS = {
    "c1": _patch(f"@@\n{_context(_BASE)}{_lines(_ONE)}"),
    "c2": _patch(f"@@\n{_context(_BASE)}{_lines(_TWO)}"),
    "c2-again": _patch(f"@@\n{_context(_ONE)}{_lines(_TWO)}"),
    "c2-fix": _patch(f"@@\n{_context(_BASE)}{_lines(_TWO).replace('+', '-')}@@\n{_context(_ONE)}{_lines(_TWO)}"),
}


def _worker(plan: Plan, name: str, part: str, edit: str | None, *, rerun: bool) -> list[JsonValue]:
    """The turns of one part: its edit (its own file, or ``shared.py``), its work, its ``.done`` file, its answer.

    A re-run reads ``shared.py`` before its edit, as a worker told to fix the file would.
    """
    own = f"{part}.txt"
    first = write("patch", edit or f"*** Begin Patch\n*** Add File: {own}\n+{part} part\n*** End Patch\n")
    if name.endswith("-c2"):
        first["hold"] = True  # released once c1 has made its edit: the two edits land in spawn order
    read: list[JsonValue] = [write("shell", "cat shared.py")] if rerun else []
    work: list[JsonValue] = [write("shell", f"sleep {plan.work_s:g}") for _ in range(plan.work_turns - 1)]
    done = write("shell", f"sleep {plan.work_s:g} && printf '%s\\n' '{part} done' > {part}.done")
    return [*read, first, *work, done, answer(["shared.py" if edit else own, f"{part}.done"])]


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P10 and return its figures and each run's jobs and times."""
    trees = tmp / "p10-trees"
    trees.mkdir()
    runs: dict[str, dict[str, object]] = {}
    async with (
        ScriptedModel(()) as model,
        serving(trees, model, tmp / "p10-state", "--cap", "4", errlog=errlog) as session,
    ):
        for k, mode in enumerate(_MODES):
            repo = make_repo(trees / str(k))
            (repo / "shared.py").write_text(_BASE)
            git(repo, "add", "shared.py")
            git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "shared")
            _add_scripts(plan, model, str(k))
            async with anyio.create_task_group() as group:
                group.start_soon(_in_order, model, str(k))
                runs[mode] = await _run(session, repo, str(k), mode)
    spent = {mode: float(str(run["worker_s"])) for mode, run in runs.items()}
    end = spent["end of batch"]
    right = sum(bool(run["right"]) for run in runs.values())
    figures = [
        at_most("P10", "worker-seconds, live warning ÷ end-of-batch detection", spent["live warning"] / end, 1.0),
        at_most("P10", "the same, with the skill's recovery after the cancel", spent[_MODES[2]] / end, 1.0),
        *(info("P10", f"worker-seconds until the tree is right: {mode}", spent[mode], " s", 1) for mode in _MODES),
        at_least("P10", "runs that ended with the right bytes in every file", right, len(_MODES), digits=0),
    ]
    figures[0].note = (
        f"each worker works {plan.work_turns} commands of {plan.work_s:g} s; the right tree is base(), one(), two() "
        "in shared.py and every part's files"
    )
    return figures, {"work_turns": plan.work_turns, "work_s": plan.work_s, "runs": runs}


def _add_scripts(plan: Plan, model: ScriptedModel, tag: str) -> None:
    for part in ("w1", "c1", "w2", "c2", "c1-again", "c2-again", "c2-fix"):
        name = f"p10-{tag}-{part}"
        edit = _EDITS.get(part, _EDITS.get(part[:2]))
        model.add_scripts(script(name, _worker(plan, name, part[:2], edit, rerun=part not in _WORKERS)))


async def _in_order(model: ScriptedModel, tag: str) -> None:
    """Let c2 make its edit once c1 has made its own (c1 asks for its next turn)."""
    with anyio.fail_after(120):
        await model.wait_for(lambda request: request.script == f"p10-{tag}-c1" and request.turn == 1)
    model.release(f"p10-{tag}-c2")


async def _run(session: Session, repo: Path, tag: str, mode: str) -> dict[str, object]:
    """One batch and its recovery; what it cost and whether the tree came out right."""
    began = clock()
    baseline = text(await session.call("codex_baseline", cwd=str(repo), label=mode), "baseline_id")
    jobs = {part: await spawn_in(session, repo, f"p10-{tag}-{part}", part) for part in _WORKERS}
    live = mode != "end of batch"
    alerts, cancelled = await _wait_all(session, list(jobs.values()), cancel=live)
    right_after_batch = _right(repo)
    if mode == "live warning":
        if cancelled != jobs["c2"]:
            raise BenchError(f"the live boss cancelled {cancelled}, not c2 ({jobs['c2']}); alerts: {alerts}")
        jobs["c2-fix"] = await _alone(session, repo, tag, "c2-fix")
    else:
        overlaps = await session.call(
            "codex_overlaps", baseline_id=baseline, job_ids=list(jobs.values()), cwd=str(repo)
        )
        if "shared.py" not in entry(overlaps, "overlaps"):
            raise BenchError(f"codex_overlaps did not find the collision on shared.py: {overlaps}")
        await session.call("codex_rollback", baseline_id=baseline, paths=["shared.py"], cwd=str(repo))
        for part in ("c1-again", "c2-again"):
            jobs[part] = await _alone(session, repo, tag, part)
    run_s = {part: await _run_s(session, job_id) for part, job_id in jobs.items()}
    return {
        "worker_s": round(sum(run_s.values()), 3),
        "run_s": run_s,
        "wall_s": round(clock() - began, 3),
        "alerts": alerts,
        "cancelled": cancelled,
        "right_after_batch": right_after_batch,
        "right": _right(repo),
    }


async def _wait_all(session: Session, job_ids: Sequence[str], *, cancel: bool) -> tuple[list[object], str | None]:
    """Wait until every job is reported; with ``cancel``, cancel the job spawned last in the first collision."""
    pending, alerts, cancelled = set(job_ids), list[object](), None
    while pending:
        reply = await session.call("codex_wait_any", job_ids=list(job_ids), timeout_s=120)
        if reply.get("timed_out"):
            raise BenchError(f"the batch did not finish within 120 s: {reply}")
        for alert in entries(reply, "alerts"):
            alerts.append(alert)
            named = alert.get("jobs")
            if cancel and cancelled is None and alert.get("kind") == "collision" and isinstance(named, list):
                cancelled = max((j for j in job_ids if j in named), key=job_ids.index)
                await session.call("codex_cancel", job_id=cancelled)
        pending -= {text(job, "job_id") for job in entries(reply, "finished")}
    return alerts, cancelled


async def _alone(session: Session, repo: Path, tag: str, part: str) -> str:
    """Run one re-run alone to its end and return its job id."""
    job_id = await spawn_in(session, repo, f"p10-{tag}-{part}", part)
    await session.wait_all([job_id])
    return job_id


async def _run_s(session: Session, job_id: str) -> float:
    result = await session.call("codex_result", job_id=job_id)
    return number(entry(result, "timings"), "run_s")


def _right(repo: Path) -> bool:
    """Whether every file the batch makes holds exactly the right bytes."""
    for name, content in _RIGHT.items():
        path = repo / name
        if not path.is_file() or path.read_text() != content:
            return False
    return True
