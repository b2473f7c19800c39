"""The step library shared by every feature: a repository, the server, worker scripts and the boss's calls.

The scenario world and the helpers steps share are in ``world.py``; steps that only one feature uses live in
that feature's test module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from harness import Json, git, make_repo
from pytest_bdd import given, parsers, then, when

import processes
from _pending import apply_tag, register_markers
from codex_subagents.jobs.worker import marker
from world import (
    World,
    attempt,
    baseline_files,
    commit,
    digest,
    dump,
    events_of,
    final,
    first_request,
    git_state,
    names,
    page,
    records,
    release,
    result_of,
    snapshot_files,
    spawn,
    spawn_on,
    state_of,
    strings,
    wait_answer,
    write_patch,
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the tags the features use."""
    register_markers(config)


def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> bool | None:
    """Turn @pending into a strict expected failure and @req into a marker."""
    return apply_tag(tag, function)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """A fresh world, torn down (server stopped, workers ended) after the scenario."""
    with ExitStack() as stack:
        yield World(tmp=tmp_path, stack=stack, journals=tmp_path / "state")


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


@given("the server is running with full access allowed")
def full_access(world: World) -> None:
    """The operator's opt-in for containers without user namespaces."""
    world.start_server("--allow-danger-full-access")


@given("a second server is running on the same repository")
@when("a second server is started on the same repository")
def second_server(world: World) -> None:
    """Another session's server on the same repository and journals, as a second Codex session would start it."""
    world.start_second_server()


@when(parsers.parse('the boss of the second server spawns a worker running script "{name}"'))
def spawn_on_second(world: World, name: str) -> None:
    """Spawn one worker through the second server."""
    assert world.second is not None, "start the second server first"
    spawn_on(world.second, world, name)
    assert name in world.jobs, world.error


@given(parsers.parse('a submodule "{name}" with a committed file "{file}"'))
def submodule(world: World, name: str, file: str) -> None:
    """A submodule cloned from a repository beside the worktree, committed in the worktree."""
    origin = make_repo(world.tmp / f"{name}-origin", {file: f"original {file}\n"})
    repo = world.path(".")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(origin), name)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"add the submodule {name}")


# -- worker scripts ----------------------------------------------------------------------------------


@given(parsers.parse('a worker script "{name}" that writes "{file}" and reports it'))
def writes_and_reports(world: World, name: str, file: str) -> None:
    """A worker that patches one file and reports exactly it."""
    world.contents[name] = f"written by {name}"
    world.add_script(name, [{"patch": write_patch(world, file, world.contents[name])}, final([file], f"wrote {file}")])


@given(parsers.parse('a worker script "{name}" that writes "{first}" and "{second}" and reports them'))
def writes_two(world: World, name: str, first: str, second: str) -> None:
    """A worker that patches two files and reports both."""
    text = f"written by {name}"
    patches = [write_patch(world, file, text) for file in (first, second)]
    world.add_script(name, [{"calls": [{"patch": patch} for patch in patches]}, final([first, second])])


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


@when("the boss takes a baseline")
def take_baseline(world: World) -> None:
    """Record the baseline, and the bytes of every file and the state of git before and after it."""
    world.answers["before baseline"] = git_state(world)
    answer = world.live.call("codex_baseline", label="before workers")
    world.answers["baseline"] = answer
    world.baseline = str(answer["baseline_id"])
    world.baseline_bytes = snapshot_files(world.path("."))


@when(parsers.re(r'the boss spawns a worker running script "(?P<name>[^"]+)"$'))
def spawn_worker(world: World, name: str) -> None:
    """Spawn one worker."""
    spawn(world, name)


@when(parsers.parse('the boss spawns a worker running script "{name}" with label "{label}"'))
def spawn_labelled(world: World, name: str, label: str) -> None:
    """Spawn one worker with a label, known afterwards by that label."""
    spawn(world, name, label, label=label)


