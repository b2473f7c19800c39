"""``codex-subagents watch``: every job of a repository's state dir, live, in the terminal.

The screen is a Textual app: a header with the counts, a table with one row per
job (`watch_table`), and a pane with the highlighted job's events as they arrive;
the keys are in the footer. Twice a second the board reads what changed in the
state dir (never a whole journal again), and only the table's lines whose rows
changed are drawn again. The pane, drawn whole when it scrolls, takes in its new
events once a second beside the table (each row shows its job's newest event at
every look) and at every look when the job is opened. Drawing is most of what
the watch costs: with eight jobs streaming it uses a few percent of one core.
Without a terminal, or with ``--once``, one plain table is printed instead, and
with ``--json`` one JSON line per job. Quitting, by ``q`` or Ctrl-C, gives the
terminal back as it was; Textual restores it.

The live watch runs at a lower priority (`as_viewer`): a viewer must never slow
the server or the workers it shows, and on a machine they keep busy its looks
(about 15 ms of processor time each, twice a second) wait for them, not they
for it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import anyio
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.markup import escape
from textual.widgets import Footer, RichLog, Static

from ..core.git import NICENESS
from ..core.priority import session_niceness, set_session_niceness
from ..observe.activity import printable
from ..observe.batch import Current, current
from ..observe.board import Board, JobView
from ..observe.follow import EventReader, event_line
from ..observe.rows import COLUMNS, alert_line, findings, header, line, place, plain, row
from .watch_table import JobTable

TICK_S = 0.5
"""How often the screen reads the state dir: an event is on screen within this and one redraw."""
FINDINGS_EVERY_S = 1.0
"""How often the overlaps and re-runs are worked out again: an overlap needs no sub-second alert, the alerts do."""
MOST_ROWS = 1000
"""The newest jobs the table shows; older ones are counted in the header, and ``--json`` lists all."""
PANE_EVERY = 2
"""Beside the table, the events pane takes in its job's new events at every second look: each row shows its job's
newest event at every look, and scrolling the pane draws all of it again. Opened, the pane takes them at every look."""
WATCH_CSS = """
#header { height: auto; padding: 0 1; background: $boost; }
#jobs { height: 1fr; }
#events { height: 1fr; border-top: solid $accent; scrollbar-size-vertical: 0; }
.maximized #jobs { display: none; }
.maximized #events { scrollbar-size-vertical: 2; }
"""
"""The layout. Beside the table the events pane has no scroll bar: the pane follows its job's newest events, and
the bar, drawn again whenever they scroll, would cost as much as the pane; opened, the pane has one."""
KEYS: list[BindingType] = [
    Binding("escape", "table", "back to the table"),
    Binding("r", "running", "only running"),
    Binding("q", "quit", "quit"),
    Binding("ctrl+c", "quit", "quit", show=False, priority=True),
]
"""The app's keys, shown in the footer but for the one that only repeats another."""


class Heading(Static):
    """The header's two lines, redrawn only when their words change."""

    def show(self, text: str) -> None:
        """Show ``text`` unless it is shown already."""
        if text != str(self.content):
            self.update(Text(text))  # literal: a path or a label may hold brackets


