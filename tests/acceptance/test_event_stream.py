"""The event-stream scenarios: paging by cursor, normalization and unreadable lines, over a real MCP session.

The server of these scenarios starts its workers through `injecting_codex.py`, a
wrapper that runs the real Codex CLI and, when the prompt asks for it, slips bad
lines or a flood of events into its output: real Codex never prints them.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from harness import Json
from pytest_bdd import given, parsers, scenarios, then, when

from world import World, dump, events_of, final, items, page, records, spawn

INJECTING_CODEX = Path(__file__).resolve().parent / "injecting_codex.py"

scenarios("event-stream.feature")


@pytest.fixture
def world(world: World) -> World:
    """The shared world, with the server's workers started through the injecting wrapper."""
    world.server_args += ["--codex", str(INJECTING_CODEX)]
    return world


def seen_twice(world: World, item_type: str) -> tuple[Json, Json]:
    """The started and the completed item of one type on the last page, which must share their item id."""
    phases = items(records(page(world)["events"]), item_type)
    assert {"started", "completed"} <= phases.keys(), dump(page(world))
    assert phases["started"]["id"] == phases["completed"]["id"], dump(phases)
    return phases["started"], phases["completed"]


# -- workers -----------------------------------------------------------------------------------------


@given(parsers.parse('a worker script "{name}" that searches the web for "{query}"'))
def searches(world: World, name: str, query: str) -> None:
    """A worker whose model searches the web once and then answers."""
    world.add_script(name, [{"search": query, **final([])}])


@given(parsers.parse('a worker "{name}" whose output carries a {kind} line between valid events'))
def garbled(world: World, name: str, kind: str) -> None:
    """A real worker running two commands, with one bad line slipped in after its first line."""
    world.add_script(name, [{"shell": "echo one", "login": False}, {"shell": "echo two", "login": False}, final([])])
    world.prompts[name] = f"[garble {kind}] Run the two commands."


@given(parsers.parse('a finished job "{name}" with at least {count:d} events'))
def long_job(world: World, name: str, count: int) -> None:
    """A real worker whose output carries ``count`` extra valid events, run to its end."""
    world.add_script(name, [final([])])
    spawn(world, name, prompt=f"[flood {count}] Answer at once.")
    world.live.wait_all([world.job(name)])
    end = world.live.call("codex_events", job_id=world.job(name), cursor=count)
    assert end["finished"] is True and int(str(end["next_cursor"])) >= count, dump(end)


# -- the boss reads --------------------------------------------------------------------------------


@when(parsers.parse('the boss reads the events of job "{name}" from the last next_cursor'))
def read_after_end(world: World, name: str) -> None:
    """Read again at the cursor where the last page ended."""
    cursor = page(world)["next_cursor"]
    world.answers["cursor passed"] = {"cursor": cursor}
    world.answers["page"] = world.live.call("codex_events", job_id=world.job(name), cursor=cursor)


@when(
    parsers.parse(
        'the boss reads the events of job "{name}" with limit {limit:d} from the next_cursor after event {seq:d}'
    )
)
def read_at(world: World, name: str, limit: int, seq: int) -> None:
    """Read one page starting right after event ``seq``."""
    world.answers["page"] = world.live.call("codex_events", job_id=world.job(name), cursor=seq + 1, limit=limit)


@when(parsers.parse("a client waits for any job with a progress token and timeout_s {timeout:d}"))
def wait_with_progress(world: World, timeout: int) -> None:
    """Call codex_wait_any with a progress callback, which makes the client send a progress token."""
    notes: list[Json] = []
    client = world.live.client

    async def note(progress: float, total: float | None, message: str | None) -> None:
        notes.append({"progress": progress, "total": total, "message": message})

    async def wait() -> Json:
        result = await client.call_tool("codex_wait_any", {"timeout_s": timeout}, progress_callback=note)
        assert not result.is_error and result.structured_content is not None, result
        notes_at_return = len(notes)
        return {**result.structured_content, "notes at return": notes_at_return}

    world.answers["wait"] = world.live.portal.call(wait)
    world.answers["progress"] = {"notes": notes}


# -- what the boss sees ----------------------------------------------------------------------------


@then(parsers.parse("the last page has finished {value}"))
def last_finished(world: World, value: str) -> None:
    """Whether the last page says the stream is over."""
    assert page(world)["finished"] is (value == "true"), dump(page(world))


@then("the page has no events")
def empty_page(world: World) -> None:
    """Nothing past the end."""
    assert page(world)["events"] == [], dump(page(world))


@then("the page's next_cursor is the cursor the boss passed")
def cursor_unchanged(world: World) -> None:
    """Reading at the end does not move the cursor."""
    assert page(world)["next_cursor"] == world.answers["cursor passed"]["cursor"], dump(page(world))


@then(parsers.parse('the page holds a "{item_type}" event for "{file}"'))
def holds_file_change(world: World, item_type: str, file: str) -> None:
    """A file change of the running job, for the named file, is already readable."""
    changes = list(items(records(page(world)["events"]), item_type).values())
    paths = [str(change["path"]) for item in changes for change in records(item["changes"])]
    assert any(path.endswith("/" + file) for path in paths), dump(page(world))


@then(parsers.parse('the page has finished false and state "{state}"'))
def page_running(world: World, state: str) -> None:
    """The page of a running job says so."""
    assert (page(world)["finished"], page(world)["state"]) == (False, state), dump(page(world))


@then(parsers.parse('the events of job "{name}" are numbered from 0 without a gap or a repeat'))
def numbered(world: World, name: str) -> None:
    """Sequence numbers run 0, 1, 2... across the bad line too."""
    events = events_of(world, name)
    assert [event["seq"] for event in events] == list(range(len(events))), dump(events)
    assert any(event["type"] == "unparsed" for event in events), dump(events)