@when(
    parsers.re(
        r'the boss spawns a worker running script "(?P<name>[^"]+)" '
        r'with (?P<argument>sandbox|model) "(?P<value>[^"]+)"$'
    )
)
def spawn_with(world: World, name: str, argument: str, value: str) -> None:
    """A spawn with one more argument: a sandbox or a model."""
    spawn(world, name, **{argument: value})


@when(parsers.parse('the boss waits until job "{name}" is reported'))
def wait_one(world: World, name: str) -> None:
    """Wait until one job is reported finished."""
    wait_many(world, name)


@when(parsers.parse('the boss waits until jobs "{jobs}" are reported'))
def wait_many(world: World, jobs: str) -> None:
    """Wait until every named job is reported finished, and keep what wait-any said of each."""
    reported = world.live.wait_all([world.job(name) for name in names(jobs)])
    for name in names(jobs):
        world.answers[f"reported {name}"] = {"entries": reported}


@when(parsers.parse('the boss checks the overlaps of jobs "{jobs}"'))
def check_overlaps(world: World, jobs: str) -> None:
    """Ask for the overlap report since the baseline."""
    world.answers["overlaps"] = world.live.call(
        "codex_overlaps", baseline_id=world.baseline, job_ids=[world.job(name) for name in names(jobs)]
    )


@when(parsers.parse('the boss rolls back "{file}"'))
def roll_back_path(world: World, file: str) -> None:
    """Roll one path back to the baseline."""
    world.answers["rollback"] = attempt(world, "codex_rollback", baseline_id=world.baseline, paths=[file]) or {}


@when("the boss rolls back everything")
def roll_back_all(world: World) -> None:
    """Roll the whole worktree back to the baseline."""
    world.answers["rollback"] = attempt(world, "codex_rollback", baseline_id=world.baseline) or {}


@when(parsers.parse('the boss re-runs job "{name}" and waits until it is reported'))
def rerun(world: World, name: str) -> None:
    """Run the same script again, alone, and wait for it."""
    spawn(world, name, prompt="Do the task again.")
    assert name in world.jobs, world.error
    world.live.wait_all([world.job(name)])


@when(parsers.parse('the boss cancels job "{name}"'))
def cancel(world: World, name: str) -> None:
    """Cancel a job."""
    world.answers[f"cancel {name}"] = world.live.call("codex_cancel", job_id=world.job(name))


@when(parsers.parse('the boss reads the result of job "{name}"'))
def read_result(world: World, name: str) -> None:
    """Read a job's result; a refusal is kept for a later step to check."""
    answer = attempt(world, "codex_result", job_id=world.job(name))
    if answer is not None:
        world.answers[f"result {name}"] = answer


# -- what the boss sees ------------------------------------------------------------------------------


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


@then("clean holds no job")
def not_clean(world: World) -> None:
    """An overlap, an unclaimed change or a move of git's state means the work cannot be kept as it is."""
    assert world.answers["overlaps"]["clean"] is False, dump(world.answers["overlaps"])


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


# -- the user's own work ------------------------------------------------------------------------------


@given(parsers.parse('the user has edited "{file}" without committing'))
def user_edit(world: World, file: str) -> None:
    """An uncommitted edit of a committed file."""
    world.user_content[file] = f"the user's edit of {file}\n"
    world.path(file).write_text(world.user_content[file])


@given(parsers.re(r'"(?P<ignore_file>[^"]+)" ignores (?P<patterns>"[^"]+"(?:(?:, | and )"[^"]+")*)$'))
def ignores(world: World, ignore_file: str, patterns: str) -> None:
    """Committed ignore rules, one per quoted pattern."""
    world.path(ignore_file).write_text("".join(f"{pattern}\n" for pattern in patterns.split('"')[1::2]))
    commit(world, ignore_file)


@given(parsers.parse('the user has an ignored file "{file}"'))
@given(parsers.parse('the user has an untracked file "{file}"'))
def user_untracked(world: World, file: str) -> None:
    """A file git does not track: untracked, or ignored."""
    world.user_content[file] = f"the user's notes in {file}\n"
    world.path(file).parent.mkdir(parents=True, exist_ok=True)
    world.path(file).write_text(world.user_content[file])


