"""The boss-workflow scenarios: the skill as Codex loads it, what it prescribes, and a recovery it teaches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import get_args

from harness import PROJECT_ROOT, make_repo
from pytest_bdd import given, parsers, scenarios, then, when

from codex_subagents.coordination.batch import OverlapResult
from codex_subagents.jobs.models import AlertKind
from codex_under_test import codex_under_test
from world import World, dump

scenarios("boss-workflow.feature")

SKILL = PROJECT_ROOT / "skills" / "codex-subagents"
CODEX = codex_under_test()


def description() -> str:
    """The skill's description, from its front matter."""
    front = (SKILL / "SKILL.md").read_text().split("---")[1]
    return next(
        line.removeprefix("description:").strip() for line in front.splitlines() if line.startswith("description:")
    )


@given("the boss skill is installed in the project's skill directory")
def installed(world: World) -> None:
    """The skill copied where Codex looks for a repository's skills."""
    world.repo = world.repo or make_repo(world.tmp / "repo", {"README.md": "a project\n"})
    shutil.copytree(SKILL, world.path(".agents/skills/codex-subagents"))


@when("Codex starts a session in the project")
def codex_session(world: World) -> None:
    """Run the real Codex CLI in the project, its model scripted to answer at once."""
    world.start_server()
    world.add_script("boss-probe", [{"final": "ok"}])
    instance = world.instance("boss-probe")
    home = world.live.model.prepare_codex_home(world.tmp / "boss-home")
    argv = [str(CODEX), "exec", "--json", "--ephemeral", "--sandbox=read-only", f"--cd={world.path('.')}"]
    run = subprocess.run(
        [*argv, "--model=gpt-5.5", "-"],
        input=f"[script {instance}] Say ok.",
        env={**os.environ, "CODEX_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    world.instances["boss-probe"] = instance


@then(parsers.parse('the skills Codex offers the model include "{name}" with its description'))
def offered(world: World, name: str) -> None:
    """The skill's line in the skills list of the model's instructions."""
    instance = world.instances["boss-probe"]
    (request,) = [r for r in world.live.model.requests if r.script == instance]
    text = json.dumps(request.body)
    assert f"- {name}: {json.dumps(description())[1:-1]}" in text, text[:3000]


@when("the boss skill is read")
def read_skill(world: World) -> None:
    """The skill's whole text, as the model gets it when the skill is used."""
    world.answers["skill"] = {"text": (SKILL / "SKILL.md").read_text()}


@then(parsers.parse('it names "{tools}"'))
def names_tools(world: World, tools: str) -> None:
    """Every tool of the loop is named in backquotes, as a call the boss makes."""
    text = str(world.answers["skill"]["text"])
    missing = [tool for tool in tools.split(", ") if f"`{tool}" not in text]
    assert not missing, missing


@then("it tells the boss to give each worker its own files")
def own_files(world: World) -> None:
    """Disjoint file ownership is the rule of the split."""
    text = str(world.answers["skill"]["text"])
    assert "Give every worker a disjoint set of files it owns" in text
    assert "You own these files and change nothing else" in text


@then("it tells the boss to do the work itself when the task does not split")
def no_fan_out(world: World) -> None:
    """Fanning out is a choice, not the default."""
    text = str(world.answers["skill"]["text"])
    assert "Do it yourself when the task is small" in text, dump(text[:400])


@then("it names every field of the codex_overlaps report and every kind of alert")
def every_field(world: World) -> None:
    """A field the server can fill and the skill never names is a report shape the boss has no step for."""
    text = str(world.answers["skill"]["text"])
    fields = [*OverlapResult.model_fields, *get_args(AlertKind)]
    missing = [field for field in fields if f"`{field}`" not in text]
    assert not missing, missing


@then("it tells the boss to stop and tell the user about a path beyond rollback")
def beyond_rollback_stops(world: World) -> None:
    """The one report no rollback can make clean ends the loop with a message to the user."""
    text = str(world.answers["skill"]["text"])
    line = next(line for line in text.splitlines() if "`beyond_rollback`" in line)
    assert "stop" in line and "tell the user" in line, line
