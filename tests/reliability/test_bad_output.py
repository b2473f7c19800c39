"""A worker that prints garbage cannot stop its job's stream, and its result says what the contract missed.

The corpus under ``corpus/`` holds malformed, truncated, oversized, binary,
duplicate-key and deeply nested JSONL. A fake worker replays each file byte for
byte through the supervisor: every non-blank line must come back as exactly one
event, in order; lines that cannot be understood are kept as ``unparsed`` with
their size, an excerpt and a reason; good lines after bad ones are still read;
and a run that ends without its final report is told so in ``contract_error``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import replace
from pathlib import Path

import anyio
import pytest

from codex_subagents.core.config import Settings
from codex_subagents.jobs.events import AgentMessage, ItemEvent, ThreadStarted, TurnCompleted, Unparsed, WebSearch
from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRequest
from codex_subagents.supervision.supervisor import JobSupervisor
from reliability.support import counting_codex, make_repo

pytestmark = pytest.mark.anyio

CORPUS = Path(__file__).resolve().parent / "corpus"
LIMIT = 8192
REPORT = json.dumps({"summary": "replayed", "modifiedFiles": []})
EXPECTED = {
    "malformed.jsonl": [
        "thread.started",
        "unparsed: not valid JSON",
        "unparsed: not valid JSON",
        "unparsed: unknown type '5'",
        "unparsed: unexpected shape at top level",
        "unparsed: unexpected shape at top level",
        "unparsed: unexpected shape at top level",
        "unparsed: unexpected shape at item.completed.item.command_execution.id",
        "unparsed: unknown type 'future.event'",
        "unparsed: unknown type 'plan'",
        "unparsed: unexpected shape at turn.completed.usage.input_tokens",
        "unparsed: unexpected shape at top level",
        "turn.completed",
    ],
    "duplicate_keys.jsonl": [
        "thread.started",
        "item.completed",
        "item.completed",
        "unparsed: unexpected shape at item.completed.item.command_execution.status",
        "unparsed: unknown type 'no.such.type'",
        "turn.completed",
    ],
    "binary.bin": [
        "thread.started",
        "unparsed: not valid JSON",
        "unparsed: not UTF-8 text: byte 0xff at offset 0",
        "unparsed: not UTF-8 text: byte 0xff at offset 73",
        "turn.started",
        "unparsed: not UTF-8 text",
        "unparsed: not valid JSON",
        "unparsed: not valid JSON: Invalid JSON: control character",
        "unparsed: not UTF-8 text: byte 0x89",
        "unparsed: not valid JSON",
        "turn.completed",
    ],
    "oversized.jsonl": [
        "thread.started",
        "item.completed",
        f"unparsed: line size of {LIMIT + 1} bytes exceeds the {LIMIT}-byte limit",
        f"unparsed: line size of 12000 bytes exceeds the {LIMIT}-byte limit",
        f"unparsed: line size of 9000 bytes exceeds the {LIMIT}-byte limit",
        "turn.completed",
    ],
    "deep_nesting.jsonl": [
        "thread.started",
        "unparsed: nested too deeply",
        "unparsed: not valid JSON: Invalid JSON: recursion limit exceeded",
        "turn.completed",
    ],
    "truncated.jsonl": ["thread.started", "turn.started", "unparsed: not valid JSON: Invalid JSON: EOF"],
}


@pytest.fixture
async def supervisor(tmp_path: Path) -> AsyncGenerator[JobSupervisor]:
    """A supervisor whose worker is the fake codex, with an 8 KiB line limit."""
    repo = make_repo(tmp_path / "repo")
    codex, _ = counting_codex(tmp_path)
    settings = Settings(state_dir=tmp_path / "state", allow_roots=(repo,), codex=codex, max_line_bytes=LIMIT)
    async with JobSupervisor(settings) as running:
        yield running


def replay(data: bytes, **plan: object) -> str:
    """A fake-worker prompt that prints ``data`` exactly, then acts out ``plan``."""
    *lines, tail = data.split(b"\n")
    behaviour: dict[str, object] = {"lines": [list(line) for line in lines], **plan}
    if tail:
        behaviour["raw"] = tail.decode("ascii")
    return "FAKE:" + json.dumps(behaviour)


async def run(supervisor: JobSupervisor, prompt: str) -> Job:
    """Run one fake worker to its end."""
    cwd = str(supervisor.settings.allow_roots[0])
    request = JobRequest(
        prompt=prompt, cwd=cwd, label="replay", sandbox="workspace-write", wall_timeout_s=60, idle_timeout_s=60
    )
    job = await supervisor.spawn(request)
    with anyio.fail_after(30):
        await job.finished.wait()
    return job


def describe(job: Job) -> list[str]:
    """Each event as its type, or ``unparsed: <reason>``."""
    return [
        f"unparsed: {event.reason}" if isinstance(event, Unparsed) else event.type
        for event in job.journal.read(0, job.journal.count)
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_every_corpus_line_becomes_one_event_and_the_stream_goes_on(supervisor: JobSupervisor, name: str) -> None:
    """Each non-blank line is one event in order; the unreadable ones are kept with a reason, the rest parsed."""
    data = (CORPUS / name).read_bytes()
    job = await run(supervisor, replay(data, last_message=REPORT))
    described = describe(job)
    assert len(described) == len(EXPECTED[name]), described
    for seen, expected in zip(described, EXPECTED[name], strict=True):
        assert seen.startswith(expected), (seen, expected)
    lines = [line for line in data.split(b"\n") if line.strip()]
    for line, event in zip(lines, job.journal.read(0, job.journal.count), strict=True):
        if isinstance(event, Unparsed):
            assert event.size == len(line)
            assert event.excerpt == line[:2000].decode("utf-8", errors="replace")[:500]
    assert [event.seq for event in job.journal.read(0, job.journal.count)] == list(range(job.journal.count))
    assert (job.journal.stdout_path.read_bytes(), job.record.result is not None) == (data, True)
    complete = EXPECTED[name][-1] == "turn.completed"
    assert job.record.state == ("succeeded" if complete else "failed"), job.record.result


async def test_a_line_at_the_limit_is_kept_whole_and_one_past_it_is_cut(supervisor: JobSupervisor) -> None:
    """The limit is inclusive: a line of exactly max_line_bytes parses; one byte more is an oversize excerpt."""
    job = await run(supervisor, replay((CORPUS / "oversized.jsonl").read_bytes()))
    at_limit, past_limit = job.journal.read(1, 2)
    assert isinstance(at_limit, ItemEvent) and isinstance(at_limit.item, AgentMessage)
    assert len(at_limit.item.text) == LIMIT - len(
        '{"type":"item.completed","item":{"id":"big","type":"agent_message","text":""}}'
    )
    assert isinstance(past_limit, Unparsed)
    assert (past_limit.size, len(past_limit.excerpt)) == (LIMIT + 1, 500)


async def test_duplicate_keys_keep_the_last_value_and_both_web_search_ids(supervisor: JobSupervisor) -> None:
    """A repeated key counts once, as JSON parsers agree (the last wins); web_search's two ids are both kept."""
    job = await run(supervisor, replay((CORPUS / "duplicate_keys.jsonl").read_bytes()))
    started, search, message = job.journal.read(0, 3)
    assert isinstance(started, ThreadStarted) and started.thread_id == "second"
    assert isinstance(search, ItemEvent) and isinstance(search.item, WebSearch)
    assert (search.item.id, search.item.search_id) == ("ws_1", "ws_2")
    assert isinstance(message, ItemEvent) and isinstance(message.item, AgentMessage)
    assert message.item.text == "second"


