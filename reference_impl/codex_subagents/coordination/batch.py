"""A2 coordination: how the jobs' claims compare with the worktree, and when to roll back.

The tools that compare and roll back come here with the worktree, a baseline
id and the jobs' claims (`claims`); this module decides. A report is ``clean``
only if no path was touched by two jobs running together, every changed path
is claimed, and git's own state (HEAD, index, stash, the git directory's config
and hooks) did not move. A change that a job of another server claims is
accounted for, and a rollback leaves it as it is. A rollback is refused while
any live server's worker may still write in the worktree. A path both this
batch's running jobs and another session's jobs changed is beyond any rollback:
the report names it with why.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import anyio
from pydantic import BaseModel, Field

from ..core import offload
from ..core.errors import InputError, WorktreeBusyError
from ..core.paths import confined, git_quoted, git_unquoted, under
from ..worktree import baselines, comparison, rollback, rollback_log
from ..worktree.baselines import Baseline
from ..worktree.comparison import ChangeKind
from ..worktree.gitstate import GitStateChange
from ..worktree.location import Worktree
from ..worktree.rollback import RollbackResult
from ..worktree.scope import covers
from .claims import Claim, as_the_worktree_spells, other_sessions_paths


class OverlapResult(BaseModel):
    """How the jobs' changes since a baseline relate to each other."""

    baseline_id: str
    clean: bool = Field(
        description="No overlap, no unclaimed change and no move of HEAD, index, stash or git directory files"
    )
    overlaps: dict[str, list[str]] = Field(description="Path -> the jobs that touched it while their runs overlapped")
    in_sequence: dict[str, list[str]] = Field(
        description="Path -> the jobs that touched it one after another (no overlap), in the order they ran"
    )
    unclaimed: list[str] = Field(
        description="Changed paths that no job of this worktree, given or not, reported or changed by a patch "
        "(a write only the server's watch saw stays here, and under seen)"
    )
    unchanged_claims: dict[str, list[str]] = Field(description="Job -> paths it claimed that did not change")
    unchecked_claims: dict[str, list[str]] = Field(
        description="Job -> paths it claimed where the baseline protects nothing (e.g. ignored directories), "
        "so the server cannot tell whether they changed"
    )
    out_of_scope: dict[str, list[str]] = Field(description="Job -> paths it touched outside its declared scope")
    seen: dict[str, list[str]] = Field(
        default_factory=dict[str, list[str]],
        description="Job -> paths it claims only because the server's watch saw them change while it ran "
        "(a shell write, or a collision naming it), neither reported nor in its file_change events",
    )
    elsewhere: dict[str, list[str]] = Field(
        description="Changed path -> the jobs of other servers (other Codex sessions here) that claim it; "
        "a rollback leaves these paths as they are"
    )
    beyond_rollback: dict[str, str] = Field(
        default_factory=dict[str, str],
        description="Path that keeps the report unclean and that no codex_rollback will put back -> why; "
        "stop and tell the user",
    )
    changed: dict[str, ChangeKind] = Field(description="Every path that differs from the baseline, and how")
    git_state: list[GitStateChange] = Field(
        description="HEAD, index, stash or git directory file changes since the baseline"
    )


class Busy(NamedTuple):
    """The queued or running jobs of a worktree: this server's, and other servers' (other Codex sessions)."""

    this_session: tuple[str, ...] = ()
    other_sessions: tuple[str, ...] = ()


class IntegrityResult(BaseModel):
    """Which changes a stopped job is known or suspected to have left behind."""

    job_id: str
    baseline_id: str
    changed_by_job: list[str] = Field(description="Paths the job touched that differ from the baseline")
    suspects: list[str] = Field(description="Changed paths that no other job claims")
    git_state: list[GitStateChange] = Field(
        description="HEAD, index, stash or git directory file changes since the baseline"
    )


async def overlaps(
    worktree: Worktree, baseline_id: str, given: Sequence[str], claims: Mapping[str, Claim]
) -> OverlapResult:
    """Compare the ``given`` jobs' claims with each other and with what really changed since the baseline.

    ``claims`` holds every job known in the worktree: a changed path is
    unclaimed only if none of those that ran after the baseline was taken
    accounts for it. Touches a later rollback undid do not count.
    """
    baseline = await baselines.load(worktree, baseline_id)
    compared = await comparison.compare(worktree, baseline)
    spelled = _one_spelling_per_file(worktree, claims, compared.changed)
    live = await _since(worktree, baseline, spelled)
    given_claims = {job_id: live.get(job_id, Claim(frozenset(), frozenset())) for job_id in sorted(given)}
    changed = compared.changed
    unprotected = frozenset(baseline.skipped)
    touched_by: dict[str, list[str]] = {}
    for job_id, job in given_claims.items():
        for path in job.touched:
            touched_by.setdefault(path, []).append(job_id)
    # A write only the watch saw blames its job (an overlap) but does not vouch for the change: the worker
    # did not report it, so it stays unclaimed, as under-reporting always was. Another session's are theirs.
    accounted = frozenset[str]().union(*(c.touched if c.elsewhere else c.reported | c.observed for c in live.values()))

    def per_job(keep: Callable[[str, Claim], bool]) -> dict[str, list[str]]:
        found = {
            job_id: sorted(git_quoted(p) for p in job.touched if keep(p, job)) for job_id, job in given_claims.items()
        }
        return {job_id: paths for job_id, paths in found.items() if paths}

    together, apart = _split(touched_by, given_claims)
    unclaimed = [git_quoted(path) for path in changed if path not in accounted]
    others = {path: jobs for path, jobs in other_sessions_paths(live).items() if path in changed}
    elsewhere = {git_quoted(path): jobs for path, jobs in others.items()}
    return OverlapResult(
        baseline_id=baseline_id,
        clean=not together and not unclaimed and not compared.git,
        overlaps=together,
        in_sequence=apart,
        unclaimed=unclaimed,
        unchanged_claims=per_job(lambda p, _: p not in changed and not under(p, unprotected)),
        unchecked_claims=per_job(lambda p, _: under(p, unprotected)),
        out_of_scope=per_job(lambda p, job: bool(job.scope) and not covers(job.scope, p, worktree.ignore_case)),
        seen=per_job(lambda p, job: p in job.only_seen),
        elsewhere=elsewhere,
        beyond_rollback={
            path: f"jobs {', '.join(jobs)} of another Codex session changed it too, and a rollback leaves "
            "their work as it is"
            for path, jobs in elsewhere.items()
            if path in together
        },
        changed={git_quoted(path): kind for path, kind in changed.items()},
        git_state=compared.git,
    )


