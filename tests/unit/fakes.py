"""Fake workers for the supervisor's tests: plans for `tests/fake_codex.py`, settings that run it, watched journals.

The fake worker reaches every state quickly and exactly; the acceptance suite runs the real Codex CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from codex_subagents.core.config import Settings
from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRequest, Journal
from codex_subagents.supervision.supervisor import JobSupervisor

FAKE = Path(__file__).resolve().parents[1] / "fake_codex.py"

GOOD_RUN = [
    '{"type":"thread.started","thread_id":"t-1"}',
    '{"type":"turn.started"}',
    '{"type":"item.completed","item":{"id":"item_0","type":"file_change",'
    '"changes":[{"path":"/w/a.txt","kind":"add"}],"status":"completed"}}',
    '{"type":"turn.completed","usage":{"input_tokens":10,"cached_input_tokens":0,'
    '"cache_write_input_tokens":0,"output_tokens":5,"reasoning_output_tokens":0}}',
]
FINAL = json.dumps({"summary": "wrote a.txt", "modifiedFiles": ["a.txt"]})


def fake_settings(tmp_path: Path) -> Settings:
    """Settings whose codex is the fake worker, with the state dir in a temporary directory."""
    codex = tmp_path / "codex"
    codex.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    codex.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    return Settings(
        cap=2,
        queue_limit=2,
        state_dir=tmp_path / "state",
        allow_roots=(work,),
        codex=codex,
        kill_grace_s=1.0,
    )


def plan(**behaviour: object) -> JobRequest:
    """A request whose fake worker acts out ``behaviour``."""
    return JobRequest(
        prompt="FAKE:" + json.dumps(behaviour),
        cwd="/w",
        label=str(behaviour.get("label", "job")),
        sandbox="workspace-write",
        wall_timeout_s=float(str(behaviour.get("wall", 60))),
        idle_timeout_s=float(str(behaviour.get("idle", 60))),
    )


class WatchedJournal(Journal):
    """A journal that announces each batch of events it appends, so a test can wait for output without polling."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.appended = anyio.Event()

    def append(self, *events: bytes) -> None:
        """Append, then wake whoever waits for the next batch."""
        super().append(*events)
        self.appended.set()
        self.appended = anyio.Event()


@asynccontextmanager
async def supervising(
    settings: Settings, environ: dict[str, str] | None = None, open_journal: Callable[[Path], Journal] | None = None
) -> AsyncGenerator[JobSupervisor]:
    """A supervisor whose journals announce their appends, unless ``open_journal`` opens others."""
    async with JobSupervisor(settings, environ=environ, open_journal=open_journal or WatchedJournal) as supervisor:
        yield supervisor


def in_root(settings: Settings, request: JobRequest) -> JobRequest:
    """Point a request at the allowed root."""
    return request.model_copy(update={"cwd": str(settings.allow_roots[0])})


async def until(job: Job, condition: Callable[[Job], bool]) -> None:
    """Wait, woken by each batch of events journaled, until ``condition`` holds for the job."""
    journal = job.journal
    assert isinstance(journal, WatchedJournal)
    with anyio.fail_after(10):
        while not condition(job):
            await journal.appended.wait()
