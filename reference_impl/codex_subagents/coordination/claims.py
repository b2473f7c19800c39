"""What each job claims to have changed in a worktree, and when it ran: the facts A2 compares with the worktree.

A claim is what a job reported (``modifiedFiles``), what it was seen
changing in its own ``file_change`` events, and what the server's watch saw
change in the worktree and put on it (`JobRecord.seen_files`), as paths from
the worktree's top, with the times its run began and ended and its declared
scope. A job's claims count whatever its end: a cancelled job reports nothing,
but what it was seen writing is still its. The jobs of other
servers on the repository (other Codex sessions), read from the journals they
share, make claims too, marked ``elsewhere``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..core.paths import git_unquoted, relative_to_root
from ..jobs.job import Job
from ..jobs.journal import JobRecord
from ..worktree.rollback_log import Rollback
from ..worktree.scope import owned


@dataclass(frozen=True)
class Claim:
    """The root-relative paths a job reported changing and those it was seen changing, when it ran, its scope."""

    reported: frozenset[str]
    observed: frozenset[str]
    """The paths of its ``file_change`` events."""
    started: float | None = None
    """When its worker started; None if it never did."""
    finished: float | None = None
    """When it finished; None while it runs."""
    scope: tuple[str, ...] = ()
    elsewhere: bool = False
    """Whether another server ran the job."""
    seen: frozenset[str] = frozenset()
    """The paths the server's watch saw change in the worktree and put on the job."""

    @property
    def touched(self) -> frozenset[str]:
        """Every path the job claims, by report or by observation."""
        return self.reported | self.observed | self.seen

    @property
    def only_seen(self) -> frozenset[str]:
        """The paths the job claims only because the watch saw them change: it neither reported nor patched them."""
        return self.seen - self.reported - self.observed

    def alongside(self, other: Claim) -> bool:
        """Whether the two jobs' runs overlapped in time: each started before the other finished.

        A run whose start is unknown is taken to overlap: only then can a real overlap not be missed.
        """
        if self.started is None or other.started is None:
            return True
        return self.started < (other.finished or math.inf) and other.started < (self.finished or math.inf)

    def respelled(self, names: Mapping[str, str]) -> Claim:
        """The claim with each path spelled as ``names`` (casefolded path -> one spelling) spells it."""

        def respelled(paths: frozenset[str]) -> frozenset[str]:
            return frozenset(names.get(path.casefold(), path) for path in paths)

        return replace(
            self, reported=respelled(self.reported), observed=respelled(self.observed), seen=respelled(self.seen)
        )

    def after(self, rollbacks: Sequence[Rollback]) -> Claim:
        """The claim without the paths a later rollback put back: what the job did there is undone."""
        kept = frozenset(p for p in self.touched if not any(r.undid(p, self.finished) for r in rollbacks))
        return replace(self, reported=self.reported & kept, observed=self.observed & kept, seen=self.seen & kept)


def claim(
    root: Path,
    cwd: Path,
    reported: Sequence[str],
    observed: Sequence[str],
    run: tuple[float | None, float | None] = (None, None),
    scope: Sequence[str] = (),
    elsewhere: bool = False,
    seen: Sequence[str] = (),
) -> Claim:
    """A job's claim, its paths (absolute or relative to its ``cwd``) made relative to ``root``.

    ``run`` is when the job started and finished (None: not yet); ``scope`` its root-relative patterns;
    ``elsewhere`` whether another server ran it; ``seen`` the root-relative paths the watch put on it.
    """

    def normalized(paths: Sequence[str]) -> frozenset[str]:
        return frozenset(p for p in (relative_to_root(root, cwd, path) for path in paths) if p is not None)

    started, finished = run
    return Claim(
        normalized(reported), normalized(observed), started, finished, tuple(scope), elsewhere, frozenset(seen)
    )


def of_worktree(root: Path, jobs: Iterable[Job], others: Iterable[JobRecord] = ()) -> dict[str, Claim]:
    """The claims of the jobs of the worktree at ``root``: this server's ``jobs``, and ``others``, the records of
    other servers' jobs, whose paths seen changing are those their results name."""

    def of(record: JobRecord, observed: Sequence[str], elsewhere: bool) -> Claim:
        request, result = record.request, record.result
        run = (record.started_at, result.timings.finished_at if result and record.done else None)
        reported = result.modified_files if result else []
        # Scope and seen paths are named from the job's own worktree, which may be a submodule of this one.
        prefix = relative_to_root(root, Path(request.root), ".") if request.root else None
        scope = owned(prefix, request.scope, fold=False).patterns if prefix else request.scope
        seen = [git_unquoted(path) for path in record.seen_files]
        seen = [f"{prefix}/{path}" for path in seen] if prefix else seen
        return claim(root, Path(request.cwd), reported, observed, run, scope, elsewhere, seen)

    found = {job.job_id: of(job.record, job.observed_files, False) for job in jobs if job.record.request.works_in(root)}
    for record in others:
        if record.request.works_in(root):
            found[record.job_id] = of(record, record.result.observed_files if record.result else [], True)
    return found


def other_sessions_paths(claims: Mapping[str, Claim]) -> dict[str, list[str]]:
    """Each path that jobs of other servers claim, with those jobs."""
    found: dict[str, list[str]] = {}
    for job_id, c in sorted(claims.items()):
        for path in c.touched if c.elsewhere else ():
            found.setdefault(path, []).append(job_id)
    return found


def as_the_worktree_spells(claims: Mapping[str, Claim], changed: Iterable[str]) -> Mapping[str, Claim]:
    """The claims with one spelling per file, for a worktree whose names ignore case.

    There a worker may name ``Docs/a.md`` for the file git lists as ``docs/a.md``: each claimed path is
    spelled as the changed path it names, or else as the first of the claims' spellings in sorted order, so that two
    jobs writing one file under two spellings still overlap and the change is not left unclaimed.
    """
    claimed = {path for c in claims.values() for path in c.touched}
    names = {path.casefold(): path for path in sorted(claimed, reverse=True)}
    names.update((path.casefold(), path) for path in changed)
    return {job_id: c.respelled(names) for job_id, c in claims.items()}