def _split(
    touched_by: Mapping[str, list[str]], claims: Mapping[str, Claim]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Split the paths several jobs touched into those touched by jobs running together and those touched in turn."""
    together: dict[str, list[str]] = {}
    apart: dict[str, list[str]] = {}
    for path, jobs in sorted(touched_by.items()):
        if len(jobs) < 2:
            continue
        paired = sorted({j for j in jobs for k in jobs if j != k and claims[j].alongside(claims[k])})
        if paired:
            together[git_quoted(path)] = paired
        else:
            apart[git_quoted(path)] = sorted(jobs, key=lambda job: claims[job].started or 0.0)
    return together, apart


async def integrity(worktree: Worktree, baseline_id: str, job_id: str, claims: Mapping[str, Claim]) -> IntegrityResult:
    """The changed paths ``job_id`` touched, and the changed paths that no job at all claims.

    The claims count as in `overlaps`: only the jobs that ran after the baseline, less what a later rollback undid.

    Raises:
        InputError: when ``job_id`` did not run in the worktree.
    """
    if job_id not in claims:
        raise InputError(
            f"Job {job_id!r} did not run in the worktree {str(worktree.root)!r}; "
            "call codex_integrity with a cwd in the worktree the job ran in."
        )
    baseline = await baselines.load(worktree, baseline_id)
    compared = await comparison.compare(worktree, baseline)
    spelled = _one_spelling_per_file(worktree, claims, compared.changed)
    claims = await _since(worktree, baseline, spelled)
    job_paths = claims[job_id].touched if job_id in claims else frozenset[str]()
    claimed = frozenset[str]().union(*(c.touched for other, c in claims.items() if other != job_id))
    return IntegrityResult(
        job_id=job_id,
        baseline_id=baseline_id,
        changed_by_job=[git_quoted(p) for p in compared.changed if p in job_paths],
        suspects=[git_quoted(p) for p in compared.changed if p not in job_paths and p not in claimed],
        git_state=compared.git,
    )


async def roll_back(
    worktree: Worktree, baseline_id: str, paths: Sequence[str] | None, busy: Busy, claims: Mapping[str, Claim]
) -> RollbackResult:
    """Put the worktree (or only ``paths``) back as the baseline recorded it, unless a worker may still write.

    A path that a job of another server changed since the baseline (as ``claims`` say) is left as it is.

    Raises:
        WorktreeBusyError: while ``busy`` names jobs that may still write in the worktree.
    """
    if busy.this_session or busy.other_sessions:
        raise WorktreeBusyError(str(worktree.root), list(busy.this_session), list(busy.other_sessions))
    root = worktree.root
    wanted = None if paths is None else await anyio.to_thread.run_sync(lambda: [confined(root, p) for p in paths])
    baseline = await baselines.load(worktree, baseline_id)
    compared = await comparison.compare(worktree, baseline)
    claims = _one_spelling_per_file(worktree, claims, compared.changed)
    left_as_is = {
        path: f"changed by job {', '.join(jobs)} of another server (another Codex session here); left as it is"
        for path, jobs in other_sessions_paths(await _since(worktree, baseline, claims)).items()
    }
    steps = await offload.in_thread(rollback.plan, baseline, compared, wanted, left_as_is)
    result = await rollback.apply(worktree, baseline, steps)
    # Only what was put back undoes the jobs' touches: a path left as a worker made it still counts.
    left = {git_unquoted(item.path) for item in result.not_restored}
    if left:
        wanted = [path for path in (wanted or [*steps.remove, *steps.write]) if path not in left]
    await rollback_log.record(worktree, time.time(), wanted)
    return result


def _one_spelling_per_file(
    worktree: Worktree, claims: Mapping[str, Claim], changed: Mapping[str, ChangeKind]
) -> Mapping[str, Claim]:
    """The claims with one spelling per file where the worktree's names ignore case."""
    return as_the_worktree_spells(claims, changed) if worktree.ignore_case else claims


async def _since(worktree: Worktree, baseline: Baseline, claims: Mapping[str, Claim]) -> dict[str, Claim]:
    """The claims of the jobs that ran after the baseline was taken, without the touches a later rollback undid."""
    undone = await rollback_log.read(worktree)
    since = baseline.taken_ns / 1e9
    return {job_id: c.after(undone) for job_id, c in claims.items() if (c.finished or math.inf) > since}
