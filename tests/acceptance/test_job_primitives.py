"""The job-primitives scenarios: spawn, wait-any, result, cancel and status over a real MCP session."""

from __future__ import annotations

import anyio
from harness import Json
from mcp_types import Tool
from pytest_bdd import given, parsers, scenarios, then, when

import processes
from codex_subagents.jobs.worker import marker
from world import World, attempt, digest, dump, final, records, result_of, state_of, wait_answer

scenarios("job-primitives.feature")


# -- the server and the workers -------------------------------------------------------------------


@given(parsers.parse("the server is running with a wait cap of {seconds:d} second"))
def server_with_wait_cap(world: World, seconds: int) -> None:
    """A server whose codex_wait_any never blocks longer than ``seconds``."""
    world.start_server("--max-wait", str(seconds))


@when(parsers.parse('the record of job "{name}" can no longer be written'))
def unwritable_record(world: World, name: str) -> None:
    """Put a directory where the job's record goes, so that every save of it fails, as on a full disk."""
    record = world.journal(name) / "job.json"
    record.unlink()
    record.mkdir()


@given(parsers.parse('a worker script "{name}" whose turn fails with "{message}"'))
def turn_fails(world: World, name: str, message: str) -> None:
    """A worker whose model refuses the request with an HTTP error Codex does not retry."""
    world.add_script(name, [{"fail": 400, "fail_message": message}])


@given(parsers.parse('a worker script "{name}" that starts a background process and waits until released'))
def background_child(world: World, name: str) -> None:
    """A worker whose shell command leaves children running while its model is held."""
    command: Json = {"shell": "sleep 300 & sleep 300 & wait", "login": False, "yield_time_ms": 300}
    held: Json = {"hold": True, **final([])}
    world.add_script(name, [command, held])


# -- the boss's calls ------------------------------------------------------------------------------


@when(parsers.parse('the boss waits for job "{name}" with timeout_s {timeout:d}'))
def wait_for_job(world: World, name: str, timeout: int) -> None:
    """One codex_wait_any over a single job."""
    world.answers["wait"] = world.live.call("codex_wait_any", job_ids=[world.job(name)], timeout_s=timeout)


@when(parsers.parse('job "{name}" has finished'))
def has_finished(world: World, name: str) -> None:
    """Watch the job's stream until the server says it has finished, without a wait-any that would report it.

    The server offers no wait that leaves a job unreported, so this reads the
    job's events page by page, as a client without wait-any would, with a bound.
    """
    client, job_id = world.live.client, world.job(name)

    async def finished() -> None:
        cursor = 0
        with anyio.fail_after(60):
            while True:
                result = await client.call_tool("codex_events", {"job_id": job_id, "cursor": cursor})
                page = result.structured_content
                assert page is not None, result
                if page["finished"]:
                    return
                cursor = int(str(page["next_cursor"]))
                await anyio.sleep(0.05)

    world.live.portal.call(finished)


@when(parsers.parse('job "{name}" has started its background process'))
def started_background(world: World, name: str) -> None:
    """The worker's model has been asked for the turn after the command, and its children are alive."""
    instance, model = world.instances[name], world.live.model
    world.live.portal.call(lambda: model.wait_for(lambda r: r.script == instance and r.turn == 1))
    tree = processes.carrying(marker(world.job(name)))
    assert len(tree) >= 3, f"expected the worker, its shell and two sleeps, found {sorted(tree)}"
    world.answers[f"tree {name}"] = {"pids": [str(pid) for pid in sorted(tree)]}


@when("the boss reads the status")
def read_status(world: World) -> None:
    """Read codex_status for every job."""
    world.answers["status"] = world.live.call("codex_status")


@when(parsers.parse('the boss reads the result of job id "{job_id}"'))
def read_unknown(world: World, job_id: str) -> None:
    """Ask for the result of a job id the server never issued."""
    attempt(world, "codex_result", job_id=job_id)


@when(parsers.parse('a client calls "{tool}" without a prompt'))
def call_without_prompt(world: World, tool: str) -> None:
    """Send arguments that break the tool's input schema."""
    world.error = world.live.refused(tool, cwd=str(world.path(".")))


@when("a client lists the tools")
def list_tools(world: World) -> None:
    """Ask the server for its tool list."""
    client = world.live.client
    tools: Json = {tool.name: tool for tool in world.live.portal.call(client.list_tools).tools}
    world.answers["tools"] = tools


# -- what the boss sees -----------------------------------------------------------------------------


@then(parsers.parse('the spawn of job "{name}" returned {field} "{value}"'))
def spawn_returned(world: World, name: str, field: str, value: str) -> None:
    """A field of the spawn's answer."""
    answer = world.answers[f"spawn {name}"]
    assert answer[field] == value, dump(answer)


@then(parsers.parse('the status lists job "{name}" as "{state}"'))
def status_state(world: World, name: str, state: str) -> None:
    """The job's state in codex_status."""
    entry = state_of(world, name)
    assert entry["state"] == state, dump(entry)


