"""The step library shared by every feature: a repository, the server, worker scripts and the boss's calls.

Each scenario gets a `World`: a temporary git repository, a scripted model and a
real stdio session to ``codex-subagents serve`` whose workers are the real Codex
CLI. Worker scripts are written from the step's words into the model's scripts
(see ``features/scripts/`` for the larger, hand-written ones), and each worker's
prompt carries the marker ``[script NAME]`` that selects its script.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from harness import Boss, Json, boss_session, git, make_repo
from pytest_bdd import given, parsers, then, when

from _pending import apply_tag, register_markers
from codex_subagents.scripted_model import parse_scripts


def pytest_configure(config: pytest.Config) -> None:
    """Register the tags the features use."""
    register_markers(config)


def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> bool | None:
    """Turn @pending into a strict expected failure and @req into a marker."""
    return apply_tag(tag, function)


@dataclass
class World:
    """What one scenario has built so far."""

    tmp: Path
    stack: ExitStack
    repo: Path | None = None
    boss: Boss | None = None
    server_args: list[str] = field(default_factory=list[str])
    jobs: dict[str, str] = field(default_factory=dict[str, str])
    contents: dict[str, str] = field(default_factory=dict[str, str])
    baseline: str | None = None
    answers: dict[str, Json] = field(default_factory=dict[str, Json])
    error: str | None = None
    reruns: dict[str, int] = field(default_factory=dict[str, int])

    @property
    def live(self) -> Boss:
        """The boss's session; the scenario must have started the server."""
        assert self.boss is not None, "start the server first"
        return self.boss

    def path(self, name: str) -> Path:
        """A path in the repository."""
        assert self.repo is not None, "create the repository first"
        return self.repo / name

    def add_script(self, name: str, turns: list[Json]) -> None:
        """Serve a worker script ``name``; its prompt marker is ``[script NAME]``."""
        scripts = parse_scripts({"scripts": {name: {"match": f"[script {name}]", "turns": turns}}})
        self.live.model.add_scripts(scripts)

    def start_server(self, *extra: str) -> None:
        """Start the scripted model and the server on the repository."""
        assert self.repo is not None, "create the repository first"
        self.boss = self.stack.enter_context(boss_session(self.repo, self.tmp / "state", *self.server_args, *extra))

    def job(self, name: str) -> str:
        """The job id of the worker that ran script ``name``."""
        return self.jobs[name]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A fresh world, torn down (server stopped, workers ended) after the scenario."""
    with ExitStack() as stack:
        yield World(tmp=tmp_path, stack=stack)


def names(text: str) -> list[str]:
    """Split a step's comma-separated list of names."""
    return [part.strip() for part in text.split(",") if part.strip()]


def final(files: list[str], summary: str = "done") -> Json:
    """A turn that ends the worker with its contract report."""
    return {"final_json": {"summary": summary, "modifiedFiles": files}}


def write_patch(world: World, file: str, text: str) -> str:
    """An apply_patch that makes ``file`` hold exactly ``text`` (one line)."""
    target = world.path(file)
    if target.exists():
        old = "".join(f"-{line}\n" for line in target.read_text().splitlines())
        return f"*** Begin Patch\n*** Update File: {file}\n@@\n{old}+{text}\n*** End Patch\n"
    return f"*** Begin Patch\n*** Add File: {file}\n+{text}\n*** End Patch\n"


# -- the repository ------------------------------------------------------------------------------


@given(parsers.parse('a git repository with a committed file "{file}"'))
def repository(world: World, file: str) -> None:
    """A repository with one committed file."""
    world.repo = make_repo(world.tmp / "repo", {file: f"original {file}\n"})


@given(parsers.parse('a committed file "{file}"'))
def committed_file(world: World, file: str) -> None:
    """Another committed file."""
    target = world.path(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"original {file}\n")
    git(target.parent, "add", "--", target.name)
    git(world.path("."), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"add {file}")


# -- the server ------------------------------------------------------------------------------------