class WatchApp(App[None]):
    """The live view of one state dir."""

    TITLE = "codex-subagents watch"
    ENABLE_COMMAND_PALETTE = False
    CSS = WATCH_CSS
    BINDINGS: ClassVar[list[BindingType]] = KEYS

    def __init__(self, board: Board, here: Path | None, baseline: BaselineFinder) -> None:
        super().__init__()
        self.board = board
        self.here = here
        self.baseline = baseline
        self.only_running = False
        self.opened: str | None = None
        self._findings = _Findings()

    def compose(self) -> ComposeResult:
        yield Heading(id="header")
        yield JobTable(COLUMNS, id="jobs")
        yield EventPane()
        yield Footer()

    def on_mount(self) -> None:
        if not self.is_headless:
            # Killed by a signal, the watch would skip `as_viewer`'s restoring the session's priority.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        self.tick()
        self.set_interval(TICK_S, self.tick)
        self.set_interval(BaselineFinder.EVERY_S, self._find_baseline)
        self._find_baseline()

    def _find_baseline(self) -> None:
        self.run_worker(self.baseline.look(), group="baseline", exclusive=True)

    def tick(self) -> None:
        """Read what changed and redraw it: the header, the rows that changed, the pane's new lines."""
        if not self.is_running:
            return  # quitting: Textual removes the widgets before it stops the app's timers
        self.board.look()
        now = time.time()
        shown = [view for view in self.board.jobs if not self.only_running or view.state in ("running", "queued")]
        self.query_one(Heading).show(title(self.board, self.here, self.baseline.found, len(shown)))
        found = self._findings.of(self.board.jobs, self.baseline.found, now)
        self.query_one(JobTable).show({v.job_id: row(v, now, found.get(v.job_id, ())) for v in shown[:MOST_ROWS]})
        self._follow(add=self.opened is not None or self.board.looks % PANE_EVERY == 0)

    def _follow(self, add: bool = True) -> None:
        """Show the opened job's events in the pane, or the highlighted job's; with ``add``, the new ones too."""
        job_id = self.opened or self.query_one(JobTable).rows.highlighted
        view = self.board.get(job_id) if job_id else None
        if view is not None:
            self.query_one(EventPane).follow(view, add=add)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer back when a job is open, and open when none is."""
        del parameters
        return {"table": self.opened is not None, "open": self.opened is None}.get(action, True)

    def on_job_table_highlighted(self) -> None:
        self._follow()

    def action_open(self) -> None:
        """Open the highlighted job: its events take the whole screen."""
        self.opened = self.query_one(JobTable).rows.highlighted
        self.screen.add_class("maximized")
        self.refresh_bindings()
        self._follow()

    def action_table(self) -> None:
        """Back to the table, its keys working again (hiding it took the focus away)."""
        self.opened = None
        self.screen.remove_class("maximized")
        self.query_one(JobTable).focus()
        self.refresh_bindings()

    def action_running(self) -> None:
        """Show only the running and queued jobs, or every job again."""
        self.only_running = not self.only_running
        self.tick()


class EventPane(RichLog):
    """One job's events, from near the end of its journal on, then each new one and each new alert as it comes."""

    LAST_BYTES = 256 << 10
    """How much of a long journal the pane shows when it opens: its last whole lines in this many bytes."""

    def __init__(self) -> None:
        super().__init__(id="events", wrap=False, max_lines=2000, auto_scroll=True)
        self.job_id: str | None = None
        self._where: tuple[Path | None, Path | None] = (None, None)
        self._events: EventReader | None = None
        self._alerts = 0

    def follow(self, view: JobView, *, add: bool = True) -> None:
        """Show ``view``'s job, from its journal's last lines if it is not the one shown; add what is new if ``add``
        or the job is new to the pane."""
        if self._events is None or self.job_id != view.job_id:
            self.clear()
            self.border_title = escape(printable(f"{view.job_id} {view.label}"))
            request = view.record.request if view.record else None
            self._where = (Path(request.root or request.cwd), Path(request.cwd)) if request else (None, None)
            self.job_id, self._events, self._alerts = (
                view.job_id,
                EventReader(view.directory, last_bytes=self.LAST_BYTES),
                0,
            )
        elif not add:
            return
        lines: list[str | Text] = [event_line(event, *self._where) for event in self._events.events()]
        lines += [Text(alert_line(alert, view.job_id), style="bold") for alert in view.alerts[self._alerts :]]
        self._alerts = len(view.alerts)
        for text in lines:
            self.write(text)
        if lines:
            # At once: RichLog scrolls after the next redraw, which would draw the whole pane a second time.
            self.scroll_end(animate=False, immediate=True, x_axis=False)