@given(parsers.parse('the user has staged a new file "{file}"'))
def user_staged(world: World, file: str) -> None:
    """A new file added to the index, not committed."""
    world.path(file).write_text(f"staged {file}\n")
    git(world.path("."), "add", "--", file)
    world.head = git(world.path("."), "rev-parse", "HEAD").strip()


@when(parsers.parse('the file "{file}" is edited'))
def edit(world: World, file: str) -> None:
    """Someone changes the file after the baseline."""
    world.path(file).write_text("changed after the baseline\n")


@then(parsers.parse('the baseline commit does not hold "{file}"'))
def not_held(world: World, file: str) -> None:
    """A path the baseline leaves out is not in its commit, though it is on disk."""
    assert file not in baseline_files(world) and world.path(file).exists(), baseline_files(world)


@then(parsers.parse('the file "{file}" holds the user\'s content'))
def holds_user_content(world: World, file: str) -> None:
    """The user's own bytes are back."""
    assert world.path(file).read_text() == world.user_content[file]


@then(parsers.parse('HEAD is unchanged and the index still stages "{file}"'))
def head_and_index_kept(world: World, file: str) -> None:
    """Neither HEAD nor the user's index moved."""
    assert git(world.path("."), "rev-parse", "HEAD").strip() == world.head
    assert git(world.path("."), "diff", "--cached", "--name-only").split() == [file]


# -- workers that stop half-way, and what they leave --------------------------------------------------


@given(parsers.parse('a worker script "{name}" that writes "{file}" and then waits until released'))
def writes_then_waits(world: World, name: str, file: str) -> None:
    """A worker that patches a file and then hangs on its model until released."""
    world.add_script(name, [{"patch": write_patch(world, file, f"half of {name}")}, {"hold": True, **final([file])}])


@given(
    parsers.parse(
        'a worker script "{name}" that writes "{file}", writes "{other}" from the shell and then waits until released'
    )
)
def writes_both_then_waits(world: World, name: str, file: str, other: str) -> None:
    """A worker that patches one file, writes another from the shell, then hangs until released."""
    world.add_script(
        name,
        [
            {"patch": write_patch(world, file, f"half of {name}")},
            {"shell": f"printf 'x\\n' > {other}", "login": False},
            {"hold": True, **final([file])},
        ],
    )


@when(parsers.parse('job "{name}" has written "{file}"'))
def has_written(world: World, name: str, file: str) -> None:
    """Wait until the worker has asked its model for the turn after its last write."""
    waiting_on_model(world, name)
    assert world.path(file).exists()


@when(parsers.parse('job "{name}" is waiting on its model'))
def waiting_on_model(world: World, name: str) -> None:
    """Wait until the worker has asked its model for the turn the model holds."""
    instance = world.instances[name]
    turns = world.templates[name.split("--")[0]]
    held = next(i for i, turn in enumerate(turns) if turn.get("hold"))
    model = world.live.model
    world.live.portal.call(lambda: model.wait_for(lambda r: r.script == instance and r.turn == held))


@when(parsers.parse('the boss checks the integrity of job "{name}"'))
def check_integrity(world: World, name: str) -> None:
    """Ask which paths the stopped job left changed."""
    world.answers["integrity"] = world.live.call("codex_integrity", job_id=world.job(name), baseline_id=world.baseline)


@when("the boss rolls back the paths the integrity report lists")
def roll_back_integrity(world: World) -> None:
    """Roll back what the integrity report names."""
    report = world.answers["integrity"]
    paths = [*strings(report["changed_by_job"]), *strings(report["suspects"])]
    world.answers["rollback"] = world.live.call("codex_rollback", baseline_id=world.baseline, paths=paths)


