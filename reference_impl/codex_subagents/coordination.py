"""A2 coordination: where a job may run, what each job claims, overlaps, integrity, and when to roll back.

The tools that compare and roll back come here with the worktree, a baseline
id and the jobs' claims; this module decides. A claim is what a job reported
(``modifiedFiles``) and what it was seen changing (its ``file_change`` events),
as paths from the worktree's top. A report is ``clean`` only if no path was
touched by two jobs, every changed path is claimed, and git's own state (HEAD,
index, stash) did not move. A rollback is refused while any live server's
worker may still write in the worktree.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import anyio
from pydantic import BaseModel, Field

from . import baselines, git, offload, rollback, rollback_log
from .errors import BaselineError, InputError
from .gitstate import GitStateChange
from .paths import confined, parsed, relative_to_root, shown, under
from .rollback import ChangeKind, RollbackResult
from .rollback_log import Rollback
from .scope import covers


@dataclass(frozen=True)
class Claim:
    """The root-relative paths a job reported changing and those it was seen changing, when it ran, its scope."""

    reported: frozenset[str]
    observed: frozenset[str]
    started: float | None = None
    """When its worker started; None if it never did."""
    finished: float | None = None
    """When it finished; None while it runs."""
    scope: tuple[str, ...] = ()

    @property
    def touched(self) -> frozenset[str]:
        """Every path the job claims, by report or by observation."""
        return self.reported | self.observed

    def alongside(self, other: Claim) -> bool:
        """Whether the two jobs' runs overlapped in time: each started before the other finished.

        A run whose start is unknown is taken to overlap: only then can a real overlap not be missed.
        """
        if self.started is None or other.started is None:
            return True
        return self.started < (other.finished or math.inf) and other.started < (self.finished or math.inf)

    def spelled(self, names: Mapping[str, str]) -> Claim:
        """The claim with each path spelled as ``names`` (casefolded path -> one spelling) spells it."""

        def respelled(paths: frozenset[str]) -> frozenset[str]:
            return frozenset(names.get(path.casefold(), path) for path in paths)

        return replace(self, reported=respelled(self.reported), observed=respelled(self.observed))

    def after(self, rollbacks: Sequence[Rollback]) -> Claim:
        """The claim without the paths a later rollback put back: what the job did there is undone."""
        kept = frozenset(p for p in self.touched if not any(r.undid(p, self.finished) for r in rollbacks))
        return replace(self, reported=self.reported & kept, observed=self.observed & kept)


class OverlapResult(BaseModel):
    """How the jobs' changes since a baseline relate to each other."""

    baseline_id: str
    clean: bool = Field(description="No overlap, no unclaimed change and no move of HEAD, index or stash")
    overlaps: dict[str, list[str]] = Field(description="Path -> the jobs that touched it while their runs overlapped")
    in_sequence: dict[str, list[str]] = Field(
        description="Path -> the jobs that touched it one after another (no overlap), in the order they ran"
    )
    unclaimed: list[str] = Field(
        description="Changed paths that no job of this worktree, given or not, reported or was seen to change"
    )
    unchanged_claims: dict[str, list[str]] = Field(description="Job -> paths it claimed that did not change")
    unchecked_claims: dict[str, list[str]] = Field(
        description="Job -> paths it claimed where the baseline protects nothing (e.g. ignored directories), "
        "so the server cannot tell whether they changed"
    )
    out_of_scope: dict[str, list[str]] = Field(description="Job -> paths it touched outside its declared scope")
    changed: dict[str, ChangeKind] = Field(description="Every path that differs from the baseline, and how")
    git_state: list[GitStateChange] = Field(description="HEAD, index or stash changes since the baseline")


class IntegrityResult(BaseModel):
    """Which changes a stopped job is known or suspected to have left behind."""

    job_id: str
    baseline_id: str
    changed_by_job: list[str] = Field(description="Paths the job touched that differ from the baseline")
    suspects: list[str] = Field(description="Changed paths that no other job claims")
    git_state: list[GitStateChange] = Field(description="HEAD, index or stash changes since the baseline")


async def located(roots: Sequence[Path], cwd: str | None) -> tuple[Path, Path]:
    """The directory a tool works in, ``cwd`` (default: the first root) inside a root, and its worktree's top.

    Raises:
        InputError: for a path outside the allowed roots, or that is not a directory.
        GitError: when the directory is not inside a git worktree.
    """
    if cwd is not None and "\0" in cwd:
        raise InputError(f"cwd {cwd!r} contains a NUL byte.")
    try:
        path, is_dir = await anyio.to_thread.run_sync(_resolve, roots[0], cwd or ".")
    except (OSError, RuntimeError) as exc:
        raise InputError(f"cwd {cwd!r} cannot be used ({exc}); give a directory inside the allowed roots.") from exc
    if not any(path == root or path.is_relative_to(root) for root in roots):
        raise InputError(
            f"cwd {cwd!r} resolves to {str(path)!r}, outside the allowed roots "
            f"{[str(root) for root in roots]}; start the server with --allow-root for it."
        )
    if not is_dir:
        raise InputError(f"cwd {cwd!r} is not a directory.")
    return path, await git.worktree_root(path)


async def worktree(roots: Sequence[Path], cwd: str | None) -> Path:
    """The top of the git worktree a tool works on."""
    return (await located(roots, cwd))[1]


