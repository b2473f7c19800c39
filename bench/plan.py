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
        tree_files: P6 and P7, the files of the large tree.
        status_workers: P6, how many workers stream while codex_status is timed.
        status_phase_s: P6, how long codex_status is timed on an idle server and with only the workers (as long as
            the loaded phase, so each p99 is of as many calls).
        small_tree_files: P7, the files of the tree the large one is compared with.
        snapshot_repeats: P7, how many times each baseline and each floor is measured cold and warm.
        changed_paths: P7, the fewer and the more paths changed before codex_overlaps and codex_rollback.
        change_repeats: P7, how many times each count of changes is made, compared and rolled back.
        collision_trials: P9, how many collisions are staged for each way of writing.
        work_turns: P10, how many shell commands of work each worker of the batch runs.
        work_s: P10, how long each of those commands sleeps.
        install_repeats: P14, how many times the demo's batch runs through each install.
        report_jobs: P15, the jobs of the batch the report draws.
        report_repeats: P15, how many times the report is made.
        watch_jobs: P12 and P13, the jobs that stream events while the watch is open.
        watch_rate_hz: P12 and P13, the events each of them journals a second.
        watch_stream_s: P12, how long they stream while the screen is read.
        watch_window_s: P13, each window the watch's CPU is measured over, streaming and idle by turns.
        watch_rounds: P13, how many pairs of such windows.
        watch_journal_mb: P13, the journal the watch catches up with while its memory is sampled.
        watch_status_workers: P13, the real workers streaming while codex_status is timed with and without a watch.
        watch_status_phase_s: P13, how long codex_status is timed in each phase, with a watch or without.
        watch_status_rounds: P13, how many pairs of such phases, their order alternating.
    """

    mode: str
    stream_s: float
    widths: tuple[int, ...]
    repeats: int
    latency_jobs: int
    ingest_lines: int
    scale_jobs: int
    scale_cap: int
    tree_files: int
    status_workers: int
    status_phase_s: float
    small_tree_files: int
    snapshot_repeats: int
    changed_paths: tuple[int, int]
    change_repeats: int
    collision_trials: int
    work_turns: int
    work_s: float
    install_repeats: int
    report_jobs: int
    report_repeats: int
    watch_jobs: int
    watch_rate_hz: float
    watch_stream_s: float
    watch_window_s: float
    watch_rounds: int
    watch_journal_mb: int
    watch_status_workers: int
    watch_status_phase_s: float
    watch_status_rounds: int


FULL = Plan(
    mode="full",
    stream_s=5.0,
    widths=(1, 2, 4, 8),
    repeats=3,
    latency_jobs=60,
    ingest_lines=200_000,
    scale_jobs=100,
    scale_cap=8,
    tree_files=100_000,
    status_workers=8,
    status_phase_s=20.0,
    small_tree_files=10_000,
    snapshot_repeats=2,
    changed_paths=(10, 1000),
    change_repeats=3,
    collision_trials=20,
    work_turns=4,
    work_s=1.0,
    install_repeats=3,
    report_jobs=100,
    report_repeats=5,
    watch_jobs=8,
    watch_rate_hz=3.0,
    watch_stream_s=20.0,
    watch_window_s=10.0,
    watch_rounds=3,
    watch_journal_mb=50,
    watch_status_workers=2,
    watch_status_phase_s=5.0,
    watch_status_rounds=12,
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
    tree_files=5_000,
    status_workers=4,
    status_phase_s=1.5,
    small_tree_files=500,
    snapshot_repeats=1,
    changed_paths=(10, 100),
    change_repeats=1,
    collision_trials=3,
    work_turns=2,
    work_s=0.3,
    install_repeats=1,
    report_jobs=100,
    report_repeats=3,
    watch_jobs=8,
    watch_rate_hz=3.0,
    watch_stream_s=4.0,
    watch_window_s=2.0,
    watch_rounds=1,
    watch_journal_mb=4,
    watch_status_workers=2,
    watch_status_phase_s=1.0,
    watch_status_rounds=2,
)