@then(
    parsers.parse(
        'the page holds a "{item_type}" event in phase "started" and one in phase "completed" with the same item id'
    )
)
def started_and_completed(world: World, item_type: str) -> None:
    """One item, seen twice."""
    world.answers["item"] = seen_twice(world, item_type)[1]


@then(parsers.parse('the completed "{item_type}" event has exit code {code:d} and output "{output}"'))
def completed_command(world: World, item_type: str, code: int, output: str) -> None:
    """The command's outcome, as the worker saw it (its last line: a host's shell may print notices first)."""
    item = world.answers["item"]
    last_line = str(item["aggregated_output"]).strip().splitlines()[-1]
    assert (item["type"], item["exit_code"], last_line) == (item_type, code, output), dump(item)


@then("the completed turn event has the input, cached input, output and reasoning token counts the model reported")
def turn_usage(world: World) -> None:
    """Codex sums the usage of the turn's model answers; the event carries those sums."""
    (name,) = world.jobs
    completed = [event for event in records(page(world)["events"]) if event["type"] == "turn.completed"]
    assert len(completed) == 1, dump(page(world))
    reported = [
        records([request.usage])[0]
        for request in world.live.model.requests
        if request.script == world.instances[name] and request.usage is not None
    ]
    assert len(reported) == 2, f"expected the patch turn and the final turn, got {reported}"

    def total(field: str, detail: str | None = None) -> int:
        return sum(int(str(records([usage[field]])[0][detail] if detail else usage[field])) for usage in reported)

    expected = {
        "input_tokens": total("input_tokens"),
        "cached_input_tokens": total("input_tokens_details", "cached_tokens"),
        "output_tokens": total("output_tokens"),
        "reasoning_output_tokens": total("output_tokens_details", "reasoning_tokens"),
    }
    usage = records([completed[0]["usage"]])[0]
    assert {key: usage[key] for key in expected} == expected, dump(usage)


@then(
    parsers.parse(
        'the "{item_type}" events in phase "started" and "completed" both have the item id Codex gave the search'
    )
)
def search_item_ids(world: World, item_type: str) -> None:
    """The item id survives the duplicate ``id`` key Codex writes into web search lines."""
    started, completed = seen_twice(world, item_type)
    assert str(started["id"]).startswith("item_"), dump(started)
    world.answers["item phases"] = {"phases": [started, completed]}


@then(parsers.parse('both "{item_type}" events keep the search id the model sent'))
def search_ids(world: World, item_type: str) -> None:
    """The second ``id`` is the model's search id, kept as ``search_id``."""
    (name,) = world.jobs
    sent = f"ws_{world.instances[name]}_0"
    phases = records(world.answers["item phases"]["phases"])
    assert [(item["type"], item["search_id"]) for item in phases] == [(item_type, sent)] * 2, dump(phases)


@then(parsers.parse('the events of job "{name}" hold one "{kind}" event whose reason mentions "{reason}"'))
def one_unparsed(world: World, name: str, kind: str, reason: str) -> None:
    """Exactly one event stands for the bad line, and it says why."""
    bad = [event for event in events_of(world, name) if event["type"] == kind]
    assert len(bad) == 1 and reason in str(bad[0]["reason"]), dump(bad)


@then(parsers.parse('the events of job "{name}" hold the valid events printed after the malformed line'))
def after_unparsed(world: World, name: str) -> None:
    """Everything Codex printed after the bad line is there, in order, up to the completed turn."""
    kinds = [str(event["type"]) for event in events_of(world, name)]
    assert kinds[:2] == ["thread.started", "unparsed"], kinds
    assert kinds[2] == "turn.started" and kinds[-1] == "turn.completed", kinds
    commands = items(events_of(world, name)[2:], "command_execution")
    assert commands.keys() >= {"started", "completed"}, kinds


@then(parsers.parse("the page holds the events numbered {first:d} to {last:d}"))
def numbered_range(world: World, first: int, last: int) -> None:
    """The page starts at the cursor and holds ``limit`` events."""
    assert [event["seq"] for event in records(page(world)["events"])] == list(range(first, last + 1)), dump(page(world))


@then(parsers.parse('the server read no event of job "{name}" before the cursor'))
def nothing_read_before(world: World, name: str) -> None:
    """The page is served from the index: with every journal byte before it overwritten, it reads the same.

    The journal keeps the job's events one per line and, in ``events.idx``, the
    offset of each line; the server keeps none of them in memory. Destroying the
    lines before the cursor (newlines included) changes nothing for a reader that
    seeks, and breaks any reader that scans from the start.
    """
    first = records(page(world)["events"])[0]["seq"]
    journal = world.journal(name)
    (offset,) = struct.unpack("<Q", (journal / "events.idx").read_bytes()[8 * int(str(first)) :][:8])
    with (journal / "events.jsonl").open("r+b") as lines:
        lines.write(b"x" * offset)
    again = world.live.call(
        "codex_events", job_id=world.job(name), cursor=first, limit=len(records(page(world)["events"]))
    )
    assert again["events"] == page(world)["events"], dump(again)


@then("the client received at least one progress notification for that token before the result")
def progress_received(world: World) -> None:
    """Progress arrived while the call was open, and says how many jobs are done."""
    notes = records(world.answers["progress"]["notes"])
    assert world.answers["wait"]["notes at return"] == len(notes) >= 1, dump(notes)
    assert notes[0]["message"] == "0 of 1 jobs finished", dump(notes)
    assert world.answers["wait"]["timed_out"] is True, dump(world.answers["wait"])
