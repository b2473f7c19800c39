"""The watch's table of jobs: a line of column names, then one line per job, drawn line by line.

Textual's DataTable drew every visible row again whenever one cell changed (a
change invalidates all its rows' caches), and while jobs stream most rows change
at every look: their time each second, their "doing now" with each event. This
table keeps each row's drawn line and draws it again only when its cells, its
stripe or highlight, or the column widths change; a look that changed three rows
repaints those three lines. Each column is as wide as its widest cell and widens
when a cell grows; the highlight stays on its job when rows are added or
reordered. Every cell is literal text: a label or a command may hold brackets.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

TABLE_KEYS: list[BindingType] = [
    Binding("down", "move(1)", "move", key_display="↑↓"),
    Binding("enter", "app.open", "open job"),
]
"""The table's keys that the footer shows (up goes without saying beside down)."""
MOVES: list[BindingType] = [
    Binding("up", "move(-1)", "move up", show=False),
    Binding("pagedown", "page(1)", "page down", show=False),
    Binding("pageup", "page(-1)", "page up", show=False),
]
"""The table's other keys; left and right scroll it, as in any scrolling view."""
TABLE_CSS = """
JobTable {
    background: $surface;
    color: $foreground;
    & > .job-table--header { text-style: bold; background: $panel; color: $foreground; }
    & > .job-table--stripe { background: $surface-lighten-1 50%; }
    &:dark > .job-table--stripe { background: $surface-darken-1 40%; }
    & > .job-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    &:focus {
        background-tint: $foreground 5%;
        & > .job-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
}
"""
"""DataTable's look for its header, its even rows and its cursor, so the watch looks as it did."""
_ALERT = Style(bold=True, color="red")
"""The alerts cell stands out; its symbol and word say it without colour too."""


class Rows:
    """The table's rows: each job's cells, in order, the columns' widths, the highlighted row, and each row's line
    as last drawn."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.cells: dict[str, tuple[str, ...]] = {}
        self.order: list[str] = []
        self.places: dict[str, int] = {}
        self.widths = tuple(cell_len(name) for name in columns)
        self.cursor = 0
        """The place of the highlighted row."""
        self._drawn: dict[str, tuple[object, Strip]] = {}

    @property
    def width(self) -> int:
        """The width of a row: each cell with a space either side."""
        return sum(self.widths) + 2 * len(self.widths)

    @property
    def highlighted(self) -> str | None:
        """The job of the highlighted row."""
        return self.order[self.cursor] if self.order else None

    def update(self, rows: dict[str, tuple[str, ...]]) -> tuple[list[str], bool]:
        """Take ``rows`` (cells by job id, in order, as `rows.row` makes them: one line each, control characters
        shown as such), the highlight kept on its job or else its place; return the jobs whose cells changed, and
        whether the order of the jobs or a column's width did, which changes every line."""
        changed = [job_id for job_id, cells in rows.items() if self.cells.get(job_id) != cells]
        widths = tuple(
            max([width, *(cell_len(rows[job_id][n]) for job_id in changed)]) for n, width in enumerate(self.widths)
        )
        every = list(rows) != self.order or widths != self.widths
        highlighted, self.cells, self.widths = self.highlighted, rows, widths
        if list(rows) != self.order:
            self.order = list(rows)
            self.places = {job_id: place for place, job_id in enumerate(rows)}
            self._drawn = {job_id: drawn for job_id, drawn in self._drawn.items() if job_id in rows}
            self.cursor = max(0, min(self.places.get(highlighted or "", self.cursor), len(rows) - 1))
        return changed, every

    def drawn(self, place: int, styles: tuple[Style, Style, Style], width: int) -> Strip:
        """The row at ``place`` to ``width``, in the first of ``styles``, the second over it on every other row from
        the first (the stripes) and the third over that on the highlighted one; drawn again only if its cells, its
        style or the widths changed."""
        style, stripe, highlight = styles
        style += stripe if place % 2 == 0 else Style()
        style += highlight if place == self.cursor else Style()
        job_id = self.order[place]
        key = (self.cells[job_id], style, self.widths, width)
        drawn = self._drawn.get(job_id)
        if drawn is None or drawn[0] != key:
            drawn = self._drawn[job_id] = (key, self.line(self.cells[job_id], style, width, alerts=True))
        return drawn[1]

    def line(self, cells: tuple[str, ...], style: Style, width: int, *, alerts: bool) -> Strip:
        """``cells`` in their columns in ``style``, filled out to ``width``; with ``alerts``, the last in bold red."""
        last = len(cells) - 1 if alerts else -1
        segments = [
            Segment(f" {set_cell_size(cell, cell_width)} ", style + _ALERT if n == last else style)
            for n, (cell, cell_width) in enumerate(zip(cells, self.widths, strict=True))
        ]
        return Strip(segments).extend_cell_length(width, style)


