"""Every job of a worktree makes a claim, this server's from its live state and other servers' from their records."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_subagents.coordination.claims import of_worktree
from codex_subagents.core.paths import git_quoted
from codex_subagents.jobs.job import Job
from codex_subagents.jobs.journal import JobRecord, JobRequest, Journal
from codex_subagents.jobs.models import JobResult, timings

pytestmark = pytest.mark.anyio
ROOT = Path("/w/repo")


def record(job_id: str, cwd: str, root: str | None, done: bool, server: str = "s-other") -> JobRecord:
    """A job that reported ``a.txt`` and was seen patching ``b.txt``, finished at 30 when ``done``."""
    request = JobRequest(
        prompt="p", cwd=cwd, label=job_id, sandbox="read-only", wall_timeout_s=1, idle_timeout_s=1, root=root
    )
    result = JobResult(
        job_id=job_id,
        label=job_id,
        state="succeeded",
        summary=None,
        error=None,
        contract_error=None,
        exit_code=0,
        modified_files=["a.txt"],
        observed_files=[f"{cwd}/b.txt"],
        final_message=None,
        usage=None,
        timings=timings(10.0, 20.0, 30.0),
    )
    state = "succeeded" if done else "running"
    return JobRecord(
        job_id=job_id, request=request, server_id=server, state=state, started_at=20.0, result=result if done else None
    )


async def test_other_servers_jobs_claim_what_their_results_name_and_are_marked_elsewhere(tmp_path: Path) -> None:
    """Only jobs of this worktree count: those whose cwd lies in it, an old record without a worktree included."""
    others = [
        record("j-done", "/w/repo/sub", "/w/repo", done=True),
        record("j-old", "/w/repo", None, done=True),
        record("j-away", "/w/other", "/w/other", done=True),
        record("j-nested", "/w/repo/lib", "/w/repo/lib", done=True),
        record("j-running", "/w/repo", "/w/repo", done=False),
    ]
    mine = Job(record=record("j-mine", "/w/repo", "/w/repo", done=False, server="s-me"), journal=Journal(tmp_path))
    mine.observed["/w/repo/c.txt"] = None
    claims = of_worktree(ROOT, [mine], others)
    assert sorted(claims) == ["j-done", "j-mine", "j-nested", "j-old", "j-running"]
    done = claims["j-done"]
    assert (done.reported, done.observed, done.started, done.finished, done.elsewhere) == (
        frozenset({"sub/a.txt"}),
        frozenset({"sub/b.txt"}),
        20.0,
        30.0,
        True,
    )
    assert (claims["j-running"].touched, claims["j-running"].finished, claims["j-running"].elsewhere) == (
        frozenset(),
        None,
        True,
    )
    assert (claims["j-mine"].touched, claims["j-mine"].elsewhere) == (frozenset({"c.txt"}), False)


async def test_what_the_watch_put_on_a_job_is_its_claim_from_its_record_on_any_server(tmp_path: Path) -> None:
    """The paths saved in a record's seen_files are claimed, for a running job of another server as for this one's."""
    running = record("j-running", "/w/repo", "/w/repo", done=False)
    running.seen_files = ["shared.txt"]
    mine = Job(record=record("j-mine", "/w/repo/sub", "/w/repo", done=False, server="s-me"), journal=Journal(tmp_path))
    mine.record.seen_files = ["sub/x.txt"]
    claims = of_worktree(ROOT, [mine], [running])
    assert (claims["j-running"].seen, claims["j-running"].only_seen) == (frozenset({"shared.txt"}),) * 2
    assert (claims["j-mine"].touched, claims["j-mine"].reported) == (frozenset({"sub/x.txt"}), frozenset())


async def test_a_job_in_a_submodule_claims_its_paths_in_the_superproject(tmp_path: Path) -> None:
    """The job that blocks the superproject's rollback while it runs also accounts for its writes there: what it
    reported, what it was seen changing and its scope, all named from the superproject's top."""
    nested = record("j-sub", "/w/repo/lib/src", "/w/repo/lib", done=True)
    nested.request.scope = ["src/**"]
    nested.seen_files = ["src/shell.txt"]
    claim = of_worktree(ROOT, [], [nested])["j-sub"]
    assert (claim.reported, claim.observed, claim.seen) == (
        frozenset({"lib/src/a.txt"}),
        frozenset({"lib/src/b.txt"}),
        frozenset({"lib/src/shell.txt"}),
    )
    assert claim.scope == ("lib/src/**",)
    assert nested.request.works_in(ROOT) and not nested.request.works_in(Path("/w/other"))


async def test_a_seen_name_that_is_not_utf8_is_kept_quoted_and_claimed_by_its_name(tmp_path: Path) -> None:
    """A record keeps what the watch saw as git quotes it, so it saves as JSON; the claim names the file itself."""
    job = Job(record=record("j-latin1", "/w/repo", "/w/repo", done=False, server="s-me"), journal=Journal(tmp_path))
    job.record.seen_files = [git_quoted(os.fsdecode(b"caf\xe9.txt"))]
    job.journal.create(job.record)
    assert of_worktree(ROOT, [job])["j-latin1"].seen == {os.fsdecode(b"caf\xe9.txt")}
