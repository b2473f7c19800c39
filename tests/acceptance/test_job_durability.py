"""The job-durability scenarios: journals, restarts and kills of the real server, with real Codex workers.

The server of these scenarios keeps its journals where it does by default, in the
repository's git directory. A restart stops the server and starts a new one on
the same journals while the scripted model lives on, so a worker the kill
orphaned is still running when the new server looks for it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from harness import git
from pytest_bdd import given, parsers, scenarios, then, when

import processes
from codex_subagents.jobs.worker import marker
from world import World, dump, result_of

scenarios("job-durability.feature")


@pytest.fixture
def world(world: World) -> World:
    """The shared world, with the server's journals in their default place."""
    world.journals = None
    return world


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    """A process of the user's that no job started, ended after the scenario."""
    process = subprocess.Popen(["sleep", "600"])
    yield process
    process.kill()
    process.wait()


@given("an unrelated process is running")
def unrelated_running(unrelated: subprocess.Popen[bytes]) -> None:
    """The user's process is alive before any job starts."""
    assert unrelated.poll() is None


@when(parsers.parse('the record of job "{name}" is made to name the unrelated process'))
def reused_pid(world: World, name: str, unrelated: subprocess.Popen[bytes]) -> None:
    """The job's pid now belongs to another process, as after pid reuse; its recorded start time stays."""
    path = world.journal(name) / "job.json"
    record = json.loads(path.read_text())
    assert record["pid"] is not None, dump(record)
    record["pid"] = unrelated.pid
    path.write_text(json.dumps(record))


@then("the unrelated process is still alive")
def unrelated_alive(unrelated: subprocess.Popen[bytes]) -> None:
    """Recovery did not signal a process it cannot prove to be the job's."""
    assert unrelated.poll() is None and processes.alive({unrelated.pid}) == {unrelated.pid}


@then(parsers.parse('the worker of job "{name}" is alive'))
def worker_alive(world: World, name: str) -> None:
    """Processes carrying the job's marker still run."""
    assert processes.carrying(marker(world.job(name))), f"no process of job {name} is alive"


@then(parsers.parse('the result of job "{name}" says its record was damaged'))
def damaged(world: World, name: str) -> None:
    """The recovered job says why its outcome is unknown."""
    assert "damaged" in str(world.live.call("codex_result", job_id=world.job(name))["error"])


@when(parsers.parse('half a line is appended to the journal of job "{name}"'))
def tear(world: World, name: str) -> None:
    """What a kill in the middle of a write leaves: half an event line and half an index entry."""
    journal = world.journal(name)
    with (journal / "events.jsonl").open("ab") as events:
        events.write(b'{"type":"item.completed","item":{"id":"torn","type":"agent_mes')
    with (journal / "events.idx").open("ab") as index:
        index.write(b"\x07\x00\x00")


@then(parsers.parse('"{directory}" holds the journal of job "{name}"'))
def journal_in(world: World, directory: str, name: str) -> None:
    """The job's record and events are under the directory, which is inside the git directory."""
    journal = world.journal(name)
    assert journal.is_relative_to(world.path(directory)), journal
    record = json.loads((journal / "job.json").read_text())
    assert (record["job_id"], record["state"]) == (world.job(name), "succeeded"), dump(record)
    assert (journal / "events.jsonl").stat().st_size > 0


@then(parsers.parse('git status lists only "{file}" as changed'))
def only_changed(world: World, file: str) -> None:
    """The journal is invisible to git: only the worker's own change shows."""
    status = git(world.path("."), "status", "--porcelain", "--untracked-files=all", "--ignored").splitlines()
    assert status == [f" M {file}"], status


@then(parsers.parse('the result of job "{name}" is the same as before the restart'))
def same_result(world: World, name: str) -> None:
    """The new server gives the result the old one gave."""
    before = world.answers[f"result {name}"]
    assert world.live.call("codex_result", job_id=world.job(name)) == before
    assert result_of(world, name)["state"] == "succeeded"


@then(parsers.parse('the events of job "{name}" from cursor {cursor:d} are the same as before the restart'))
def same_events(world: World, name: str, cursor: int) -> None:
    """The new server gives the page the old one gave."""
    before = world.answers[f"events {name}"]
    assert world.live.call("codex_events", job_id=world.job(name), cursor=cursor) == before


@then(parsers.parse('no worker process was started for job "{name}"'))
def never_started(world: World, name: str) -> None:
    """The queued job's journal names no process, and its script's model was never asked."""
    record = json.loads((world.journal(name) / "job.json").read_text())
    assert (record["pid"], record["started_at"]) == (None, None), dump(record)
    instance = world.instances[name]
    assert not [request for request in world.live.model.requests if request.script == instance]


@then("wait-any returns at once with no finished job and nothing pending")
def nothing_left(world: World) -> None:
    """Every job is finished and was reported before the restart: there is nothing to wait for."""
    answer = world.answers["wait"]
    assert (answer["finished"], answer["pending"], answer["timed_out"]) == ([], [], False), dump(answer)


@given(parsers.parse('the journals hold a job record "{job_id}" that is not JSON'))
def unreadable_record(world: World, job_id: str) -> None:
    """A job directory whose record cannot be parsed, as a torn write or a stray edit leaves it."""
    root = world.journals or world.path(".git") / "codex-subagents"
    (root / "jobs" / job_id).mkdir(parents=True)
    (root / "jobs" / job_id / "job.json").write_text("{not json")
