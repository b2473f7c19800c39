"""The protocol test: a boss that follows the skill's procedure to the letter ends on every report the server gives.

The boss below reads the report with the skill's rules, in the skill's order; each rule is quoted and
`test_the_boss_quotes_the_skills_rules_in_order` checks the quotes against the skill's numbered rules,
so the skill and this boss cannot drift apart. The server is played by a small world of paths, each in
one situation the real server can report; every report is the real `OverlapResult` model, filled as the
server fills it. Over every pair of situations, with and without a move of git's state and with re-runs
that behave or not, the boss must end, within a bound, with a clean report or a message to the user, and
never call a worktree clean that still holds a cancelled job's write.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import pytest

from codex_subagents.coordination.batch import OverlapResult
from codex_subagents.jobs.models import FinishedJob, JobDigest, WaitResult
from codex_subagents.worktree.gitstate import GitStateChange

SKILL = Path(__file__).resolve().parents[2] / "skills" / "codex-subagents" / "SKILL.md"
BOUND = 12
"""More actions than any ending needs: a boss past it is looping."""

RULES = (
    "`beyond_rollback` is not empty → stop and tell the user",
    "A path under `overlaps` or `unclaimed` that step 6 already rolled back and re-ran once → stop and tell",
    "`overlaps` (a path written by jobs that ran at the same time) or `unclaimed` (a change no job claims)",
    "`git_state` is not empty (a worker moved HEAD, the index or the stash, or changed a git directory file)",
    "Otherwise `clean` is true → keep the work, then step 7.",
)
"""The beginning of each rule of the skill's "Reading the report", in its order."""


class Situation(Enum):
    """What happened to one path since the baseline, as the server can report it."""

    KEPT = "one job wrote it and reported it"
    IN_TURN = "two jobs wrote it one after the other"
    OVERLAP = "two jobs wrote it while both ran"
    CANCELLED = "a job cancelled after a collision wrote it by shell, as did the job that went on"
    UNCLAIMED = "a shell write no job reported"
    BOTH_SESSIONS = "two of this batch's jobs and another session's job wrote it"
    ELSEWHERE = "only another session's job wrote it"
    UNRESTORABLE = "two jobs wrote it while both ran, where the baseline could not keep it"
    UNCHECKED = "a job claims it in an ignored directory"
    OUT_OF_SCOPE = "a job wrote it outside its scope"
    UNCHANGED = "a job claims it but did not change it"
    ROLLED_BACK = "a rollback put it back and its re-runs have not written it yet"


@dataclass
class Server:
    """The paths of one worktree and what happened to them; answers the boss's calls as the server would."""

    paths: dict[str, Situation]
    git_moved: bool = False
    reruns_behave: bool = True
    calls: list[str] = field(default_factory=list[str])

    def overlaps(self) -> OverlapResult:
        """The report, filled field by field as the server fills it."""
        self.calls.append("codex_overlaps")
        report = OverlapResult(
            baseline_id="b-1",
            clean=False,
            overlaps={},
            in_sequence={},
            unclaimed=[],
            unchanged_claims={},
            unchecked_claims={},
            out_of_scope={},
            elsewhere={},
            changed={},
            git_state=[GitStateChange(what="head", detail="moved by a worker")] if self.git_moved else [],
        )
        for path, situation in sorted(self.paths.items()):
            _fill(report, path, situation)
        report.clean = not report.overlaps and not report.unclaimed and not report.git_state
        return report

    def rollback(self, paths: list[str]) -> None:
        """Put the paths back, except those another session also wrote or the baseline could not keep."""
        self.calls.append(f"codex_rollback {paths}")
        for path in paths:
            if self.paths[path] not in (Situation.BOTH_SESSIONS, Situation.UNRESTORABLE):
                self.paths[path] = Situation.ROLLED_BACK

    def rerun(self, path: str) -> None:
        """Re-run, one at a time, the parts that wrote the path: they write it in turn, or one again unreported."""
        self.calls.append(f"re-run {path}")
        if self.paths[path] is Situation.ROLLED_BACK:
            self.paths[path] = Situation.IN_TURN if self.reruns_behave else Situation.UNCLAIMED

    def holds_a_cancelled_write(self) -> bool:
        """Whether a path still holds what a cancelled job wrote."""
        return Situation.CANCELLED in self.paths.values()


