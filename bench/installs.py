"""P14, the plugin's batch against the by-hand batch: what a worker pays for the way the server was installed.

The demo's story (a real Codex boss, three real Codex workers, a collision and its recovery) runs
in a fresh home once per install, alternating, as a user has it: the plugin added with the Codex CLI
(``codex plugin marketplace add`` this checkout, then ``codex plugin add``; its ``uvx`` runs this
checkout's server), or the server added to ``config.toml`` by hand with the skill copied to
``~/.codex/skills``. Workers read the user's Codex set-up (no ``--isolated``), so whatever of it
reaches them shows: the time from the boss's start to its end, and the worker requests that carry
this server's tools or the boss skill.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import anyio

from codex_subagents.codex_home.skill import SKILL_NAME, packaged_skill
from codex_subagents.commands.demo import BOSS_PROMPT, BossSetup, tell_story

from .plan import Plan
from .report import Figure, at_most, info, median
from .world import CODEX, PROJECT_ROOT, BenchError, clock

_INSTALLS = ("by hand", "plugin")


class _Install:
    """One install in a fresh home; ``started`` is when it handed the boss its environment."""

    def __init__(self, how: str, home: Path) -> None:
        self.how, self.home, self.started = how, home, 0.0

    async def __call__(self, setup: BossSetup) -> Mapping[str, str]:
        codex_home = setup.model.prepare_codex_home(self.home / ".codex")
        command = [sys.executable, "-m", "codex_subagents", "serve", *_serve_options(setup)]
        env = _user_env(self.home)
        if self.how == "plugin":
            uvx = self.home / "bin" / "uvx"
            uvx.write_text(f"#!/bin/sh\nexec {shlex.join(command)}\n")
            uvx.chmod(0o755)
            for argv in (
                ["plugin", "marketplace", "add", str(PROJECT_ROOT)],
                ["plugin", "add", f"{SKILL_NAME}@{SKILL_NAME}"],
            ):
                with anyio.fail_after(120):
                    await anyio.run_process([str(CODEX), *argv], env=env)
        else:
            with (codex_home / "config.toml").open("a") as config:
                config.write(_entry(command))
            shutil.copytree(packaged_skill(), codex_home / "skills" / SKILL_NAME)
        self.started = clock()
        return env


def _user_env(home: Path) -> dict[str, str]:
    """The environment of a user whose home is ``home``, with its ``bin`` first on ``PATH``."""
    (home / "bin").mkdir(parents=True, exist_ok=True)
    inherited = {name: value for name, value in os.environ.items() if name != "CODEX_HOME"}
    return {**inherited, "HOME": str(home), "PATH": os.pathsep.join([str(home / "bin"), os.environ["PATH"]])}


def _serve_options(setup: BossSetup) -> list[str]:
    """The demo's server options, but with workers that read the user's Codex set-up."""
    options = ["--cap", "3", "--allow-root", str(setup.repo), "--state-dir", str(setup.state)]
    for item in (*setup.model.codex_overrides(), "model=gpt-5.5"):
        options += ["--worker-config", item]
    return options


def _entry(command: list[str]) -> str:
    """The ``[mcp_servers]`` table the by-hand set-up documents, starting ``command``."""
    return (
        "\n[mcp_servers.codex-subagents]\n"
        f"command = {json.dumps(command[0])}\n"
        f"args = {json.dumps(command[1:])}\n"
        "required = true\ntool_timeout_sec = 300\nstartup_timeout_sec = 120\n"
        'default_tools_approval_mode = "approve"\n'
    )


async def _story(how: str, workdir: Path) -> tuple[float, int, int]:
    """Run the demo once through ``how``; return the boss's seconds, worker requests, and those carrying ours."""
    install = _Install(how, workdir / "home")
    prompt = (
        BOSS_PROMPT.replace("$codex-subagents", "$codex-subagents:codex-subagents") if how == "plugin" else BOSS_PROMPT
    )
    told: list[str] = []

    def say(kind: str, text: str, *, elapsed: float | None = None) -> None:
        del elapsed
        told.append(f"{kind}: {text}")

    code = await tell_story(CODEX, workdir, say, prompt=prompt, install=install)
    seconds = clock() - install.started
    if code != 0:
        raise BenchError(f"the {how} boss failed: {told[-1] if told else 'no output'}")
    log = [json.loads(line) for line in (workdir / "model-requests.jsonl").read_text().splitlines()]
    workers = [json.dumps(request["body"]) for request in log if request.get("script") not in (None, "boss")]
    carrying = sum("mcp__codex_subagents" in body or "- codex-subagents:" in body for body in workers)
    return seconds, len(workers), carrying


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P14 and return its figures and every run's seconds."""
    del errlog
    seconds: dict[str, list[float]] = {how: [] for how in _INSTALLS}
    requests: dict[str, list[tuple[int, int]]] = {how: [] for how in _INSTALLS}
    for run in range(plan.install_repeats):
        for how in _INSTALLS if run % 2 == 0 else reversed(_INSTALLS):
            took, sent, carrying = await _story(how, tmp / f"p14-{how.replace(' ', '-')}-{run}")
            seconds[how].append(round(took, 2))
            requests[how].append((sent, carrying))
    by_hand, plugin = median(seconds["by hand"]), median(seconds["plugin"])
    carried = {how: sum(c for _, c in runs) for how, runs in requests.items()}
    sent = {how: sum(s for s, _ in runs) for how, runs in requests.items()}
    figures = [
        at_most("P14", "the demo's batch, plugin ÷ by hand", plugin / by_hand, 1.1),
        info("P14", "the demo's batch by hand (median)", by_hand, " s", 1),
        info("P14", "the demo's batch through the plugin (median)", plugin, " s", 1),
        at_most("P14", "worker requests carrying this server's tools or the skill", sum(carried.values()), 0, digits=0),
    ]
    figures[0].note = (
        f"{plan.install_repeats} run(s) of each, alternating; {sent['by hand']} worker requests by hand and "
        f"{sent['plugin']} through the plugin, of which {carried['by hand']} and {carried['plugin']} carried ours"
    )
    return figures, {"seconds": seconds, "requests": requests}
