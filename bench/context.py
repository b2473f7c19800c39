"""P11, the boss's context stays lean: what the coordination fields add to the tool output of the demo's A2 cycle.

The demo's own boss script (``demo.toml``) is played call by call over a real
session, with the demo's workers, files and cap: a baseline, three spawns, a
wait for each, a result, codex_overlaps, a rollback of the collided file, and the
two re-runs, each waited for. A wait that comes back early with an alert and the
job not finished is called again, as the skill says, and the early answer counts
as added output in full. Each answer's structured content is measured as the
JSON text the server sends (two-space indent), as it is, and again without the
fields the coordination work added; the figure with a target compares the output
now with the cycle's output before (the early answers counted in full), and the
fields' own weight is shown beside it. The cycle the skill teaches now also checks
codex_overlaps again after the re-runs and reads the batch's usage from
codex_status; it is measured the same way, for context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TextIO, cast

import anyio
from pydantic import JsonValue

from codex_subagents.commands import demo
from codex_subagents.scripted_model import ScriptedModel, load_scripts

from .plan import Plan
from .report import Figure, at_most, info
from .world import BenchError, Json, Session, entries, git, serving, text

_SCRIPTS = Path(demo.__file__).with_name("demo.toml")
_ADDED: dict[str, tuple[str, ...]] = {
    "codex_wait_any": ("alerts",),
    "codex_status": ("alerts", "usage"),
    "codex_result": ("out_of_scope",),
    "codex_overlaps": ("in_sequence", "out_of_scope"),
}
"""The fields of each tool's answer that came with overlaps in time, live alerts, scopes and usage totals."""
_PLACEHOLDER = re.compile(r"\{\{output:([\w-]+)\.([\w-]+)\}\}")
_FILES = {"README.md": "# greet\n", "greet.py": 'def hello(name):\n    return f"Hello, {name}!"\n'}
"""The demo's repository, whose scripts patch these very lines."""


class Tally:
    """The bytes of every answer: as given, without the added fields, and as the cycle gave them before.

    Before the added fields, a wait that an alert now ends early did not return then: that answer
    counts in full as added, and only the later one that reports the job counts without its fields.
    """

    def __init__(self) -> None:
        self.full = 0
        self.stripped = 0
        self.before = 0
        self.calls: list[dict[str, object]] = []

    def add(self, tool: str, answer: Json, *, early: bool = False) -> None:
        """Count one answer; an ``early`` one is a wait that returned only because of an alert."""
        lean = {key: value for key, value in answer.items() if key not in _ADDED.get(tool, ())}
        full, stripped = _size(answer), _size(lean)
        self.full += full
        self.stripped += stripped
        self.before += 0 if early else stripped
        self.calls.append({"tool": tool, "bytes": full, "without_fields": stripped, "early": early})

    def more(self, other: Tally) -> Tally:
        """The two tallies as one."""
        both = Tally()
        both.full, both.stripped, both.before = (
            self.full + other.full,
            self.stripped + other.stripped,
            self.before + other.before,
        )
        return both

    @property
    def added(self) -> float:
        """How much the output grew from the cycle before, in percent."""
        return 100.0 * (self.full - self.before) / self.before

    @property
    def fields(self) -> float:
        """How much the added fields alone weigh, in percent of every answer without them."""
        return 100.0 * (self.full - self.stripped) / self.stripped


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P11 and return its figures and every call's size."""
    del plan
    repo = _demo_repo(tmp / "p11-repo")
    scripts = load_scripts([_SCRIPTS])
    (boss,) = [script for script in scripts if script.name == "boss"]
    cycle, after = Tally(), Tally()
    outputs: dict[str, Json] = {}
    job_ids: list[str] = []
    async with (
        ScriptedModel(scripts) as model,
        serving(repo, model, tmp / "p11-state", "--cap", "3", errlog=errlog) as session,
    ):
        for turn in boss.turns:
            for call in turn.calls:
                if call.mcp is None:
                    continue
                arguments = cast("dict[str, object]", _resolve(dict(call.mcp.arguments), outputs))
                answer = await _play(session, call.mcp.name, arguments, cycle)
                outputs[call.id or call.mcp.name] = answer
                job_ids += [text(answer, "job_id")] if call.mcp.name == "codex_spawn" else []
        baseline = text(outputs["base"], "baseline_id")
        after.add("codex_overlaps", await session.call("codex_overlaps", baseline_id=baseline, job_ids=job_ids))
        after.add("codex_status", await session.call("codex_status", job_ids=job_ids))
    whole = cycle.more(after)
    figures = [
        at_most(
            "P11", "what the coordination adds to the tool output of the demo's A2 cycle", cycle.added, 20, " %", 1
        ),
        info("P11", "the added fields alone, over every answer without them", cycle.fields, " %", 1),
        info("P11", "the demo's A2 cycle: tool output now", cycle.full / 1000, " kB", 1),
        info("P11", "the demo's A2 cycle: tool output before", cycle.before / 1000, " kB", 1),
        info("P11", "what it adds, with the skill's check after the re-runs", whole.added, " %", 1),
    ]
    early = sum(bool(call["early"]) for call in cycle.calls)
    figures[0].note = (
        f"{len(cycle.calls)} tool calls, {early} of them a wait an alert ended early; the fields: "
        + ", ".join(f"{tool} {'/'.join(keys)}" for tool, keys in _ADDED.items())
    )
    return figures, {"cycle": cycle.calls, "check_after_re_runs": after.calls}


async def _play(session: Session, tool: str, arguments: dict[str, object], tally: Tally) -> Json:
    """Make one of the boss's calls; a wait answered early by an alert is made again until its job is reported.

    The early answer is the extra one: without alerts the wait would have returned once, when the job finished;
    so is the demo's own second wait for a job, when the first one already reported it.
    """
    waiting = tool == "codex_wait_any"
    answer = await session.call(tool, **arguments)
    with anyio.fail_after(240):
        while waiting and not entries(answer, "finished") and entries(answer, "pending"):
            if answer.get("timed_out"):
                raise BenchError(f"the demo's jobs did not finish: {answer}")
            tally.add(tool, answer, early=True)
            answer = await session.call(tool, **arguments)
    # A wait made again for a job an earlier wait already reported exists only because alerts end waits early.
    tally.add(tool, answer, early=waiting and not entries(answer, "finished"))
    return answer


def _resolve(value: JsonValue, outputs: dict[str, Json]) -> JsonValue:
    """Fill in ``{{output:ID.field}}`` from earlier answers, as the scripted model does for the boss."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole:
            return cast("JsonValue", outputs[whole[1]][whole[2]])
        return _PLACEHOLDER.sub(lambda found: str(outputs[found[1]][found[2]]), value)
    if isinstance(value, list):
        return [_resolve(item, outputs) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, outputs) for key, item in value.items()}
    return value


def _size(answer: Json) -> int:
    """The bytes of the answer as the server writes it in the text content."""
    return len(json.dumps(answer, indent=2, ensure_ascii=False).encode())


def _demo_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    for name, content in _FILES.items():
        (path / name).write_text(content)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "start")
    return path