def _fill(report: OverlapResult, path: str, situation: Situation) -> None:
    """Enter one path in the report the way the server does for its situation."""
    if situation is not Situation.ROLLED_BACK and situation is not Situation.UNCHANGED:
        report.changed[path] = "modified"
    match situation:
        case Situation.IN_TURN:
            report.in_sequence[path] = ["j-a", "j-b"]
        case Situation.OVERLAP | Situation.UNRESTORABLE:
            report.overlaps[path] = ["j-a", "j-b"]
        case Situation.CANCELLED:
            report.overlaps[path] = ["j-a", "j-cancelled"]
            report.seen.setdefault("j-cancelled", []).append(path)
        case Situation.UNCLAIMED:
            report.unclaimed.append(path)
        case Situation.BOTH_SESSIONS:
            report.overlaps[path] = ["j-a", "j-b"]
            report.elsewhere[path] = ["j-theirs"]
            report.beyond_rollback[path] = "jobs j-theirs of another Codex session changed it too"
        case Situation.ELSEWHERE:
            report.elsewhere[path] = ["j-theirs"]
        case Situation.UNCHECKED:
            report.unchecked_claims.setdefault("j-a", []).append(path)
        case Situation.OUT_OF_SCOPE:
            report.out_of_scope.setdefault("j-a", []).append(path)
        case Situation.UNCHANGED:
            report.unchanged_claims.setdefault("j-a", []).append(path)
        case Situation.KEPT | Situation.ROLLED_BACK:
            pass


@dataclass(frozen=True)
class Ending:
    """How the boss ended: it kept a clean worktree, or it told the user (and what about)."""

    kept: bool
    message: str = ""


def boss(server: Server) -> Ending:
    """Steps 5 and 6 of the skill, with its "Reading the report" rules in their order."""
    rerun_once: set[str] = set()
    for _ in range(BOUND):
        report = server.overlaps()  # step 5
        broken = [*report.overlaps, *report.unclaimed]
        if report.beyond_rollback:  # rule 1
            return Ending(kept=False, message=f"beyond rollback: {sorted(report.beyond_rollback)}")
        if again := sorted(set(broken) & rerun_once):  # rule 2
            return Ending(kept=False, message=f"still broken after a rollback and re-runs: {again}")
        if broken:  # rule 3, then step 6: a rollback with paths, re-runs one at a time, step 5 again
            server.rollback(broken)
            for path in broken:
                server.rerun(path)
            rerun_once.update(broken)
            continue
        if report.git_state:  # rule 4
            return Ending(kept=False, message=f"git's state moved: {[change.what for change in report.git_state]}")
        assert report.clean  # rule 5
        return Ending(kept=True)
    raise AssertionError(f"the boss loops: {server.calls}")


def skill_rules() -> list[str]:
    """The numbered rules of the skill's "Reading the report", each joined into one line."""
    section = SKILL.read_text().split("## Reading the report", 1)[1].split("\n## ", 1)[0]
    rules: list[str] = []
    for line in section.splitlines():
        if match := re.match(r"(\d+)\. (.*)", line):
            assert int(match[1]) == len(rules) + 1, line
            rules.append(match[2])
        elif rules and line.startswith("   ") and line.strip():
            rules[-1] += " " + line.strip()
        elif not line.strip() and rules:
            break
    return rules


def test_the_boss_quotes_the_skills_rules_in_order() -> None:
    """Each rule the boss applies begins as the skill's rule of the same number, and there are as many."""
    rules = skill_rules()
    assert len(rules) == len(RULES), rules
    for quoted, rule in zip(RULES, rules, strict=True):
        assert rule.startswith(quoted), (quoted, rule)


CASES = list(itertools.product(itertools.product(list(Situation), repeat=2), [False, True], [True, False]))