async def test_a_worker_that_ends_without_its_report_is_told_what_is_missing(supervisor: JobSupervisor) -> None:
    """No final message, a final message that is not JSON, or one without modifiedFiles: each is named."""
    turn = [list(line) for line in (CORPUS / "malformed.jsonl").read_bytes().split(b"\n")[-2:-1]]
    cases = {
        None: "the final message is missing, so the worker reported no modifiedFiles",
        "I changed a.txt": "the final message is not valid JSON, so not the object {summary, modifiedFiles}",
        '["a.txt"]': "the final message is JSON but not an object {summary, modifiedFiles}",
        '{"summary": "done"}': "the final message has no modifiedFiles list of paths",
        '{"summary": "done", "modifiedFiles": [1]}': "the final message has no modifiedFiles list of paths",
        '{"modifiedFiles": ["a.txt"]}': "the final message has no summary string",
    }
    for final, contract_error in cases.items():
        plan: dict[str, object] = {"lines": turn}
        if final is not None:
            plan["last_message"] = final
        job = await run(supervisor, "FAKE:" + json.dumps(plan))
        assert job.record.result is not None
        assert (job.record.state, job.record.result.contract_error) == ("succeeded", contract_error), final
        assert isinstance(job.journal.read(job.journal.count - 1, 1)[0], TurnCompleted)


async def test_a_truncated_stream_without_a_report_fails_and_says_so(supervisor: JobSupervisor) -> None:
    """A worker that stops mid-line and exits is failed, its torn line kept, and its missing report named."""
    job = await run(supervisor, replay((CORPUS / "truncated.jsonl").read_bytes()))
    assert job.record.state == "failed"
    assert job.record.result is not None
    assert job.record.result.contract_error == "the final message is missing, so the worker reported no modifiedFiles"
    assert job.record.result.error == "codex exited with code 0 before completing its turn"
    last = job.journal.read(job.journal.count - 1, 1)[0]
    assert isinstance(last, Unparsed) and last.excerpt.endswith('"type":"agent_mess')


async def test_a_supervisor_survives_every_corpus_file_at_once(tmp_path: Path) -> None:
    """All the corpus files replayed side by side, past the cap, leave the supervisor answering."""
    repo = make_repo(tmp_path / "repo")
    codex, counter = counting_codex(tmp_path)
    settings = Settings(state_dir=tmp_path / "state", allow_roots=(repo,), codex=codex, max_line_bytes=LIMIT, cap=2)
    async with JobSupervisor(replace(settings, queue_limit=len(EXPECTED))) as supervisor:
        request = JobRequest(
            prompt="", cwd=str(repo), label="all", sandbox="workspace-write", wall_timeout_s=60, idle_timeout_s=60
        )
        jobs = [
            await supervisor.spawn(request.model_copy(update={"prompt": replay((CORPUS / name).read_bytes())}))
            for name in sorted(EXPECTED)
        ]
        with anyio.fail_after(60):
            for job in jobs:
                await job.finished.wait()
        for job, name in zip(jobs, sorted(EXPECTED), strict=True):
            assert describe(job)[-1].startswith(EXPECTED[name][-1]), name
    assert len(counter.read_text().splitlines()) == len(EXPECTED)
