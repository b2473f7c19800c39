"""The live-coordination scenarios: alerts while workers run, declared scopes and usage totals, with real workers.

A collision is staged with held turns: the first worker patches a file and then waits on its model, the
second writes the same file and waits too, so both are still running when the boss's wait returns.
"""

from __future__ import annotations

import json

from pytest_bdd import parsers, scenarios, then, when

from world import World, digest, dump, names, records, result_of, spawn, wait_answer

scenarios("live-coordination.feature")

_USAGE_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
)


# -- workers ------------------------------------------------------------------------------------------


# -- the boss's calls ---------------------------------------------------------------------------------


@when(parsers.parse('from the directory "{cwd}" the boss spawns a worker running script "{name}" with scope "{scope}"'))
def spawn_scoped_in(world: World, cwd: str, name: str, scope: str) -> None:
    """Spawn one worker whose cwd is a directory of the worktree, owning the paths or globs from there."""
    spawn(world, name, cwd=str(world.path(cwd)), scope=names(scope))


@when(parsers.parse('the boss waits until jobs "{jobs}" are reported, keeping the alerts'))
def wait_keeping_alerts(world: World, jobs: str) -> None:
    """Loop on codex_wait_any until every named job is reported, keeping each answer's alerts in order."""
    wanted = [world.job(name) for name in names(jobs)]
    pending, kept = set(wanted), list[object]()
    for _ in range(50):
        if not pending:
            break
        answer = world.live.call("codex_wait_any", job_ids=wanted, timeout_s=120)
        assert answer["timed_out"] is False, f"jobs did not finish: {dump(answer)}"
        kept += records(answer["alerts"])
        pending -= {str(entry["job_id"]) for entry in records(answer["finished"])}
    assert not pending, f"never reported: {sorted(pending)}"
    world.answers["kept alerts"] = {"alerts": kept}


@when(parsers.parse("the boss waits for any job with a progress token and timeout_s {timeout:d}"))
def wait_with_progress(world: World, timeout: int) -> None:
    """Call codex_wait_any with a progress callback, noting how many notifications came before the result."""
    notes: list[str] = []
    client = world.live.client

    async def note(progress: float, total: float | None, message: str | None) -> None:
        del progress, total
        notes.append(message or "")

    async def wait() -> dict[str, object]:
        result = await client.call_tool("codex_wait_any", {"timeout_s": timeout}, progress_callback=note)
        assert not result.is_error and result.structured_content is not None, result
        return {**result.structured_content, "notes at return": len(notes)}

    world.answers["wait"] = world.live.portal.call(wait)
    world.answers["progress"] = {"notes": notes}


# -- what the boss sees -------------------------------------------------------------------------------


@then("wait-any returns before any job finishes")
def returned_early(world: World) -> None:
    """The wait came back with nothing finished, long before its timeout."""
    answer = wait_answer(world)
    assert (answer["finished"], answer["timed_out"]) == ([], False), dump(answer)


@then(parsers.parse('codex_status lists that alert and jobs "{jobs}" as running'))
def status_shows_alert(world: World, jobs: str) -> None:
    """The status of the colliding jobs carries the alert the wait returned, and neither job has finished."""
    status = world.live.call("codex_status", job_ids=[world.job(name) for name in names(jobs)])
    assert world.answers["alert"] in records(status["alerts"]), dump(status)
    for name in names(jobs):
        assert digest(world, name, status["jobs"])["state"] == "running", dump(status)


@then("no alert was listed again")
def no_repeat(world: World) -> None:
    """Each alert is listed by one wait only: the waits after the first list none."""
    assert records(world.answers["kept alerts"]["alerts"]) == [], dump(world.answers["kept alerts"])


@then(parsers.parse('the boss received a progress notification naming "{file}" before the result'))
def progress_names(world: World, file: str) -> None:
    """A notification sent while the call was open carries the alert's path."""
    notes = [str(note) for note in json.loads(json.dumps(world.answers["progress"]["notes"]))]
    at_return = wait_answer(world)["notes at return"]
    assert isinstance(at_return, int)
    assert any(file in note for note in notes[:at_return]), notes


@then(parsers.parse('the worker preamble names the scope "{scope}"'))
def preamble_scope(world: World, scope: str) -> None:
    """Each scope item is in the contract, before the boss's task."""
    text = str(world.answers["preamble"]["text"])
    task = text.index("Your task:")
    for item in names(scope):
        assert 0 <= text.find(json.dumps(item)[1:-1]) < task, text[:task]


@then(parsers.parse('job "{later}" started after job "{earlier}" finished'))
def started_after(world: World, later: str, earlier: str) -> None:
    """The queued job's run began only once the job it conflicted with had ended."""
    before, after = records([result_of(world, earlier)["timings"], result_of(world, later)["timings"]])
    finished, started = before["finished_at"], after["started_at"]
    assert isinstance(finished, float) and isinstance(started, float), (before, after)
    assert started >= finished, dump({"earlier": before, "later": after})


@then(parsers.parse('the overlaps list "{file}" as out of scope for job "{name}"'))
def overlaps_out_of_scope(world: World, file: str, name: str) -> None:
    """codex_overlaps names the stray path under the job."""
    report = world.answers["overlaps"]
    assert report["out_of_scope"] == {world.job(name): [file]}, dump(report)


@then(parsers.parse('an out_of_scope alert on "{file}" by job "{name}", seen by "{seen}", was listed'))
def out_of_scope_alert(world: World, file: str, name: str, seen: str) -> None:
    """One of the boss's waits listed the stray write as it happened."""
    alerts = records(world.answers["kept alerts"]["alerts"])
    found = [a for a in alerts if a["kind"] == "out_of_scope" and a["path"] == file]
    assert len(found) == 1, dump(alerts)
    assert (found[0]["jobs"], found[0]["seen"]) == ([world.job(name)], seen), dump(found)


@then(parsers.parse('codex_status of jobs "{jobs}" sums the usage of their results'))
def usage_summed(world: World, jobs: str) -> None:
    """The status's usage is the field-by-field sum of the listed jobs' result usage, and not empty."""
    status = world.live.call("codex_status", job_ids=[world.job(name) for name in names(jobs)])
    usages = records([result_of(world, name)["usage"] for name in names(jobs)])
    expected = {field: sum(int(str(usage[field])) for usage in usages) for field in _USAGE_FIELDS}
    assert status["usage"] == expected, dump({"status": status["usage"], "results": usages})
    assert expected["input_tokens"] > 0, dump(usages)