@pytest.mark.parametrize(("situations", "git_moved", "reruns_behave"), CASES)
def test_the_boss_ends_with_a_clean_worktree_or_a_message_never_over_a_cancelled_write(
    situations: tuple[Situation, Situation], git_moved: bool, reruns_behave: bool
) -> None:
    """Whatever the report shows, the boss stops within the bound, and keeps only a clean worktree."""
    server = Server(dict(zip(("a.txt", "b.txt"), situations, strict=True)), git_moved, reruns_behave)
    ending = boss(server)
    if ending.kept:
        assert server.overlaps().clean, server.calls
        assert not server.holds_a_cancelled_write(), server.calls
    else:
        assert ending.message, server.calls
    assert not any(call == "codex_rollback []" for call in server.calls), server.calls


@dataclass
class Waits:
    """Jobs that finish one per wait, each listed in one answer only, as codex_wait_any lists them."""

    running: list[str]
    lost: tuple[int, ...]
    reported: list[str] = field(default_factory=list[str])
    answers: int = 0

    def wait_any(self) -> WaitResult | None:
        """The next answer, or None when the client gave up on the call and the answer was lost."""
        done = self.running.pop(0) if self.running else None
        finished = [] if done is None else [_finished(done)]
        self.reported += [job.job_id for job in finished]
        self.answers += 1
        answer = WaitResult(finished=finished, timed_out=False, pending=[_digest(job) for job in self.running])
        return None if self.answers - 1 in self.lost else answer

    def status(self) -> list[JobDigest]:
        """codex_status: every job with its state and whether a wait reported it."""
        return [_digest(job, self.reported) for job in self.reported + self.running]


@pytest.mark.parametrize("lost", [(), (0,), (1,), (0, 2), (0, 1, 2)])
def test_the_wait_loop_ends_on_what_the_server_says_is_pending_even_when_answers_are_lost(
    lost: tuple[int, ...],
) -> None:
    """Step 3 loops until `pending` is empty, not until it has counted every job in `finished`: a lost answer's
    job is never listed again, yet the loop ends, and `codex_status` then shows every job finished."""
    waits = Waits(["j-a", "j-b", "j-c"], lost)
    listed: list[str] = []
    for _ in range(BOUND):
        answer = waits.wait_any()
        if answer is None:
            continue  # the call gave up: wait again
        listed += [job.job_id for job in answer.finished]
        if not answer.pending:  # step 3: loop until its `pending` is empty
            break
    else:
        raise AssertionError(f"the wait loop never ended after {waits.answers} answers")
    status = waits.status()
    assert [(job.job_id, job.state, job.reported) for job in status] == [
        (job, "succeeded", True) for job in ["j-a", "j-b", "j-c"]
    ]
    assert len(listed) == 3 - len([n for n in lost if n < 3])


def _finished(job_id: str) -> FinishedJob:
    return FinishedJob(job_id=job_id, label=job_id, state="succeeded", summary=None, error=None, contract_error=None)


def _digest(job_id: str, done: list[str] | None = None) -> JobDigest:
    finished = job_id in (done or [])
    return JobDigest(
        job_id=job_id,
        label=job_id,
        state="succeeded" if finished else "running",
        queue_position=None,
        elapsed_s=1.0,
        last_event=None,
        reported=finished,
    )


@pytest.mark.parametrize("minutes_busy", [0, 1, 9, 10, None])
def test_a_rollback_refused_for_another_sessions_jobs_ends_in_a_rollback_or_a_message(minutes_busy: int | None) -> None:
    """Step 6: the boss checks `codex_status` for the other session's jobs under `elsewhere`, and after
    10 minutes tells the user instead of waiting on."""
    for minute in range(BOUND):
        elsewhere = {"j-theirs": "/repo"} if minutes_busy is None or minute < minutes_busy else {}
        if not elsewhere:
            outcome = "rolled back"
            break
        if minute >= 10:
            outcome = "told the user"
            break
    else:
        raise AssertionError("the boss waits for ever")
    assert outcome == ("told the user" if minutes_busy is None or minutes_busy > 10 else "rolled back")