def claim(
    root: Path,
    cwd: Path,
    reported: Sequence[str],
    observed: Sequence[str],
    run: tuple[float | None, float | None] = (None, None),
    scope: Sequence[str] = (),
) -> Claim:
    """A job's claim, its paths (absolute or relative to its ``cwd``) made relative to ``root``.

    ``run`` is when the job started and finished (None: not yet); ``scope`` its root-relative patterns.
    """

    def normalized(paths: Sequence[str]) -> frozenset[str]:
        return frozenset(p for p in (relative_to_root(root, cwd, path) for path in paths) if p is not None)

    started, finished = run
    return Claim(normalized(reported), normalized(observed), started, finished, tuple(scope))


async def overlaps(root: Path, baseline_id: str, given: Sequence[str], claims: Mapping[str, Claim]) -> OverlapResult:
    """Compare the ``given`` jobs' claims with each other and with what really changed since the baseline.

    ``claims`` holds every job known in the worktree: a changed path is
    unclaimed only if none of those that ran after the baseline was taken
    accounts for it. Touches a later rollback undid do not count.
    """
    baseline = await baselines.load(root, baseline_id)
    comparison = await rollback.compare(root, baseline)
    fold = await git.ignores_case(root)
    claims = _as_the_worktree_spells(claims, comparison.changed) if fold else claims
    undone = await rollback_log.read(root)
    since = baseline.snapshot.taken_ns / 1e9
    live = {job_id: c.after(undone) for job_id, c in claims.items() if (c.finished or math.inf) > since}
    mine = {job_id: live.get(job_id, Claim(frozenset(), frozenset())) for job_id in sorted(given)}
    changed = comparison.changed
    blind = frozenset(baseline.snapshot.skipped)
    touched_by: dict[str, list[str]] = {}
    for job_id, job in mine.items():
        for path in job.touched:
            touched_by.setdefault(path, []).append(job_id)
    accounted = frozenset[str]().union(*(c.touched for c in live.values()))

    def per_job(keep: Callable[[str, Claim], bool]) -> dict[str, list[str]]:
        found = {job_id: sorted(shown(p) for p in job.touched if keep(p, job)) for job_id, job in mine.items()}
        return {job_id: paths for job_id, paths in found.items() if paths}

    together, apart = _split(touched_by, mine)
    unclaimed = [shown(path) for path in changed if path not in accounted]
    return OverlapResult(
        baseline_id=baseline_id,
        clean=not together and not unclaimed and not comparison.git,
        overlaps=together,
        in_sequence=apart,
        unclaimed=unclaimed,
        unchanged_claims=per_job(lambda p, _: p not in changed and not under(p, blind)),
        unchecked_claims=per_job(lambda p, _: under(p, blind)),
        out_of_scope=per_job(lambda p, job: bool(job.scope) and not covers(job.scope, p, fold)),
        changed={shown(path): kind for path, kind in changed.items()},
        git_state=comparison.git,
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
            together[shown(path)] = paired
        else:
            apart[shown(path)] = sorted(jobs, key=lambda job: claims[job].started or 0.0)
    return together, apart


async def integrity(root: Path, baseline_id: str, job_id: str, claims: Mapping[str, Claim]) -> IntegrityResult:
    """The changed paths ``job_id`` touched, and the changed paths that no job at all claims."""
    comparison = await rollback.compare(root, await baselines.load(root, baseline_id))
    if await git.ignores_case(root):
        claims = _as_the_worktree_spells(claims, comparison.changed)
    mine = claims[job_id].touched if job_id in claims else frozenset[str]()
    claimed = frozenset[str]().union(*(c.touched for other, c in claims.items() if other != job_id))
    return IntegrityResult(
        job_id=job_id,
        baseline_id=baseline_id,
        changed_by_job=[shown(p) for p in comparison.changed if p in mine],
        suspects=[shown(p) for p in comparison.changed if p not in mine and p not in claimed],
        git_state=comparison.git,
    )


async def roll_back(root: Path, baseline_id: str, paths: Sequence[str] | None, busy: Sequence[str]) -> RollbackResult:
    """Put the worktree (or only ``paths``) back as the baseline recorded it, unless a worker may still write.

    Raises:
        BaselineError: while ``busy`` names jobs that may still write in the worktree.
    """
    if busy:
        raise BaselineError(
            f"Rollback refused: jobs {list(busy)} may still write in {str(root)!r}; "
            "wait for them with codex_wait_any or stop them with codex_cancel first."
        )
    wanted = None if paths is None else await anyio.to_thread.run_sync(lambda: [confined(root, p) for p in paths])
    baseline = await baselines.load(root, baseline_id)
    steps = await offload.in_thread(rollback.plan, baseline, await rollback.compare(root, baseline), wanted)
    result = await rollback.apply(root, baseline, steps)
    # Only what was put back undoes the jobs' touches: a path left as a worker made it still counts.
    left = {parsed(item.path) for item in result.not_restored}
    if left:
        wanted = [path for path in (wanted or [*steps.remove, *steps.write]) if path not in left]
    await rollback_log.record(root, time.time(), wanted)
    return result


def _as_the_worktree_spells(claims: Mapping[str, Claim], changed: Mapping[str, ChangeKind]) -> Mapping[str, Claim]:
    """The claims with one spelling per file, for a worktree whose names ignore case.

    There a worker may name ``Docs/a.md`` for the file git lists as ``docs/a.md``: each claimed path is
    spelled as the changed path it names, or else as the first of the claims' spellings in sorted order, so that two
    jobs writing one file under two spellings still overlap and the change is not left unclaimed.
    """
    claimed = {path for c in claims.values() for path in c.touched}
    names = {path.casefold(): path for path in sorted(claimed, reverse=True)}
    names.update((path.casefold(), path) for path in changed)
    return {job_id: c.spelled(names) for job_id, c in claims.items()}


def _resolve(root: Path, cwd: str) -> tuple[Path, bool]:
    path = (root / cwd).resolve()
    return path, path.is_dir()
