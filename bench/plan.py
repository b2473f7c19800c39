"""How much each figure measures: the full run, and the quick run the gate uses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    """The sizes of one run.

    Attributes:
        mode: ``full`` or ``quick``.
        stream_s: P1, the model time of every job (its final answer streamed for this long).
        widths: P1, the numbers of jobs run in parallel.
        repeats: P1, how many times each width is measured (the median is kept).
        latency_jobs: P2 and P3, how many jobs are spawned and waited for one at a time.
        ingest_lines: P4, the length of the replayed stream.
        scale_jobs: P5, how many jobs are spawned at once.
        scale_cap: P5, the server's cap.
    """

    mode: str
    stream_s: float
    widths: tuple[int, ...]
    repeats: int
    latency_jobs: int
    ingest_lines: int
    scale_jobs: int
    scale_cap: int


FULL = Plan(
    mode="full",
    stream_s=5.0,
    widths=(1, 2, 4, 8),
    repeats=3,
    latency_jobs=60,
    ingest_lines=200_000,
    scale_jobs=100,
    scale_cap=8,
)
QUICK = Plan(
    mode="quick",
    stream_s=2.0,
    widths=(1, 2, 4),
    repeats=1,
    latency_jobs=20,
    ingest_lines=50_000,
    scale_jobs=20,
    scale_cap=4,
)
