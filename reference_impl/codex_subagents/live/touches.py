"""Which jobs touched which paths of one worktree while they ran, and when two touches make a collision.

A touch names the job that changed a path, or, for a write seen in the worktree
while several jobs ran shell commands, every job that could have made it. Two
touches of a path collide when no one job can account for both (they share no
job) and the earlier toucher is still relevant to the later one: it is running,
or it finished without the boss having been told, after the later job started.
A job that finished before the other started touched the path in sequence,
which is no collision. The book is pure bookkeeping: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass

from ..core.paths import git_quoted
from ..jobs.models import Alert, AlertKind, Seen


@dataclass(frozen=True)
class Touch:
    """One sighting of a path changing: by whom (one job, or any of several), how, and when (epoch seconds)."""

    jobs: frozenset[str]
    seen: Seen
    at: float


Related = Callable[[str, frozenset[str]], bool]
"""Whether an earlier toucher (first argument) still matters to the jobs of a new touch (second)."""


class Book:
    """The touches of one worktree's paths by the jobs running there, and the collisions raised so far."""

    def __init__(self) -> None:
        self._touches: dict[str, list[Touch]] = {}
        self._raised: set[tuple[AlertKind, str, frozenset[str]]] = set()

    def touch(self, path: str, touch: Touch, related: Related) -> Alert | None:
        """Record ``touch`` of ``path`` and return the collision it makes, unless that one was raised before."""
        kept = self._touches.setdefault(path, [])
        earlier = {job for seen in kept if not seen.jobs & touch.jobs for job in seen.jobs if related(job, touch.jobs)}
        if all(seen.jobs != touch.jobs for seen in kept):
            kept.append(touch)
        if not earlier:
            return None
        jobs = [*sorted(earlier), *sorted(touch.jobs - earlier)]
        return self._once("collision", path, jobs, touch)

    def outside(self, path: str, job_id: str, touch: Touch) -> Alert | None:
        """Return the alert that ``job_id`` touched ``path`` outside its declared scope, once per job and path."""
        return self._once("out_of_scope", path, [job_id], touch)

    def clear(self) -> None:
        """Forget everything: once no job runs in the worktree, no later touch can collide with these."""
        self._touches.clear()
        self._raised.clear()

    def _once(self, kind: AlertKind, path: str, jobs: list[str], touch: Touch) -> Alert | None:
        key = (kind, path, frozenset(jobs))
        if key in self._raised:
            return None
        self._raised.add(key)
        return Alert(kind=kind, path=git_quoted(path), jobs=jobs, seen=touch.seen, at=touch.at)


class AlertLog:
    """Every alert raised so far, and which of them a wait has reported."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._reported: set[int] = set()

    def involving(self, job_ids: Iterable[str]) -> list[Alert]:
        """Every alert naming one of ``job_ids``."""
        wanted = set(job_ids)
        return [alert for alert in self.alerts if wanted.intersection(alert.jobs)]

    def unreported(self, job_ids: Iterable[str]) -> list[Alert]:
        """The alerts naming one of ``job_ids`` that no wait has reported yet."""
        wanted = set(job_ids)
        return [a for n, a in enumerate(self.alerts) if n not in self._reported and wanted.intersection(a.jobs)]

    def restore(self, alerts: Iterable[Alert], reported: Container[str]) -> None:
        """Take back the alerts a gone server recorded, each once (an alert naming two jobs is in both their files);
        one whose jobs are all ``reported`` (a wait reported them) counts as reported, any other is told again."""
        kept = {alert.model_dump_json() for alert in self.alerts}
        for alert in alerts:
            if (key := alert.model_dump_json()) not in kept:
                kept.add(key)
                self.alerts.append(alert)
                if all(job_id in reported for job_id in alert.jobs):
                    self._reported.add(len(self.alerts) - 1)

    def mark_reported(self, alerts: Iterable[Alert]) -> None:
        """Remember that a wait reported ``alerts``."""
        done = {id(alert) for alert in alerts}
        self._reported.update(n for n, alert in enumerate(self.alerts) if id(alert) in done)
