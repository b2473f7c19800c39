"""The commands that show jobs without acting on them: ``watch`` (live), ``log`` (one job's events) and
``report`` (a batch as one HTML page).

Each reads the state dir of the repository it is started in (or ``--state-dir``)
as `observe` reads it: nothing is written there and no server's lock is taken.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import time
from pathlib import Path

from ..core import state_layout as layout
from ..core.errors import ConfigError
from ..jobs.journal import ALERTS, RECORD, REQUEST, alerts_in, read_record
from ..observe.follow import EventReader, event_line
from ..observe.rows import alert_line
from ..observe.tail import LineTail
from .report import add_report_command, run_report
from .where import git_dirs, state_dir

COMMANDS = ("watch", "log", "report")
FOLLOW_EVERY_S = 0.2
"""How often ``log --follow`` looks for new lines, as ``tail -f`` does."""
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def add_view_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage] -- argparse names the subparsers type only privately
    """Declare ``watch``, ``log`` and ``report``."""
    watch = commands.add_parser(
        "watch",
        help="watch every job of this repository live: state, what each does now, files, tokens, alerts",
        description="A live view of the jobs in this repository's state dir (every server on it, this batch and "
        "recent ones). Without a terminal it prints one table and exits.",
    )
    watch.add_argument("--once", action="store_true", help="print one plain table and exit")
    watch.add_argument("--json", action="store_true", help="print one JSON line per job and exit")
    watch.add_argument("--state-dir", metavar="DIR", help="the state dir to read (default: as serve finds it)")
    log = commands.add_parser("log", help="print one job's events as readable lines; --follow as tail -f does")
    log.add_argument("job", metavar="JOB", help="the job id, as codex_spawn returned it or watch lists it")
    log.add_argument("--follow", "-f", action="store_true", help="keep printing new events until the job finishes")
    log.add_argument("--json", action="store_true", help="print the normalized events as JSON lines")
    log.add_argument("--state-dir", metavar="DIR", help="the state dir to read (default: as serve finds it)")
    add_report_command(commands)


def run_view(args: argparse.Namespace) -> int:
    """Run ``watch``, ``log`` or ``report``."""
    here = Path.cwd().resolve()
    top, git_dir = git_dirs(here)
    state = state_dir(args.state_dir, here, git_dir)
    if args.command == "report":
        return run_report(args, state, top)
    if args.command == "watch":
        from .watch import run

        return run(state, top, single=args.once, as_json=args.json)
    return _log(state, args.job, follow=args.follow, as_json=args.json)


def _log(state: Path, job_id: str, *, follow: bool, as_json: bool) -> int:
    directory = _job_directory(state, job_id)
    where = _where(directory)
    events, alerts = EventReader(directory), LineTail(directory / ALERTS)
    try:
        while True:
            done = _finished(directory)
            for event in events.events():
                sys.stdout.write(event.model_dump_json() + "\n" if as_json else event_line(event, *where) + "\n")
            if not as_json:
                sys.stdout.writelines(alert_line(alert, job_id) + "\n" for alert in alerts_in(alerts.read()))
            sys.stdout.flush()
            if not follow or done:
                return 0
            time.sleep(FOLLOW_EVERY_S)
    except KeyboardInterrupt:
        return 130


def _job_directory(state: Path, job_id: str) -> Path:
    """The directory of ``job_id`` in ``state``, refusing a malformed or unknown id with the ids it may mean."""
    if not _JOB_ID.fullmatch(job_id):
        raise ConfigError(f"{job_id!r} is not a job id; job ids look like j-0123456789ab (watch --once lists them).")
    directory = layout.job(state, job_id)
    if (directory / RECORD).exists() or (directory / REQUEST).exists():
        return directory
    try:
        known = sorted(name for name in os.listdir(layout.jobs(state)) if not name.startswith("."))
    except OSError:
        known = []
    if not known:
        raise ConfigError(
            f"No job {job_id!r}: the state dir {state} has no jobs; start from the repository Codex runs in."
        )
    near = difflib.get_close_matches(job_id, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(near)}?" if near else ""
    raise ConfigError(
        f"No job {job_id!r} in the state dir {state}.{hint} `codex-subagents watch --once` lists its jobs."
    )


def _where(directory: Path) -> tuple[Path | None, Path | None]:
    """The job's worktree top and cwd, to name its paths from that top; Nones when no record says."""
    for name in (RECORD, REQUEST):
        try:
            request = read_record(directory / name).request
        except (OSError, ValueError):
            continue
        return Path(request.root or request.cwd), Path(request.cwd)
    return None, None


def _finished(directory: Path) -> bool:
    """Whether the job's record says it finished (its last events are then journaled)."""
    try:
        return read_record(directory / RECORD).done
    except (OSError, ValueError):
        return False
