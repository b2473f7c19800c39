"""What a person sees of the watch: the app on a state dir, and its screen as lines of text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio

from codex_subagents.commands.watch import BaselineFinder, WatchApp
from codex_subagents.commands.watch_table import JobTable
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
    return list(app.query_one(JobTable).rows.order)


class SeenApp(WatchApp):
    """The watch, keeping each screen it draws after a look and telling when it does, so a test can wait for one."""

    def __init__(self, state_dir: Path, root: Path | None = None) -> None:
        board = Board(state_dir)
        super().__init__(board, root, BaselineFinder(board, root))
        self.drawn = anyio.Event()
        self.screens: list[str] = []
        """The text of each screen drawn after a look, oldest first."""

    def tick(self) -> None:
        super().tick()
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        self.screens.append(screen_text(self))
        self.drawn.set()
        self.drawn = anyio.Event()

    async def until(self, shows: Callable[[str], bool]) -> str:
        """The first screen, from now on, whose text ``shows`` accepts."""
        while not shows(text := screen_text(self)):
            await self.drawn.wait()
        return text
