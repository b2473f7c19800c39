"""``codex-subagents watch``: every job of a repository's state dir, live, in the terminal.

The screen is a Textual app: a header with the counts, a table with one row per
job, and a pane with the highlighted job's events as they arrive; the keys are in
the footer. Four times a second the board reads what changed in the state dir
(never a whole journal again), and only the cells that changed are redrawn.
Without a terminal, or with ``--once``, one plain table is printed instead, and
with ``--json`` one JSON line per job. Quitting, by ``q`` or Ctrl-C, gives the
terminal back as it was; Textual restores it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import ClassVar

import anyio
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, RichLog, Static

from ..observe.batch import newest_baseline
from ..observe.board import Board, JobView
from ..observe.follow import EventReader, event_line
from ..observe.rows import COLUMNS, alert_words, header, line, plain, row

TICK_S = 0.25
"""How often the screen reads the state dir: an event is on screen within this and one redraw."""
MOST_ROWS = 1000
"""The newest jobs the table shows; older ones are counted in the header, and ``--json`` lists all."""
WATCH_CSS = """
#header { height: auto; padding: 0 1; background: $boost; }
#jobs { height: 1fr; }
#events { height: 1fr; border-top: solid $accent; }
.maximized #jobs { display: none; }
"""
KEYS: list[BindingType] = [
    Binding("enter", "open", "open job"),
    Binding("escape", "table", "back", show=False),
    Binding("r", "running", "only running"),
    Binding("q", "quit", "quit"),
    Binding("ctrl+c", "quit", "quit", show=False, priority=True),
]
"""The keys, shown in the footer but for the two that only repeat another."""


class JobTable(DataTable[str | Text]):
    """The jobs, one row each; only the cells that changed are redrawn, and the highlight stays on its job."""

    def __init__(self) -> None:
        super().__init__(id="jobs", cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, tuple[str, ...]] = {}
        for name in COLUMNS:
            self.add_column(name, key=name)

    @property
    def highlighted(self) -> str | None:
        """The job of the highlighted row."""
        if not self._shown or self.cursor_row >= len(self._shown):
            return None
        return list(self._shown)[self.cursor_row]

    def show(self, rows: dict[str, tuple[str, ...]]) -> None:
        """Show ``rows`` (cells by job id, in order): all again when the jobs or their order changed, else by cell."""
        if list(rows) != list(self._shown):
            highlighted = self.highlighted
            self.clear()
            for job_id, cells in rows.items():
                self.add_row(*_styled(cells), key=job_id)
            if highlighted in rows:
                self.move_cursor(row=list(rows).index(highlighted))
        else:
            for job_id, cells in rows.items():
                for name, old, new in zip(COLUMNS, self._shown[job_id], _styled(cells), strict=True):
                    if old != str(new):
                        self.update_cell(job_id, name, new)
        self._shown = rows


class WatchApp(App[None]):
    """The live view of one state dir."""

    TITLE = "codex-subagents watch"
    CSS = WATCH_CSS
    BINDINGS: ClassVar[list[BindingType]] = KEYS

    def __init__(self, board: Board, where: str, baseline: BaselineFinder) -> None:
        super().__init__()
        self.board = board
        self.where = where
        self.baseline = baseline
        self.only_running = False
        self.opened: str | None = None
        self._pane: _Pane | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        yield JobTable()
        yield RichLog(id="events", wrap=False, max_lines=2000, auto_scroll=True)
        yield Footer()

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(TICK_S, self.tick)
        self.set_interval(BaselineFinder.EVERY_S, self._find_baseline)
        self._find_baseline()

    def _find_baseline(self) -> None:
        self.run_worker(self.baseline.look(), group="baseline", exclusive=True)

    def tick(self) -> None:
        """Read what changed and redraw it: the header, the rows that changed, the pane's new lines."""
        self.board.look()
        now = time.time()
        shown = [view for view in self.board.jobs if not self.only_running or view.state in ("running", "queued")]
        more = len(shown) - MOST_ROWS
        head = f"{self.where}\n{header(self.board, self.baseline.found)}"
        self.query_one("#header", Static).update(
            head + (f" · newest {MOST_ROWS} shown of {len(shown)}" if more > 0 else "")
        )
        self.query_one(JobTable).show({view.job_id: row(view, now) for view in shown[:MOST_ROWS]})
        self._follow()

    def _follow(self) -> None:
        """Show the opened job's events in the pane, or the highlighted job's; new lines are appended."""
        job_id = self.opened or self.query_one(JobTable).highlighted
        view = self.board.get(job_id) if job_id else None
        pane = self.query_one("#events", RichLog)
        if view is None:
            return
        if self._pane is None or self._pane.job_id != view.job_id:
            pane.clear()
            pane.border_title = f"{view.job_id} {view.label}"
            self._pane = _Pane(view)
        for text in self._pane.lines(view):
            pane.write(Text(text, style="bold" if text.startswith(("⚠", "✗")) else ""))

    def on_data_table_row_highlighted(self) -> None:
        self._follow()

    def action_open(self) -> None:
        """Open the highlighted job: its events take the whole screen."""
        self.opened = self.query_one(JobTable).highlighted
        self.screen.add_class("maximized")
        self._follow()

    def action_table(self) -> None:
        """Back to the table."""
        self.opened = None
        self.screen.remove_class("maximized")

    def action_running(self) -> None:
        """Show only the running and queued jobs, or every job again."""
        self.only_running = not self.only_running
        self.tick()


class _Pane:
    """What the pane has shown of one job: its events from near the journal's end on, and its alerts."""

    LAST_BYTES = 256 << 10

    def __init__(self, view: JobView) -> None:
        self.job_id = view.job_id
        self._events = EventReader(view.directory, last_bytes=self.LAST_BYTES)
        self._alerts = 0

    def lines(self, view: JobView) -> list[str]:
        """The lines to add: new events, then new alerts."""
        found = [event_line(event) for event in self._events.events()]
        found += [alert_words(alert, view.job_id) for alert in view.alerts[self._alerts :]]
        self._alerts = len(view.alerts)
        return found


class BaselineFinder:
    """The baseline in use in a worktree, looked up again every few seconds (a lookup runs git)."""

    EVERY_S = 5.0

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.found: str | None = None

    async def look(self) -> None:
        """Look up the worktree's newest baseline."""
        if self.root is not None:
            self.found = await newest_baseline(self.root)


def _styled(cells: tuple[str, ...]) -> tuple[str | Text, ...]:
    """The row's cells, the alerts in bold (their symbol and word say it without colour too)."""
    *rest, alerts = cells
    return (*rest, Text(alerts, style="bold red") if alerts else alerts)


def once(board: Board, where: str, baseline: str | None, as_json: bool) -> str:
    """The state dir's jobs, once: a plain table, or one JSON line per job."""
    board.look()
    now = time.time()
    if as_json:
        return "".join(line(view, now).model_dump_json() + "\n" for view in board.jobs)
    return plain(f"{where}\n{header(board, baseline)}", [row(view, now) for view in board.jobs])


def run(state_dir: Path, root: Path | None, *, single: bool, as_json: bool) -> int:
    """Watch ``state_dir`` live in a terminal, or print it once when asked to or when stdout is no terminal."""
    board = Board(state_dir)
    where = f"{root or state_dir} (state dir {state_dir})"
    finder = BaselineFinder(root)
    if single or as_json or not sys.stdout.isatty():
        anyio.run(finder.look)
        sys.stdout.write(once(board, where, finder.found, as_json))
        return 0
    WatchApp(board, where, finder).run()
    return 0