@then(parsers.parse('the status lists job "{name}" with label "{label}"'))
def status_label(world: World, name: str, label: str) -> None:
    """The job's label in codex_status."""
    entry = state_of(world, name)
    assert entry["label"] == label, dump(entry)


@then(parsers.parse('wait-any reported job "{name}" with label "{label}"'))
def reported_label(world: World, name: str, label: str) -> None:
    """The label in the wait-any entry that reported the job."""
    entry = digest(world, name, world.answers[f"reported {name}"]["entries"])
    assert entry["label"] == label, dump(entry)


@then(parsers.parse('the result of job "{name}" has exit_code {code:d}'))
def exit_code(world: World, name: str, code: int) -> None:
    """The worker's exit status."""
    assert result_of(world, name)["exit_code"] == code


@then(parsers.parse('the result of job "{name}" has an exit_code other than 0'))
def exit_code_failed(world: World, name: str) -> None:
    """The worker exited with a failure status."""
    code = result_of(world, name)["exit_code"]
    assert isinstance(code, int) and code != 0, code


@then(parsers.parse('the result of job "{name}" has the token usage of its turn'))
def usage_of_turn(world: World, name: str) -> None:
    """The result carries the usage Codex reported when the turn completed."""
    page = world.live.call("codex_events", job_id=world.job(name), limit=500)
    completed = [event for event in records(page["events"]) if event["type"] == "turn.completed"]
    assert len(completed) == 1, dump(page)
    usage = result_of(world, name)["usage"]
    assert usage == completed[0]["usage"], dump(usage)
    tokens = records([usage])[0]
    assert tokens["input_tokens"] and tokens["output_tokens"], dump(usage)


@then(parsers.parse('the cancel says that job "{name}" had already finished'))
def cancel_noop(world: World, name: str) -> None:
    """Cancelling a finished job reports its state and stops nothing."""
    answer = world.answers[f"cancel {name}"]
    assert (answer["state"], answer["previous_state"]) == ("succeeded", "succeeded"), dump(answer)
    assert "already finished" in str(answer["message"]), dump(answer)


@then(parsers.parse('the status lists job "{name}" as "{state}" with its elapsed_s'))
def status_elapsed(world: World, name: str, state: str) -> None:
    """The job's state and a positive elapsed time, from the status the boss read."""
    entry = digest(world, name, world.answers["status"]["jobs"])
    elapsed = entry["elapsed_s"]
    assert entry["state"] == state and isinstance(elapsed, float) and elapsed > 0, dump(entry)


@then(parsers.parse('the tools "{tools}" are {effect}'))
def tools_marked(world: World, tools: str, effect: str) -> None:
    """The named tools carry the annotation hint a client uses to decide on approvals."""
    listed = world.answers["tools"]
    for name in (part.strip() for part in tools.split(",")):
        tool = listed[name]
        assert isinstance(tool, Tool) and tool.annotations is not None, name
        hints = tool.annotations
        if effect == "read-only":
            assert (hints.read_only_hint, hints.destructive_hint) == (True, False), (name, hints)
        else:
            assert (hints.read_only_hint, hints.destructive_hint) == (False, True), (name, hints)


@then(parsers.parse('the tools "{tools}" change state without destroying anything'))
def tools_changing(world: World, tools: str) -> None:
    """The named tools are neither read-only nor idempotent: a client neither runs them in parallel nor retries them."""
    listed = world.answers["tools"]
    for name in (part.strip() for part in tools.split(",")):
        tool = listed[name]
        assert isinstance(tool, Tool) and tool.annotations is not None, name
        hints = tool.annotations
        assert (hints.read_only_hint, hints.idempotent_hint, hints.destructive_hint) == (False, False, False), name


@when(parsers.parse('the boss waits for job "{name}" again'))
def wait_again(world: World, name: str) -> None:
    """Wait for a job an earlier answer already reported, as a boss that lost that answer would."""
    world.answers["wait"] = world.live.call("codex_wait_any", job_ids=[world.job(name)], timeout_s=60)


@then("wait-any returns at once with nothing finished and nothing pending")
def nothing_left(world: World) -> None:
    """The server says nothing of the set is left to wait for: the boss's loop ends."""
    answer = wait_answer(world)
    assert (answer["finished"], answer["pending"], answer["timed_out"]) == ([], [], False), dump(answer)


@then(parsers.parse('the status lists job "{name}" as "{state}" and reported'))
def status_reported(world: World, name: str, state: str) -> None:
    """The status says the job finished and that a wait reported it."""
    entry = digest(world, name, world.answers["status"]["jobs"])
    assert (entry["state"], entry["reported"]) == (state, True), dump(entry)


@then(parsers.parse('the boss can read the result of job "{name}"'))
def result_readable(world: World, name: str) -> None:
    """The lost answer's job is there to read again, with what it changed."""
    answer = world.live.call("codex_result", job_id=world.job(name))
    assert (answer["job_id"], answer["modified_files"]) == (world.job(name), ["a.txt"]), dump(answer)
