"""What a person sees of the watch: the app on a state dir, and its screen as lines of text."""

from __future__ import annotations

from pathlib import Path

from codex_subagents.commands.watch import BaselineFinder, JobTable, WatchApp
from codex_subagents.observe.board import Board


def watch_app(state_dir: Path, root: Path | None = None) -> WatchApp:
    """The watch on ``state_dir``, as ``codex-subagents watch`` starts it in ``root``."""
    board = Board(state_dir)
    return WatchApp(board, root, BaselineFinder(board, root))


def screen_lines(app: WatchApp) -> list[str]:
    """Each line of the screen as the terminal would show it, trailing blanks cut."""
    update = app.screen._compositor.render_full_update(simplify=True)  # pyright: ignore[reportPrivateUsage] -- Textual exports the screen only as SVG; its compositor gives the text
    return ["".join(strip.text for strip in line).rstrip() for line in update.strips]


def screen_text(app: WatchApp) -> str:
    """The whole screen as text."""
    return "\n".join(screen_lines(app))


def table_jobs(app: WatchApp) -> list[str]:
    """The job ids of the table's rows, top to bottom."""
    table = app.query_one(JobTable)
    return [str(table.get_row_at(index)[0]) for index in range(table.row_count)]