@given("the server is running")
def server_running(world: World) -> None:
    """The server, started as Codex would start it."""
    world.start_server()


@given(parsers.parse("the server is running with cap {cap:d}"))
def server_with_cap(world: World, cap: int) -> None:
    """The server with a cap on running workers."""
    world.start_server("--cap", str(cap))


@given(parsers.parse("the server is running with cap {cap:d} and queue limit {limit:d}"))
def server_with_cap_and_queue(world: World, cap: int, limit: int) -> None:
    """The server with a cap and a queue limit."""
    world.start_server("--cap", str(cap), "--queue-limit", str(limit))


# -- worker scripts ----------------------------------------------------------------------------------


@given(parsers.parse('a worker script "{name}" that writes "{file}" and reports it'))
def writes_and_reports(world: World, name: str, file: str) -> None:
    """A worker that patches one file and reports exactly it."""
    world.contents[name] = f"written by {name}"
    world.add_script(name, [{"patch": write_patch(world, file, world.contents[name])}, final([file])])


@given(parsers.parse('a worker script "{name}" that waits until released'))
def waits_until_released(world: World, name: str) -> None:
    """A worker whose model answers only when the test releases it."""
    world.add_script(name, [{"hold": True, **final([])}])


@given(parsers.parse('a worker script "{name}" that appends "{line}" to "{file}" and reports it'))
def appends_and_reports(world: World, name: str, line: str, file: str) -> None:
    """A worker that appends a line to a file from the shell and reports the file."""
    world.add_script(name, [{"shell": f"printf '%s\\n' '{line}' >> {file}", "login": False}, final([file])])


@given(parsers.parse('a worker script "{name}" that writes "{file}" from the shell and reports no files'))
def shell_writes_unreported(world: World, name: str, file: str) -> None:
    """A worker that writes a file through the shell and leaves it out of its report."""
    world.contents[name] = f"written by {name}"
    world.add_script(name, [{"shell": f"printf '%s\\n' '{world.contents[name]}' > {file}", "login": False}, final([])])


# -- the boss's calls -------------------------------------------------------------------------------


def spawn(world: World, name: str, **arguments: object) -> None:
    """Spawn the worker whose model plays script ``name``."""
    prompt = arguments.pop("prompt", f"Do the task of script {name}.")
    answer = world.live.call("codex_spawn", prompt=f"[script {name}] {prompt}", **arguments)
    world.jobs[name] = str(answer["job_id"])
    world.answers[f"spawn {name}"] = answer


@when("the boss takes a baseline")
def take_baseline(world: World) -> None:
    """Record the baseline."""
    world.baseline = str(world.live.call("codex_baseline", label="before workers")["baseline_id"])


@when(parsers.parse('the boss spawns a worker running script "{name}"'))
def spawn_worker(world: World, name: str) -> None:
    """Spawn one worker."""
    spawn(world, name)


@when(parsers.parse('the boss spawns a worker running script "{name}" with label "{label}"'))
def spawn_labelled(world: World, name: str, label: str) -> None:
    """Spawn one worker with a label."""
    spawn(world, name, label=label)


@when(parsers.parse('the boss waits until job "{name}" is reported'))
def wait_one(world: World, name: str) -> None:
    """Wait until one job is reported finished."""
    world.live.wait_all([world.job(name)])


@when(parsers.parse('the boss waits until jobs "{jobs}" are reported'))
def wait_many(world: World, jobs: str) -> None:
    """Wait until every named job is reported finished."""
    world.live.wait_all([world.job(name) for name in names(jobs)])


@when(parsers.parse('the boss checks the overlaps of jobs "{jobs}"'))
def check_overlaps(world: World, jobs: str) -> None:
    """Ask for the overlap report since the baseline."""
    world.answers["overlaps"] = world.live.call(
        "codex_overlaps", baseline_id=world.baseline, job_ids=[world.job(name) for name in names(jobs)]
    )


