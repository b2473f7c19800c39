"""codex_overlaps knows time: runs that overlapped collide, runs in turn do not, and rollbacks undo touches."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codex_subagents.coordination import batch
from codex_subagents.coordination.claims import Claim, claim
from codex_subagents.core.errors import WorktreeBusyError
from codex_subagents.worktree import baselines, rollback_log
from codex_subagents.worktree.location import worktree_at
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one committed file."""
    return committed(tmp_path / "repo", {"shared.txt": "start\n"})


def ran(repo: Path, files: list[str], start: float, end: float | None, scope: tuple[str, ...] = ()) -> Claim:
    """A job that reported ``files`` and ran from ``start`` to ``end`` (None: still running)."""
    return claim(repo, repo, files, [], (start, end), scope)


async def test_jobs_that_ran_together_overlap_and_jobs_that_ran_in_turn_do_not(repo: Path) -> None:
    """The same shared path is an overlap for runs that crossed, and in_sequence, in run order, for runs in turn."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "shared.txt").write_text("both\n")
    now = time.time()
    together = {"j-a": ran(repo, ["shared.txt"], now, now + 10), "j-b": ran(repo, ["shared.txt"], now + 5, None)}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(together), together)
    assert (report.overlaps, report.in_sequence, report.clean) == ({"shared.txt": ["j-a", "j-b"]}, {}, False)
    in_turn = {"j-b": ran(repo, ["shared.txt"], now + 20, now + 30), "j-a": ran(repo, ["shared.txt"], now, now + 10)}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(in_turn), in_turn)
    assert (report.overlaps, report.in_sequence, report.clean) == ({}, {"shared.txt": ["j-a", "j-b"]}, True)


async def test_a_change_any_job_of_the_worktree_accounts_for_is_not_unclaimed(repo: Path) -> None:
    """A path written by an earlier job left out of the call is claimed by it; a job over before the baseline is not."""
    (repo / "old.txt").write_text("before the baseline\n")
    before = time.time() - 100
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "done.txt").write_text("an earlier clean job\n")
    (repo / "old.txt").write_text("changed after the baseline\n")
    now = time.time()
    claims = {
        "j-early": ran(repo, ["done.txt"], now, now + 1),
        "j-gone": ran(repo, ["old.txt"], before, before + 1),
        "j-rerun": ran(repo, [], now + 2, now + 3),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-rerun"], claims)
    assert report.unclaimed == ["old.txt"]


async def test_after_a_rollback_and_serial_re_runs_the_report_is_clean(repo: Path) -> None:
    """The colliding jobs' touches of the path rolled back no longer count; the re-runs in turn are in_sequence."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    start = time.time()
    (repo / "shared.txt").write_text("a and b collided\n")
    ended = time.time()  # both ended before the rollback began, however fast it is
    first = {
        "j-a": ran(repo, ["shared.txt"], start, ended),
        "j-b": ran(repo, ["shared.txt"], start, ended),
    }
    await batch.roll_back(worktree, baseline.info.baseline_id, ["shared.txt"], busy=batch.Busy(), claims={})
    after = time.time()
    (repo / "shared.txt").write_text("a, then b\n")
    claims = {
        **first,
        "j-a2": ran(repo, ["shared.txt"], after + 1, after + 2),
        "j-b2": ran(repo, ["shared.txt"], after + 3, after + 4),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert (report.overlaps, report.in_sequence, report.unclaimed) == ({}, {"shared.txt": ["j-a2", "j-b2"]}, [])
    assert report.clean
    assert report.unchanged_claims == {}


async def test_a_path_the_rollback_could_not_put_back_still_counts_for_the_jobs_that_touched_it(repo: Path) -> None:
    """A rollback of everything undoes the touches of what it restored, not of a path it had to leave."""
    (repo / ".gitignore").write_text("*.log\n")
    (repo / "other.txt").write_text("start\n")
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    start = time.time()
    (repo / "other.txt").write_text("a and b collided\n")
    (repo / "shared.txt").unlink()
    (repo / "shared.txt").mkdir()
    (repo / "shared.txt" / "trace.log").write_text("an ignored file where the baseline had a file\n")
    claims = {
        "j-a": ran(repo, ["shared.txt", "other.txt"], start, start + 0.01),
        "j-b": ran(repo, ["shared.txt", "other.txt"], start, start + 0.02),
    }
    result = await batch.roll_back(worktree, baseline.info.baseline_id, None, busy=batch.Busy(), claims={})
    assert [item.path for item in result.not_restored] == ["shared.txt"]
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert report.overlaps == {"shared.txt": ["j-a", "j-b"]}
    assert not report.clean


async def test_the_rollback_log_keeps_paths_and_whole_rollbacks_and_skips_a_torn_line(repo: Path) -> None:
    """Each rollback is read back with its paths (any bytes) or as a rollback of everything."""
    odd = "caf\udce9.txt"
    worktree = await worktree_at(repo)
    await rollback_log.record(worktree, 10.0, [odd])
    await rollback_log.record(worktree, 20.0, None)
    log = repo / ".git" / "codex-subagents" / "rollbacks.jsonl"
    log.write_text(log.read_text() + '{"at": 30, "pa')
    first, whole = await rollback_log.read(worktree)
    assert (first.at, first.paths, whole.paths) == (10.0, frozenset({odd}), None)
    assert first.undid(odd, 5.0) and not first.undid(odd, 15.0) and not first.undid("other", 5.0)
    assert whole.undid("anything", 15.0) and not whole.undid("anything", None)


async def test_a_path_touched_outside_the_declared_scope_is_listed(repo: Path) -> None:
    """out_of_scope names, per job, what it touched that no pattern of its scope covers."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    now = time.time()
    claims = {"j-a": ran(repo, ["src/x.py", "shared.txt"], now, now + 1, ("src",))}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-a"], claims)
    assert report.out_of_scope == {"j-a": ["shared.txt"]}


@pytest.mark.parametrize("ignorecase", ["true", "false"])
async def test_where_names_ignore_case_two_spellings_of_one_file_are_one_path(repo: Path, ignorecase: str) -> None:
    """As on macOS, ``Shared.TXT`` and ``shared.txt`` are one file: jobs that ran together overlap on it.

    Where git says names keep their case, the two spellings stay two paths, as the file system keeps them.
    """
    git(repo, "config", "core.ignorecase", ignorecase)
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "shared.txt").write_text("both\n")
    now = time.time()
    claims = {"j-a": ran(repo, ["Shared.TXT"], now, now + 10), "j-b": ran(repo, ["shared.txt"], now + 5, None)}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    integrity = await batch.integrity(worktree, baseline.info.baseline_id, "j-a", claims)
    if ignorecase == "true":
        assert (report.overlaps, report.unchanged_claims, report.clean) == ({"shared.txt": ["j-a", "j-b"]}, {}, False)
        assert (integrity.changed_by_job, integrity.suspects) == (["shared.txt"], [])
    else:
        assert (report.overlaps, report.unchanged_claims) == ({}, {"j-a": ["Shared.TXT"]})
        assert (integrity.changed_by_job, integrity.suspects) == ([], [])


async def test_another_servers_work_is_claimed_and_a_rollback_leaves_it(repo: Path) -> None:
    """A change a job of another server claims is under elsewhere, not unclaimed, and survives a rollback of all."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "mine.txt").write_text("this batch's\n")
    (repo / "theirs.txt").write_text("another session's\n")
    (repo / "shared.txt").write_text("another session's edit\n")
    now = time.time()
    claims = {
        "j-mine": ran(repo, ["mine.txt"], now, now + 1),
        "j-theirs": claim(repo, repo, ["theirs.txt", "shared.txt"], [], (now, now + 1), elsewhere=True),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-mine"], claims)
    assert (report.clean, report.unclaimed) == (True, [])
    assert report.elsewhere == {"shared.txt": ["j-theirs"], "theirs.txt": ["j-theirs"]}
    result = await batch.roll_back(worktree, baseline.info.baseline_id, None, busy=batch.Busy(), claims=claims)
    assert [item.path for item in result.not_restored] == ["shared.txt", "theirs.txt"]
    assert all("j-theirs" in item.reason for item in result.not_restored)
    assert (result.removed, (repo / "theirs.txt").read_text()) == (["mine.txt"], "another session's\n")
    assert (repo / "shared.txt").read_text() == "another session's edit\n"
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-mine"], claims)
    assert (report.clean, report.elsewhere) == (True, {"shared.txt": ["j-theirs"], "theirs.txt": ["j-theirs"]})


async def test_a_write_only_the_watch_saw_is_a_claim_that_overlaps_and_is_listed_as_seen(repo: Path) -> None:
    """A cancelled job reports nothing, yet the path the watch put on it overlaps the job that patched it."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "shared.txt").write_text("patched by a, then appended to by b\n")
    now = time.time()
    claims = {
        "j-a": ran(repo, ["shared.txt"], now, now + 10),
        "j-b": claim(repo, repo, [], [], (now + 1, now + 2), seen=["shared.txt"]),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert (report.overlaps, report.seen, report.clean) == (
        {"shared.txt": ["j-a", "j-b"]},
        {"j-b": ["shared.txt"]},
        False,
    )


async def test_an_overlap_another_session_wrote_too_is_named_beyond_rollback(repo: Path) -> None:
    """A path both this batch's jobs and another session's changed stays unclean after any rollback: it says why."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "shared.txt").write_text("written by both sessions\n")
    now = time.time()
    claims = {
        "j-a": ran(repo, ["shared.txt"], now, now + 10),
        "j-b": ran(repo, ["shared.txt"], now + 1, now + 2),
        "j-theirs": claim(repo, repo, ["shared.txt"], [], (now, now + 1), elsewhere=True),
    }
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-a", "j-b"], claims)
    assert list(report.beyond_rollback) == ["shared.txt"]
    assert "j-theirs" in report.beyond_rollback["shared.txt"]
    await batch.roll_back(worktree, baseline.info.baseline_id, None, batch.Busy(), claims)
    report = await batch.overlaps(worktree, baseline.info.baseline_id, ["j-a", "j-b"], claims)
    assert (report.clean, list(report.beyond_rollback)) == (False, ["shared.txt"])


async def test_integrity_counts_claims_as_the_overlaps_do(repo: Path) -> None:
    """A claim from a job over before the baseline, or one a later rollback undid, no longer hides a suspect."""
    before = time.time() - 100
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "old.txt").write_text("changed after the baseline\n")
    (repo / "undone.txt").write_text("put back, then changed again\n")
    rolled = time.time()
    await rollback_log.record(worktree, rolled, ["undone.txt"])
    claims = {
        "j-stopped": ran(repo, [], rolled + 1, rolled + 2),
        "j-gone": ran(repo, ["old.txt"], before, before + 1),
        "j-undone": ran(repo, ["undone.txt"], rolled - 2, rolled - 1),
    }
    report = await batch.integrity(worktree, baseline.info.baseline_id, "j-stopped", claims)
    assert report.suspects == ["old.txt", "undone.txt"]


async def test_a_rollback_refused_for_another_sessions_jobs_says_so_and_how_to_wait(repo: Path) -> None:
    """The busy error names this session's and the other session's jobs apart, each with its next step."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    busy = batch.Busy(("j-mine",), ("j-theirs",))
    with pytest.raises(WorktreeBusyError) as refused:
        await batch.roll_back(worktree, baseline.info.baseline_id, None, busy, claims={})
    message = str(refused.value)
    assert message.index("j-mine") < message.index("codex_wait_any") < message.index("j-theirs")
    assert "codex_status" in message[message.index("j-theirs") :]


async def test_a_write_only_the_watch_saw_stays_unclaimed_and_is_listed_as_seen(repo: Path) -> None:
    """A job's shell write it never reported is still flagged as under-reporting, and the report says who made it."""
    worktree = await worktree_at(repo)
    baseline = await baselines.create(worktree, None)
    (repo / "c.txt").write_text("from the shell\n")
    now = time.time()
    claims = {"j-shell": claim(repo, repo, [], [], (now, now + 1), seen=["c.txt"])}
    report = await batch.overlaps(worktree, baseline.info.baseline_id, list(claims), claims)
    assert (report.unclaimed, report.seen, report.clean) == (["c.txt"], {"j-shell": ["c.txt"]}, False)
