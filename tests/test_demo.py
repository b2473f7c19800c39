"""`codex-subagents demo` runs real Codex as the boss and as every worker, and tells the A2 story.

The boss is `codex exec` with this server registered and the skill installed;
its model and the workers' models are the scripted provider. This test reads the
demo's own output and the model's request log, so it proves what Codex really sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import cast

import anyio
import pytest
from pydantic import JsonValue

from boss.discovery import tool_use
from codex_subagents.commands.demo import _printer, run_demo, tell_story  # pyright: ignore[reportPrivateUsage] -- the text form people see
from codex_subagents.core.config import find_codex

pytestmark = pytest.mark.codex


@pytest.fixture(scope="module")
def demo() -> tuple[list[dict[str, object]], Path]:
    """Run the demo once, keeping its directory, and return its JSON lines and that directory."""
    run = subprocess.run(
        [sys.executable, "-m", "codex_subagents", "demo", "--json", "--keep"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    kept = Path(str(lines[-1]["text"]).rsplit(" ", 1)[1])
    return lines, kept.parent


def texts(lines: list[dict[str, object]], kind: str) -> list[str]:
    """The texts of the demo's lines of one kind."""
    return [str(line["text"]) for line in lines if line["kind"] == kind]


def requests(workdir: Path) -> list[dict[str, object]]:
    """The scripted model's request log."""
    return [json.loads(line) for line in (workdir / "model-requests.jsonl").read_text().splitlines()]


def test_the_demo_tells_the_collision_and_recovery_story(demo: tuple[list[dict[str, object]], Path]) -> None:
    """Three workers start, two collide on greet.py, the boss rolls back and re-runs them one at a time."""
    lines, workdir = demo
    boss = texts(lines, "boss")
    assert any(text.startswith("records baseline b-") for text in boss)
    assert sum(text.startswith("spawns worker") for text in boss) == 5
    overlap = next(text for text in boss if text.startswith("compares changes"))
    assert "'greet.py': ['j-" in overlap
    assert "rolls back to the baseline: restored ['greet.py']" in boss
    diff = texts(lines, "diff")[0]
    assert "+def goodbye(name):" in diff and "+def shout(name):" in diff and "+## Usage" in diff
    greet = (workdir / "repo" / "greet.py").read_text()
    assert greet.index("def goodbye") < greet.index("def shout")


def test_the_boss_is_offered_the_skill_and_gets_it_injected(demo: tuple[list[dict[str, object]], Path]) -> None:
    """The boss's requests list the skill, and mentioning $codex-subagents injects its body."""
    _, workdir = demo
    first = next(r for r in requests(workdir) if r["script"] == "boss")
    text = json.dumps(first["body"])
    assert "- codex-subagents: Boss workflow for running several Codex worker agents" in text
    assert "<name>codex-subagents</name>" in text and "The protocol (A2" in text


def test_the_boss_finds_its_tools_with_tool_search_before_calling_them(
    demo: tuple[list[dict[str, object]], Path],
) -> None:
    """Codex defers MCP tools behind tool_search; the boss searches first and calls only tools it found."""
    _, workdir = demo
    last = [r for r in requests(workdir) if r["script"] == "boss"][-1]
    body = last["body"]
    assert isinstance(body, dict)
    use = tool_use(cast("JsonValue", body))
    assert use.searches == 1
    assert "mcp__codex_subagents.codex_rollback" in use.called
    assert use.undiscovered == []


def test_the_boss_calls_reach_the_server_and_its_workers_are_real_codex(
    demo: tuple[list[dict[str, object]], Path],
) -> None:
    """Every job the boss spawned has a journal written by the server, with real Codex thread events."""
    _, workdir = demo
    jobs = sorted((workdir / "state" / "jobs").iterdir())
    assert len(jobs) == 5
    for job in jobs:
        record = json.loads((job / "job.json").read_text())
        assert record["state"] == "succeeded"
        assert (job / "stdout.jsonl").read_text().startswith('{"type":"thread.started"')


def test_a_worker_is_told_it_is_a_worker_and_is_not_offered_the_boss_skill(
    demo: tuple[list[dict[str, object]], Path],
) -> None:
    """Workers get the contract preamble and the output schema, and neither the boss skill nor agent tools."""
    _, workdir = demo
    worker = next(r for r in requests(workdir) if r["script"] == "docs")
    body = worker["body"]
    assert isinstance(body, dict)
    text = json.dumps(body)
    assert "You are a worker agent (job j-" in text
    assert "codex-subagents: Boss workflow" not in text
    assert body["text"]["format"]["schema"]["required"] == ["summary", "modifiedFiles"]
    names = json.dumps(body["tools"])
    assert "spawn_agent" not in names and "multi_agent" not in names


def test_a_real_codex_boss_runs_two_disjoint_workers_without_conflict(tmp_path: Path) -> None:
    """The happy path, with real Codex as the boss: both workers finish and the overlap report is clean."""
    said: list[tuple[str, str]] = []

    def say(kind: str, text: str, *, elapsed: float | None = None) -> None:
        del elapsed
        said.append((kind, text))

    scripts = Path(__file__).parent / "boss" / "happy.toml"
    prompt = "HAPPY-BOSS $codex-subagents Write alpha.txt and beta.txt in parallel."
    code = anyio.run(
        lambda: tell_story(find_codex(), tmp_path, say, scripts=scripts, prompt=prompt, files={"x": "x\n"})
    )
    assert code == 0, said
    assert ("boss", "says: clean=true alpha=alpha.txt") in said
    assert (tmp_path / "repo" / "alpha.txt").read_text() == "alpha\n"
    assert (tmp_path / "repo" / "beta.txt").read_text() == "beta\n"
    last = [r for r in requests(tmp_path) if r["script"] == "boss"][-1]
    assert tool_use(cast("JsonValue", last["body"])).undiscovered == []


def test_the_demo_without_git_says_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No git on PATH: the demo stops before starting anything and says what to install."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run_demo() == 2
    assert "install git" in capsys.readouterr().out


def test_the_demo_without_codex_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Codex CLI that is not there is named, as a JSON line when --json is given."""
    monkeypatch.setenv("CODEX_SUBAGENTS_CODEX", str(tmp_path / "missing-codex"))
    assert run_demo(json_output=True) == 2
    line = json.loads(capsys.readouterr().out)
    assert line["kind"] == "error" and "missing-codex" in line["text"]


def test_the_text_story_stamps_each_line_and_titles_the_diff(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json each line carries its elapsed time, and the diff comes under its own title."""
    say = _printer(False)
    say("boss", "waits", elapsed=1.25)
    say("diff", "+x")
    assert capsys.readouterr().out == "[  1.2s]   boss  waits\n\nThe final change (git diff):\n+x\n"


def test_a_boss_that_fails_is_reported_with_its_last_words(tmp_path: Path) -> None:
    """When the boss's model fails, the story ends with an error and the boss's stderr, and exit code 1."""
    said: list[tuple[str, str]] = []

    def say(kind: str, text: str, *, elapsed: float | None = None) -> None:
        del elapsed
        said.append((kind, text))

    scripts = tmp_path / "failing.toml"
    scripts.write_text('[scripts.boss]\nmatch = "FAILING-BOSS"\n\n[[scripts.boss.turns]]\nfail = "server_error"\n')
    code = anyio.run(
        lambda: tell_story(find_codex(), tmp_path, say, scripts=scripts, prompt="FAILING-BOSS go", files={"x": "x\n"})
    )
    assert code == 1
    assert said[-1][0] == "error" and said[-1][1].startswith("the boss failed; its last words:")