@then(parsers.parse('the integrity report lists "{file}" as changed by job "{name}"'))
def integrity_mine(world: World, file: str, name: str) -> None:
    """The job's own leftover is named."""
    assert world.answers["integrity"]["job_id"] == world.job(name)
    assert file in strings(world.answers["integrity"]["changed_by_job"])


@then(parsers.parse('the integrity report does not list "{file}"'))
def integrity_not(world: World, file: str) -> None:
    """A path another job claims is neither the job's nor a suspect."""
    report = world.answers["integrity"]
    assert file not in strings(report["changed_by_job"]) and file not in strings(report["suspects"])


@then(parsers.parse('the integrity report lists "{file}" as a suspect'))
def integrity_suspect(world: World, file: str) -> None:
    """A change nobody claims is named as a suspect."""
    assert file in strings(world.answers["integrity"]["suspects"])


@then(parsers.parse('the file "{file}" holds its baseline bytes'))
def baseline_bytes(world: World, file: str) -> None:
    """The file is byte for byte what the baseline recorded."""
    assert world.path(file).read_bytes() == world.baseline_bytes[file]


@then(parsers.parse('the file "{file}" does not exist'))
@then(parsers.parse('the directory "{file}" does not exist'))
def absent(world: World, file: str) -> None:
    """Created after the baseline, removed by the rollback."""
    assert not os.path.lexists(world.path(file)), file


@then("no file has changed since the baseline")
def nothing_changed(world: World) -> None:
    """The worktree is exactly as the baseline recorded it."""
    assert snapshot_files(world.path(".")) == world.baseline_bytes


# -- errors and the cap --------------------------------------------------------------------------------


@then(parsers.re(r'the call is a tool error mentioning "(?P<first>[^"]+)" and "(?P<second>[^"]+)"$'))
def error_mentions_two(world: World, first: str, second: str) -> None:
    """The refused call's message names both."""
    assert world.error is not None and first in world.error and second in world.error, world.error


@then(
    parsers.re(r'the call is a tool error mentioning "(?P<first>[^"]+)", "(?P<second>[^"]+)" and "(?P<third>[^"]+)"$')
)
def error_mentions_three(world: World, first: str, second: str, third: str) -> None:
    """The refused call's message names all three."""
    assert world.error is not None, "the call was not refused"
    assert all(word in world.error for word in (first, second, third)), world.error


@then(parsers.re(r'the call is a tool error mentioning "(?P<word>[^"]+)"$'))
def error_mentions(world: World, word: str) -> None:
    """The refused call's message names the bad value."""
    assert world.error is not None and word in world.error, world.error


@then(parsers.parse('the call is a tool error mentioning the job id of "{name}" and "{word}"'))
def error_mentions_job(world: World, name: str, word: str) -> None:
    """The refused call names the job in the way and the next call to make."""
    assert world.error is not None and world.job(name) in world.error and word in world.error, world.error


@then(parsers.parse('job "{name}" has state "{state}" at queue position {position:d}'))
def queued_at(world: World, name: str, state: str, position: int) -> None:
    """The job waits at that place in the queue."""
    entry = state_of(world, name)
    assert (entry["state"], entry["queue_position"]) == (state, position)


@then(parsers.parse('job "{name}" waits for job "{other}"'))
def waits_for(world: World, name: str, other: str) -> None:
    """The queued job names the one whose scope holds it back; running jobs name none."""
    assert state_of(world, name)["waiting_for"] == [world.job(other)]
    assert "waiting_for" not in state_of(world, other)


@then(parsers.parse('job "{name}" waits for no job'))
def waits_for_a_slot(world: World, name: str) -> None:
    """The queued job waits only for a free slot."""
    assert state_of(world, name)["waiting_for"] == []


@then(parsers.parse("the status counts {running:d} running and {queued:d} queued with cap {cap:d}"))
def status_counts(world: World, running: int, queued: int, cap: int) -> None:
    """The server's load, as codex_status reports it."""
    status = world.live.call("codex_status")
    assert (status["running"], status["queued"], status["cap"]) == (running, queued, cap)