@when(parsers.parse('the boss rolls back "{file}"'))
def roll_back_path(world: World, file: str) -> None:
    """Roll one path back to the baseline."""
    world.answers["rollback"] = world.live.call("codex_rollback", baseline_id=world.baseline, paths=[file])


@when("the boss rolls back everything")
def roll_back_all(world: World) -> None:
    """Roll the whole worktree back to the baseline."""
    world.answers["rollback"] = world.live.call("codex_rollback", baseline_id=world.baseline)


@when(parsers.parse('the boss re-runs job "{name}" and waits until it is reported'))
def rerun(world: World, name: str) -> None:
    """Run the same script again, alone, and wait for it."""
    spawn(world, name, prompt="Do the task again.")
    world.live.wait_all([world.job(name)])


@when(parsers.parse('the boss cancels job "{name}"'))
def cancel(world: World, name: str) -> None:
    """Cancel a job."""
    world.answers[f"cancel {name}"] = world.live.call("codex_cancel", job_id=world.job(name))


@when(parsers.parse('the boss reads the result of job "{name}"'))
def read_result(world: World, name: str) -> None:
    """Read a job's result."""
    world.answers[f"result {name}"] = world.live.call("codex_result", job_id=world.job(name))


# -- what the boss sees ------------------------------------------------------------------------------


def state_of(world: World, name: str) -> Json:
    """The job's line in codex_status."""
    jobs = world.live.call("codex_status", job_ids=[world.job(name)])["jobs"]
    assert isinstance(jobs, list) and len(jobs) == 1  # pyright: ignore[reportUnknownArgumentType]
    entry = jobs[0]  # pyright: ignore[reportUnknownVariableType]
    assert isinstance(entry, dict)
    return entry  # pyright: ignore[reportUnknownVariableType]


@then(parsers.parse('job "{name}" has state "{state}"'))
def job_state(world: World, name: str, state: str) -> None:
    """The job is in the given state."""
    assert state_of(world, name)["state"] == state


@then(parsers.parse('the file "{file}" holds the content written by "{name}"'))
def file_written_by(world: World, file: str, name: str) -> None:
    """The file holds exactly what the named worker wrote."""
    assert world.path(file).read_text() == world.contents[name] + "\n"


@then("overlaps, unclaimed and unchanged_claims are empty")
def nothing_overlaps(world: World) -> None:
    """The report finds nothing to worry about."""
    report = world.answers["overlaps"]
    assert (report["overlaps"], report["unclaimed"], report["unchanged_claims"]) == ({}, [], {})


@then(parsers.parse('clean holds jobs "{jobs}"'))
def report_clean(world: World, jobs: str) -> None:
    """The report is clean for the named jobs."""
    del jobs
    assert world.answers["overlaps"]["clean"] is True


@then(parsers.parse('the overlaps map "{file}" to jobs "{jobs}"'))
def overlap_of(world: World, file: str, jobs: str) -> None:
    """The report names exactly these jobs for the path."""
    overlaps = world.answers["overlaps"]["overlaps"]
    assert isinstance(overlaps, dict)
    assert sorted(overlaps[file]) == sorted(world.job(name) for name in names(jobs))  # pyright: ignore[reportUnknownArgumentType]


@then(parsers.parse('unclaimed holds "{file}"'))
def unclaimed(world: World, file: str) -> None:
    """The report lists the path as changed by no job's claim."""
    assert world.answers["overlaps"]["unclaimed"] == [file]


@then(parsers.parse('the file "{file}" holds the lines "{first}" and "{second}"'))
def file_lines(world: World, file: str, first: str, second: str) -> None:
    """The file holds both lines, each once."""
    assert world.path(file).read_text() == f"{first}\n{second}\n"


def released(world: World, name: str) -> None:
    """Let a held worker's model answer."""
    world.live.portal.call(lambda: _release(world, name))


async def _release(world: World, name: str) -> None:
    world.live.model.release(name)


def dump(value: object) -> str:
    """Show a value in assertion messages."""
    return json.dumps(value, indent=1, default=str)
