"""``codex-subagents report --html FILE``: one batch of jobs as a self-contained HTML page.

The batch is the latest one unless a baseline or a time range names another
(`observe.batch`); the page is written whole to a temporary file beside ``FILE``
and renamed over it, so a reader never opens half a report.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import anyio

from ..core.errors import ConfigError
from ..observe.batch import Batch, Choice, moment, select
from ..observe.page import html


def add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage] -- argparse names the subparsers type only privately
    """Declare ``report``."""
    report = commands.add_parser(
        "report",
        help="write one batch of jobs as a self-contained HTML page: a timeline of the jobs, touches, alerts",
        description="Write the jobs of one batch (by default the latest: since the worktree's newest baseline) "
        "as one HTML page that fetches nothing: a lane per job from queued to finished, each file touch, "
        "collisions, overlaps, rollbacks, re-runs and tokens.",
    )
    report.add_argument("--html", metavar="FILE", required=True, help="the page to write ('-' for stdout)")
    which = report.add_mutually_exclusive_group()
    which.add_argument("--baseline", metavar="ID", help="the batch of this baseline, up to the next newer one")
    which.add_argument("--since", metavar="TIME", type=_time, help="jobs queued from TIME (ISO time or epoch s)")
    report.add_argument("--until", metavar="TIME", type=_time, help="jobs queued before TIME (ISO time or epoch s)")
    report.add_argument("--state-dir", metavar="DIR", help="the state dir to read (default: as serve finds it)")


def run_report(args: argparse.Namespace, state: Path, root: Path | None) -> int:
    """Write the report the arguments ask for; say where, and how many jobs it shows."""
    if args.baseline is not None and args.until is not None:
        raise ConfigError("--until goes with --since; a baseline's batch ends at the next newer baseline.")
    choice = Choice(baseline_id=args.baseline, since=args.since, until=args.until)
    batch: Batch = anyio.run(select, state, root, choice)
    page = html(batch)
    if args.html == "-":
        sys.stdout.write(page)
    else:
        write(Path(args.html), page)
    jobs = len(batch.jobs)
    target = "stdout" if args.html == "-" else args.html
    note = f"{jobs} job{'s' if jobs != 1 else ''}" if jobs else f"no job (state dir {state})"
    print(f"codex-subagents: report of {note}, {batch.chosen}, written to {target}", file=sys.stderr)
    return 0


def report_of(state: Path, root: Path, target: Path) -> str:
    """Write the report of the latest batch in ``state`` to ``target``; say where, or why there is none."""
    try:
        batch = anyio.run(select, state, root, Choice())
        write(target, html(batch))
    except (ConfigError, OSError) as exc:
        return f"no report of the batch: {exc}"
    return f"the batch's timeline ({len(batch.jobs)} jobs): open {target}"


def write(path: Path, page: str) -> None:
    """Replace ``path`` with ``page`` whole."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(page, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigError(
            f"The report cannot be written to {str(path)!r} ({exc.strerror}); choose another FILE."
        ) from None


def _time(text: str) -> float:
    try:
        return moment(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