@then(parsers.parse("the status lists {count:d} jobs"))
def status_lists(world: World, count: int) -> None:
    """How many jobs the server knows."""
    jobs = world.live.call("codex_status")["jobs"]
    assert isinstance(jobs, list) and len(jobs) == count  # pyright: ignore[reportUnknownArgumentType]


@when(parsers.parse('the boss spawns {count:d} workers running script "{name}"'))
def spawn_many(world: World, count: int, name: str) -> None:
    """Spawn several workers of one script, known as NAME-1, NAME-2, ..."""
    for index in range(1, count + 1):
        spawn(world, name, f"{name}-{index}", label=f"{name}-{index}")


@then(parsers.parse('{count:d} jobs have state "{state}"'))
@then(parsers.parse('{count:d} job has state "{state}"'))
def count_in_state(world: World, count: int, state: str) -> None:
    """How many of the spawned jobs are in a state."""
    jobs = world.live.call("codex_status")["jobs"]
    assert isinstance(jobs, list)
    entries: list[object] = list(jobs)  # pyright: ignore[reportUnknownArgumentType]
    assert sum(1 for job in entries if isinstance(job, dict) and job.get("state") == state) == count  # pyright: ignore[reportUnknownMemberType]


@when(parsers.parse('job "{name}" is released'))
def job_released(world: World, name: str) -> None:
    """Let a held worker finish, and wait until it has."""
    release(world, name)
    world.live.wait_all([world.job(name)])


@then(parsers.parse('job "{name}" has no events'))
def no_events(world: World, name: str) -> None:
    """A job that never started has an empty stream."""
    page = world.live.call("codex_events", job_id=world.job(name))
    assert (page["events"], page["next_cursor"]) == ([], 0)


# -- the worker contract ---------------------------------------------------------------------------

PREAMBLE_RULES = {
    "shares the worktree with other workers running at the same time": (
        "editing this same git worktree at the same time"
    ),
    "must not start sub-agents": "Do not start sub-agents",
    "must not commit, stash, reset, check out or revert changes it did not make": (
        "Do not commit, stash, reset, checkout, restore, revert"
    ),
    "must not stop because other files change": "Files you did not touch may change while you work",
    "must stay within its assigned files": "change only the files it gives you",
    "must end with the JSON final message": '{"summary": "...", "modifiedFiles": ["..."]}',
}


@given(parsers.parse('a worker script "{name}" that ends with the plain message "{text}"'))
def plain_message(world: World, name: str, text: str) -> None:
    """A worker whose last message is prose, not the contract's JSON."""
    world.add_script(name, [{"final": text}])


@given(parsers.parse('a worker script "{name}" that ends without a final message'))
def no_message(world: World, name: str) -> None:
    """A worker that runs a command and then ends its turn with an empty message."""
    world.add_script(name, [{"shell": "true", "login": False}, {"final": ""}])


@when(parsers.parse('the boss spawns a worker running script "{name}" with prompt "{prompt}"'))
def spawn_with_prompt(world: World, name: str, prompt: str) -> None:
    """Spawn one worker with the boss's own words as its task."""
    spawn(world, name, prompt=prompt)


@then(parsers.parse('the first model request of job "{name}" holds the worker preamble before "{task}"'))
def preamble_first(world: World, name: str, task: str) -> None:
    """The worker's prompt is the preamble, then the boss's task."""
    text = json.dumps(first_request(world, name)["input"])
    assert "You are a worker agent (job " + world.job(name) in text
    assert text.index("You are a worker agent") < text.index(task)
    world.answers["preamble"] = {"text": text}


@then(parsers.parse("the worker preamble says that the worker {rule}"))
def preamble_rule(world: World, rule: str) -> None:
    """The preamble states the rule."""
    assert json.dumps(PREAMBLE_RULES[rule])[1:-1] in str(world.answers["preamble"]["text"])