class JobTable(ScrollView, can_focus=True):
    """The jobs, one line each under a line of column names that stays at the top; the highlighted row follows its
    job, and up, down, page up, page down and a click move it."""

    BINDINGS: ClassVar[list[BindingType]] = [*TABLE_KEYS, *MOVES]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"job-table--header", "job-table--stripe", "job-table--cursor"}
    DEFAULT_CSS = TABLE_CSS

    class Highlighted(Message):
        """The highlight moved to another job."""

    def __init__(self, columns: tuple[str, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = Rows(columns)
        self._styles = (Style(),) * 4
        """The table's own style, then its header's, its stripes' and its highlight's."""

    def show(self, rows: dict[str, tuple[str, ...]]) -> None:
        """Show ``rows`` (cells by job id, in order): every line again when the jobs, their order or a column's width
        changed, else only the lines of the rows whose cells changed."""
        changed, every = self.rows.update(rows)
        self.virtual_size = Size(self.rows.width, len(rows) + 1)
        if every:
            self._scroll_to_cursor()
            self.refresh()
        else:
            for job_id in changed:
                self._refresh_row(self.rows.places[job_id])

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop``, the styles worked out once for all (Textual forgets them at each refresh)."""
        names = ("header", "stripe", "cursor")
        self._styles = (self.rich_style, *(self.get_component_rich_style(f"job-table--{name}") for name in names))
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the column names at the top, then the rows from the one scrolled to."""
        scroll_x, scroll_y = self.scroll_offset
        place, width = y - 1 + scroll_y, max(self.rows.width, self.size.width)
        style, header, stripe, highlight = self._styles
        if y == 0:
            line = self.rows.line(self.rows.columns, style + header, width, alerts=False)
        elif place < len(self.rows.order):
            line = self.rows.drawn(place, (style, stripe, highlight), width)
        else:
            return Strip.blank(self.size.width, style)
        return line.crop(scroll_x, scroll_x + self.size.width)

    def action_move(self, rows: int) -> None:
        self._move(self.rows.cursor + rows)

    def action_page(self, pages: int) -> None:
        self._move(self.rows.cursor + pages * max(1, self.scrollable_content_region.height - 1))

    def on_click(self, event: events.Click) -> None:
        """A click on a row highlights it."""
        if event.y >= 1:
            self._move(event.y - 1 + self.scroll_offset.y)

    def _move(self, place: int) -> None:
        """Highlight the row at ``place`` (kept within the rows), bring it into view, and say so if it moved."""
        place = max(0, min(place, len(self.rows.order) - 1))
        if place != self.rows.cursor:
            self._refresh_row(self.rows.cursor)
            self.rows.cursor = place
            self._refresh_row(place)
            self._scroll_to_cursor()
            self.post_message(self.Highlighted())

    def _scroll_to_cursor(self) -> None:
        """Scroll so the highlighted row is in view below the column names."""
        region = Region(self.scroll_offset.x, self.rows.cursor + 1, 1, 1)
        self.scroll_to_region(region, animate=False, spacing=Spacing(top=1), force=True, immediate=True)

    def _refresh_row(self, place: int) -> None:
        """Repaint the row at ``place`` if it is in view, and nothing else."""
        y = place + 1 - self.scroll_offset.y
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))