class _Findings:
    """The batch's overlaps and re-runs, worked out again at most every `FINDINGS_EVERY_S` (in a large state dir
    they cost about a tick)."""

    def __init__(self) -> None:
        self._at, self._found = 0.0, dict[str, list[str]]()

    def of(self, jobs: list[JobView], batch: Current, now: float) -> dict[str, list[str]]:
        """What `findings` says of ``jobs``, at most `FINDINGS_EVERY_S` old."""
        if now - self._at >= FINDINGS_EVERY_S:
            self._at, self._found = now, findings(jobs, batch)
        return self._found


class BaselineFinder:
    """The batch in use, looked up again every few seconds (a lookup runs git): since the newest baseline of the
    worktree the jobs run in, when they all run in one, else of the worktree the watch was started in."""

    EVERY_S = 5.0

    def __init__(self, board: Board, here: Path | None) -> None:
        self.board = board
        self.here = here
        self.found = Current()

    async def look(self) -> None:
        """Look up the newest baseline of the jobs' worktree and the rollbacks since."""
        roots = self.board.roots()
        root = next(iter(roots)) if len(roots) == 1 else self.here
        if root is not None:
            self.found = await current(root)


def once(board: Board, here: Path | None, batch: Current, as_json: bool) -> str:
    """The state dir's jobs, once: a plain table, or one JSON line per job."""
    board.look()
    now, jobs = time.time(), board.jobs
    found = findings(jobs, batch)
    if as_json:
        return "".join(line(view, now, found.get(view.job_id, ())).model_dump_json() + "\n" for view in jobs)
    return plain(
        title(board, here, batch, len(jobs)), [row(view, now, found.get(view.job_id, ())) for view in jobs[:MOST_ROWS]]
    )


def title(board: Board, here: Path | None, batch: Current, shown: int) -> str:
    """The two lines above the jobs: whose they are, then the counts and the batch; control characters (in a path, a
    baseline's label) shown as the replacement character."""
    return f"{printable(place(board, here))}\n{printable(header(board, batch) + newest(shown))}"


def newest(shown: int) -> str:
    """What the header adds when the table shows only the newest `MOST_ROWS` of ``shown`` jobs."""
    return f" · newest {MOST_ROWS} shown of {shown}" if shown > MOST_ROWS else ""


def run(state_dir: Path, root: Path | None, *, single: bool, as_json: bool) -> int:
    """Watch ``state_dir`` live in a terminal, or print it once when asked to or when stdout is no terminal."""
    board = Board(state_dir)
    board.look()
    finder = BaselineFinder(board, root)
    if single or as_json or not sys.stdout.isatty():
        anyio.run(finder.look)
        sys.stdout.write(once(board, root, finder.found, as_json))
        return 0
    with as_viewer():
        WatchApp(board, root, finder).run()
    return 0


@contextmanager
def as_viewer() -> Generator[None]:
    """Run the body at a viewer's priority: this process's nice value raised to `NICENESS` and, on Linux, its
    session's too (autogroup scheduling, `core.priority`), the session's value restored at the end.

    Where the kernel shares the processor out between sessions first, the process's own nice value only ranks it
    within its session, so the session's must be raised as well. That session is the terminal's: the person's shell
    in that pane and any job it runs in the background. So the value read at the start is put back when the body
    ends, whether by quitting, Ctrl-C, SIGTERM or an exception, unless another process changed it meanwhile; a value
    already at `NICENESS` or higher is left alone. The process's own nice value ends with it. On macOS, and where the
    session's value cannot be changed, the process's own nice value alone is raised.
    """
    own = os.nice(0)
    if own < NICENESS:
        os.nice(NICENESS - own)
    before = session_niceness()
    lowered = before is not None and before < NICENESS and set_session_niceness(NICENESS)
    try:
        yield
    finally:
        if lowered and before is not None and session_niceness() == NICENESS:
            set_session_niceness(before, tries=10)  # another change in the same 100 ms is refused: a second at most