@then(
    parsers.parse(
        'the first model request of job "{name}" carries a JSON schema that requires the string "{first}" '
        'and the string array "{second}"'
    )
)
def schema_requires(world: World, name: str, first: str, second: str) -> None:
    """The output schema reaches the model under text.format."""
    text = first_request(world, name)["text"]
    assert isinstance(text, dict)
    form = text["format"]
    assert isinstance(form, dict)
    schema = form["schema"]
    assert isinstance(schema, dict)
    assert schema["required"] == [first, second]
    assert schema["properties"] == {first: {"type": "string"}, second: {"type": "array", "items": {"type": "string"}}}
    world.answers["schema"] = dict(schema)


@then("that JSON schema allows no other keys")
def schema_closed(world: World) -> None:
    """additionalProperties is false."""
    assert world.answers["schema"]["additionalProperties"] is False


@then(parsers.parse('the result of job "{name}" has {field} "{value}"'))
def result_text(world: World, name: str, field: str, value: str) -> None:
    """A text field of the result."""
    assert result_of(world, name)[field] == value


@then(parsers.parse('the result of job "{name}" has {field} containing "{value}"'))
def result_contains(world: World, name: str, field: str, value: str) -> None:
    """A text field of the result contains the words."""
    assert value in str(result_of(world, name)[field])


@then(parsers.re(r'the result of job "(?P<name>[^"]+)" has (?P<field>\w+) (?P<value>\[.*\]|null)$'))
def result_json(world: World, name: str, field: str, value: str) -> None:
    """A list or null field of the result."""
    assert result_of(world, name)[field] == json.loads(value)


@when(parsers.parse('the boss reads the events of job "{name}" from cursor {cursor:d}'))
def read_events(world: World, name: str, cursor: int) -> None:
    """Read one page of the job's events, with the default limit."""
    page = world.live.call("codex_events", job_id=world.job(name), cursor=cursor)
    world.answers[f"events {name}"] = world.answers["page"] = page


# -- waiting, paging and what is left of a worker ----------------------------------------------------


@when("the boss waits for any job")
def wait_any(world: World) -> None:
    """One codex_wait_any over every job, with the default timeout."""
    world.answers["wait"] = world.live.call("codex_wait_any")


@when(parsers.parse("the boss waits for any job with timeout_s {timeout:d}"))
def wait_any_bounded(world: World, timeout: int) -> None:
    """One codex_wait_any over every job, with the given timeout."""
    world.answers["wait"] = world.live.call("codex_wait_any", timeout_s=timeout)


@then(parsers.re(r'wait-any reports only job "(?P<name>[^"]+)" as finished(?P<fields>, with its .*)?$'))
def reported_only(world: World, name: str, fields: str | None) -> None:
    """Exactly this job is reported, with the fields a boss needs to act on it."""
    answer = wait_answer(world)
    finished = records(answer["finished"])
    assert len(finished) == 1, dump(answer)
    entry = digest(world, name, finished)
    if fields:
        spawned = world.answers[f"spawn {name}"]
        assert (entry["label"], entry["state"]) == (spawned["label"], "succeeded"), dump(entry)
        assert str(entry["summary"]).startswith("wrote "), dump(entry)
    assert answer["timed_out"] is False, dump(answer)


@then(parsers.re(r'wait-any lists job "(?P<name>[^"]+)" as pending(?P<fields>, with its .*)?$'))
def listed_pending(world: World, name: str, fields: str | None) -> None:
    """The still-running job appears in the digest, with what the boss needs without another call."""
    entry = digest(world, name, wait_answer(world)["pending"])
    assert entry["state"] == "running", dump(entry)
    if fields:
        spawned = world.answers[f"spawn {name}"]
        assert entry["label"] == spawned["label"] and entry["queue_position"] is None, dump(entry)
        elapsed = entry["elapsed_s"]
        assert isinstance(elapsed, float) and elapsed > 0, dump(entry)
        assert isinstance(entry["last_event"], str) and entry["last_event"], dump(entry)


@then("wait-any reports no finished job and timed out")
def nothing_reported(world: World) -> None:
    """The wait came back empty because its time ran out."""
    answer = wait_answer(world)
    assert (answer["finished"], answer["timed_out"]) == ([], True), dump(answer)


@then(parsers.parse('no process of the process group of job "{name}" is alive'))
def tree_gone(world: World, name: str) -> None:
    """Every process carrying the job's marker, and every process of the worker seen earlier, is gone."""
    seen = world.answers.get(f"tree {name}", {"pids": []})
    survivors = processes.alive({int(pid) for pid in strings(seen["pids"])})
    assert survivors == set(), f"still alive: {sorted(survivors)}"
    assert processes.carrying(marker(world.job(name))) == set()


@given(parsers.parse('a worker script "{name}" that runs {count:d} shell commands'))
def runs_commands(world: World, name: str, count: int) -> None:
    """A worker that runs several short commands, one per turn, then reports."""
    turns: list[Json] = [{"shell": f"echo step {n}", "login": False} for n in range(count)]
    world.add_script(name, [*turns, final([])])


def read_pages(world: World, name: str, cursor: int, limit: int, *, to_end: bool) -> None:
    """Read pages of the job's events from ``cursor``, one or up to the end, adding them to those read before."""
    pages = records(world.answers.get(f"pages {name}", {"pages": []})["pages"])
    while True:
        answer = world.live.call("codex_events", job_id=world.job(name), cursor=cursor, limit=limit)
        pages.append(answer)
        assert len(records(answer["events"])) <= limit, dump(answer)
        cursor = int(str(answer["next_cursor"]))
        if answer["finished"] or not to_end:
            break
        assert answer["events"], f"an empty page before the end: {dump(answer)}"
    world.answers[f"pages {name}"] = {"pages": pages}
    world.answers[f"all events {name}"] = {"events": [event for one in pages for event in records(one["events"])]}
    world.answers["page"] = pages[-1]


@when(
    parsers.parse('the boss reads the events of job "{name}" with limit {limit:d} from cursor {cursor:d} until the end')
)
def read_to_end(world: World, name: str, limit: int, cursor: int) -> None:
    """Page through the whole stream, keeping every page."""
    read_pages(world, name, cursor, limit, to_end=True)


@when(parsers.parse('the boss reads the events of job "{name}" with limit {limit:d} from cursor {cursor:d}'))
def read_one_page(world: World, name: str, limit: int, cursor: int) -> None:
    """Read one page of at most ``limit`` events."""
    read_pages(world, name, cursor, limit, to_end=False)


@when(parsers.parse('the boss reads the events of job "{name}" from the last next_cursor until the end'))
def read_on_to_end(world: World, name: str) -> None:
    """Go on paging, with the default limit, from where the last page ended."""
    read_pages(world, name, int(str(page(world)["next_cursor"])), 100, to_end=True)


@then(parsers.parse('the pages hold every event of job "{name}" exactly once and in order'))
def every_event_once(world: World, name: str) -> None:
    """Concatenated pages equal the whole stream read in one go, sequence numbers ascending."""
    paged = events_of(world, name)
    whole = records(world.live.call("codex_events", job_id=world.job(name), limit=500)["events"])
    assert paged == whole, dump(paged)
    assert [event["seq"] for event in paged] == list(range(len(paged)))
    assert len(records(world.answers[f"pages {name}"]["pages"])) >= 2, "the stream fits in one page: no paging tested"


@then(
    parsers.re(
        r'the events of job "(?P<name>[^"]+)" from cursor (?P<cursor>\d+) still hold the events read before the '
        r"(?:cancel|restart)$"
    )
)
def events_kept(world: World, name: str, cursor: str) -> None:
    """The partial stream survives: what was read before is still there, in order."""
    before = records(world.answers[f"events {name}"]["events"])
    assert before, "no events were read before"
    after = records(world.live.call("codex_events", job_id=world.job(name), cursor=int(cursor), limit=500)["events"])
    assert after[: len(before)] == before, dump(after)


@then("no job was created")
def no_job(world: World) -> None:
    """The refused call left the server without jobs."""
    assert world.live.call("codex_status")["jobs"] == []


@given(parsers.parse('a worker script "{name}" that runs the shell command "{command}"'))
def runs_command(world: World, name: str, command: str) -> None:
    """A worker that runs one command and reports."""
    world.add_script(name, [{"shell": command, "login": False}, final([])])


# -- restarts of the server ---------------------------------------------------------------------------


@when(parsers.parse('the record of job "{name}" is cut to half its bytes'))
def cut_record(world: World, name: str) -> None:
    """What a power loss in the middle of a write without a sync would leave."""
    record = world.journal(name) / "job.json"
    data = record.read_bytes()
    record.write_bytes(data[: len(data) // 2])


@when("the server restarts")
def restart(world: World) -> None:
    """Stop the server the way its client does, and start a new one on the same journals."""
    world.live.stop()
    world.live.start()


@when("the server is killed")
def kill(world: World) -> None:
    """SIGKILL the server, after noting every process of each job, which the kill leaves running."""
    for name, job_id in world.jobs.items():
        world.answers[f"tree {name}"] = {"pids": [str(pid) for pid in sorted(processes.carrying(marker(job_id)))]}
    world.live.stop(kill=True)


@when("the server is started again")
def start_again(world: World) -> None:
    """Start a new server on the journals of the killed one."""
    world.live.start()


@when("the server is killed and started again")
def kill_and_start(world: World) -> None:
    """A crash and a restart."""
    kill(world)
    start_again(world)


# -- collisions: workers that write a shared file and wait, and the alerts the boss sees ----------------


@given(
    parsers.parse(
        'a worker script "{name}" that appends "{line}" to "{file}" through a patch and then waits until released'
    )
)
def patches_then_waits(world: World, name: str, line: str, file: str) -> None:
    """A worker that appends a line to an existing file by apply_patch, then hangs on its model until released."""
    patch = f"*** Begin Patch\n*** Update File: {file}\n@@\n+{line}\n*** End Patch\n"
    world.add_script(name, [{"patch": patch}, {"hold": True, **final([file])}])


@given(
    parsers.parse(
        'a worker script "{name}" that appends "{line}" to "{file}" from the shell and then waits until released'
    )
)
def shell_appends_then_waits(world: World, name: str, line: str, file: str) -> None:
    """A worker that appends a line from the shell, then hangs on its model until released."""
    command = f"printf '%s\\n' '{line}' >> {file}"
    world.add_script(name, [{"shell": command, "login": False}, {"hold": True, **final([file])}])


@when(parsers.parse('the boss spawns a worker running script "{name}" with scope "{scope}"'))
def spawn_scoped(world: World, name: str, scope: str) -> None:
    """Spawn one worker that owns the comma-separated paths or globs; a refusal is kept for a later step."""
    spawn(world, name, scope=names(scope))


@when(parsers.parse('the held turn of job "{name}" is released'))
def release_held(world: World, name: str) -> None:
    """Let the worker's held turn answer, without waiting for the job to finish."""
    release(world, name)


@then(parsers.parse('wait-any lists one collision on "{file}" by jobs "{first}" then "{second}", seen by "{seen}"'))
def one_collision(world: World, file: str, first: str, second: str, seen: str) -> None:
    """The wait's one alert names the path, the earlier job then the later one, and how it was seen."""
    alerts = records(wait_answer(world)["alerts"])
    assert len(alerts) == 1, dump(wait_answer(world))
    (alert,) = alerts
    expected = {"kind": "collision", "path": file, "jobs": [world.job(first), world.job(second)], "seen": seen}
    assert {key: alert[key] for key in expected} == expected, dump(alert)
    assert isinstance(alert["at"], float), dump(alert)
    world.answers["alert"] = alert
