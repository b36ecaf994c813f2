"""A diff (before → after) that draws only the lines on screen: side by side when there is
room for a useful line on each side, one column (unified: removed lines, then added) when
not, and either on request (``toggle_layout``). Long lines wrap, so every character shows.

``diff_rows`` (``diff_model``) pairs the two texts; run it off the event loop for big files.
``DiffView`` is a Line-API ``ScrollView``: the screen lines of a width and layout are a
``WrapIndex`` (``diff_wrap``) that stores only the lines that wrap, and a ``Strip`` is built
only for a line that is visible (an LRU cache of a few screenfuls), so 100,000 lines cost
about what 50 do to show, scroll, page and jump to the end. When many lines wrap at a new
width (each must be looked at), the index is worked out in a thread while the lines on
screen are wrapped at once. No widget per line. The top line labels the sides and stays put
while the rest scrolls.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import ClassVar

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.actions import SkipAction
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker, WorkerState

from hermes_tui.ui.widgets.diff_model import DiffRow, DiffRows, Layout, diff_rows
from hermes_tui.ui.widgets.diff_wrap import WrapIndex, chunks, window_index, wrap_index

__all__ = ["MIN_SIDE_TEXT", "DiffRow", "DiffRows", "DiffView", "Layout", "diff_rows"]

#: Side by side only when each side has room for this many characters of text.
MIN_SIDE_TEXT = 32
#: Up to this many lines wider than the text room, a layout is worked out at once (about a
#: millisecond per thousand); beyond, in a thread.
SYNC_WRAP_LINES = 4_000


class DiffView(ScrollView, can_focus=True):
    """Before and after, labelled; ``]``/``[`` jump between changes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter", "diff-view--added", "diff-view--removed", "diff-view--blank",
        "diff-view--header",
    }
    DEFAULT_CSS = """
    DiffView {
        background: $surface;
    }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--added { background: $success 25%; }
    DiffView > .diff-view--removed { background: $error 25%; }
    DiffView > .diff-view--blank { color: $text-muted; }
    DiffView > .diff-view--header { text-style: bold; color: $text-primary; background: $panel; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "next_hunk", "Next change", id="next-hunk", key_display="]"),
        Binding("left_square_bracket", "prev_hunk", "Prev change", id="prev-hunk", key_display="["),
    ]

    def __init__(self, before_label: str = "Before", after_label: str = "After", **kwargs) -> None:
        super().__init__(**kwargs)
        self._diff = diff_rows(None, None)
        self._labels = (before_label, after_label)
        #: None: chosen by width; otherwise what the user asked for.
        self._chosen: Layout | None = None
        #: The screen lines now shown; exact unless ``_pending`` is being worked out.
        self._index: WrapIndex | None = None
        #: (width, layout) of the index a thread is working out; meanwhile ``_index`` is
        #: exact for the lines that were on screen (``window_index``).
        self._pending: tuple[int, Layout] | None = None
        self._cache: LRUCache[int, Strip] = LRUCache(256)
        self._cache_key: tuple[int, int] | None = None

    @property
    def diff(self) -> DiffRows:
        return self._diff

    @property
    def layout_in_use(self) -> Layout:
        """Side by side when asked for, or when lines were changed (not only added or only
        removed: one column shows those whole) and each side can show ``MIN_SIDE_TEXT``."""
        if self._chosen is not None:
            return self._chosen
        if not self._diff.paired:  # a new file, or lines only added or only removed
            return "unified"
        return "split" if self._side_text(self._content_width()) >= MIN_SIDE_TEXT else "unified"

    def show(self, diff: DiffRows, before_label: str | None = None,
             after_label: str | None = None) -> None:
        """Display ``diff`` from the top, the sides named by the labels given."""
        self._diff = diff
        if before_label is not None or after_label is not None:
            self._labels = (before_label or self._labels[0], after_label or self._labels[1])
        self._index = self._pending = None
        self._relayout(anchor=0)
        self.scroll_to(0, 0, animate=False)

    def toggle_layout(self) -> Layout:
        """Switch between side by side and one column; returns the layout now shown."""
        self._chosen = "unified" if self.layout_in_use == "split" else "split"
        top = self._row_at(int(self.scroll_offset.y))
        self._relayout(anchor=top)
        if self._pending is None:
            self.scroll_to(y=self._line_of_row(top), animate=False)
        return self._chosen

    def on_resize(self) -> None:
        self._relayout(anchor=self._top_row())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- layout -------------------------------------------------------------------

    def _content_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width

    def _digits(self) -> int:
        return max(3, len(str(self._diff.row_count)))

    def _side_text(self, width: int) -> int:
        """Characters of text on each side when side by side at ``width``."""
        half = (width - 1) // 2
        return half - self._digits() - 2

    def _room(self, width: int, layout: Layout) -> int:
        if layout == "split":
            return max(1, self._side_text(width))
        return max(1, width - 2 * self._digits() - 3)

    def _relayout(self, anchor: int | None = None) -> None:
        """Lay the diff out at the current width, keeping row ``anchor`` on top (None: the
        end). Nothing to do before the widget has a width, nor when the layout is current."""
        width = self._content_width()
        if width <= 0:
            return
        layout = self.layout_in_use
        key = (width, layout)
        if (self._index is not None and self._index.key == key) or self._pending == key:
            return
        diff = self._diff
        room = self._room(width, layout)
        self._cache.clear()
        if diff.wider_than(room) <= SYNC_WRAP_LINES:
            self._pending = None
            self._install(wrap_index(diff, layout, room, width))
            return
        # Many lines to wrap: the lines on screen now, the whole index from a thread.
        height = max(1, self.scrollable_content_region.height)
        entries = diff.entry_count(layout)
        first = (max(0, entries - height) if anchor is None
                 else diff.entry_of_row(layout, anchor) or 0)
        self._pending = key
        self._install(window_index(diff, layout, room, width, first, height))
        # Now, not after the next frame: the window is exact at this position only.
        self.scroll_to(y=first if anchor is not None else self.max_scroll_y, animate=False,
                       immediate=True)
        # After the lines on screen are drawn: the thread would slow that frame (the GIL).
        self.call_after_refresh(self._work_out, diff, layout, room, width)

    def _work_out(self, diff: DiffRows, layout: Layout, room: int, width: int) -> None:
        if self._diff is diff and self._pending == (width, layout):  # still wanted
            self.run_worker(lambda: wrap_index(diff, layout, room, width), name="diff-layout",
                            group="diff-layout", exclusive=True, thread=True,
                            exit_on_error=False)

    def _install(self, index: WrapIndex) -> None:
        self._index = index
        self._cache.clear()
        # One more line than the content: the labels, which stay at the top.
        self.virtual_size = Size(index.width, index.lines + 1)
        self.refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "diff-layout":
            return
        event.stop()
        if event.state is WorkerState.ERROR:  # the app's one handler shows it
            handler = getattr(self.app, "worker_failed", None)
            if handler is not None:
                handler(worker, self.screen)
            return
        index = worker.result
        if (event.state is not WorkerState.SUCCESS or index is None
                or index.diff is not self._diff or index.key != self._pending):
            return  # superseded: another diff, width or layout since
        top = self._top_row()  # where the user is now, in the lines shown meanwhile
        self._pending = None
        self._install(index)
        y = self.max_scroll_y if top is None else self._line_of_row(top)
        self.scroll_to(y=y, animate=False, immediate=True)

    def _top_row(self) -> int | None:
        """The row at the top of the view (None: the view is at the end)."""
        if self._index is not None and 0 < self.max_scroll_y <= self.scroll_offset.y:
            return None
        return self._row_at(int(self.scroll_offset.y))

    def _row_at(self, line: int) -> int:
        index = self._index
        if index is None or not 0 <= line < index.lines:
            return 0
        return self._diff.entry(index.layout, index.at(line)[0])[0]

    def _line_of_row(self, row: int) -> int:
        index = self._index
        entry = None if index is None else self._diff.entry_of_row(index.layout, row)
        return 0 if entry is None else index.line_of(entry)

    # -- navigation ---------------------------------------------------------------

    def _hunks(self) -> tuple[tuple[int, ...], WrapIndex | None]:
        """The entries where changed blocks start, and the index placing them on screen."""
        index = self._index
        return (() if index is None else self._diff.hunk_entries(index.layout)), index

    def action_next_hunk(self) -> None:
        hunks, index = self._hunks()
        if index is None:
            return
        at = bisect_right(hunks, int(self.scroll_offset.y), key=index.line_of)
        if at < len(hunks):
            self.scroll_to(y=index.line_of(hunks[at]), animate=False)

    def action_prev_hunk(self) -> None:
        hunks, index = self._hunks()
        if index is None:
            return
        at = bisect_left(hunks, int(self.scroll_offset.y), key=index.line_of) - 1
        if at >= 0:
            self.scroll_to(y=index.line_of(hunks[at]), animate=False)

    def action_page_down(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_to(y=self.scroll_y + self._page())

    def action_page_up(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_to(y=self.scroll_y - self._page())

    def _page(self) -> int:
        """The lines of the diff on screen: the labels' line stays, so a page is one less
        than the height (a whole height would skip a line at every page)."""
        return max(1, self.scrollable_content_region.height - 1)

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        if self._index is None or self._index.key != (width, self.layout_in_use):
            self._relayout(anchor=self._top_row())
        if y == 0:
            return self._header(width).apply_style(self.rich_style)
        line = int(self.scroll_offset.y) + y - 1
        key = (width, hash(self.app.theme))
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        strip = self._cache.get(line)
        if strip is None:
            strip = self._draw(line, width)
            self._cache[line] = strip
        return strip.apply_style(self.rich_style)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("diff-view--header")
        gutter = self.get_component_rich_style("diff-view--gutter")
        before, after = self._labels
        if self.layout_in_use == "split":
            half = (width - 1) // 2
            return Strip([Segment(_fit(f" {before}", half), style), Segment("│", gutter),
                          Segment(_fit(f" {after}", width - half - 1), style)], width)
        return Strip([Segment(_fit(f" - {before}   + {after}", width), style)], width)

    def _draw(self, line: int, width: int) -> Strip:
        index = self._index
        if index is None or line >= index.lines or index.width != width:
            return Strip.blank(width)
        styles = {name: self.get_component_rich_style(f"diff-view--{name}")
                  for name in ("gutter", "added", "removed", "blank")}
        entry, part = index.at(line)
        row_index, side = self._diff.entry(index.layout, entry)
        row = self._diff.row(row_index)
        if index.layout == "split":
            return self._draw_split(row, part, width, styles)
        return self._draw_unified(row, side, part, width, styles)

    def _draw_split(self, row: DiffRow, part: int, width: int,
                    styles: dict[str, Style]) -> Strip:
        digits = self._digits()
        half = (width - 1) // 2
        changed_left = row.tag in ("replace", "delete")
        changed_right = row.tag in ("replace", "insert")
        segments = [
            *_side(row.left_no, row.left, "-" if changed_left else " ", part, half, digits,
                   styles, styles["removed"] if changed_left else Style()),
            Segment("│", styles["gutter"]),
            *_side(row.right_no, row.right, "+" if changed_right else " ", part,
                   width - half - 1, digits, styles,
                   styles["added"] if changed_right else Style()),
        ]
        return Strip(segments, width)

    def _draw_unified(self, row: DiffRow, side: str, part: int, width: int,
                      styles: dict[str, Style]) -> Strip:
        digits = self._digits()
        room = max(1, width - 2 * digits - 3)
        if side == "both":
            old, new, mark, text, style = row.left_no, row.right_no, " ", row.left, Style()
        elif side == "left":
            old, new, mark, text, style = row.left_no, None, "-", row.left, styles["removed"]
        else:
            old, new, mark, text, style = None, row.right_no, "+", row.right, styles["added"]
        if part:  # a wrapped line's continuation: no numbers, the same colour band
            numbers = " " * (2 * digits + 1)
        else:
            numbers = f"{_number(old, digits)} {_number(new, digits)}"
        return Strip([Segment(f"{numbers}{mark} ", styles["gutter"]),
                      Segment(_pad(_chunk(text or "", room, part), room), style)], width)


def _chunk(text: str, room: int, part: int) -> str:
    pieces = chunks(text, room)
    return pieces[part] if part < len(pieces) else ""


def _pad(text: str, room: int) -> str:
    return text + " " * max(0, room - cell_len(text))


def _fit(text: str, width: int) -> str:
    if cell_len(text) > width:
        return chop_cells(text, max(1, width - 1))[0] + "…"
    return _pad(text, width)


def _number(number: int | None, digits: int) -> str:
    return f"{number:>{digits}}" if number is not None else " " * digits


def _side(number: int | None, text: str | None, mark: str, part: int, width: int, digits: int,
          styles: dict[str, Style], style: Style) -> list[Segment]:
    room = max(0, width - digits - 2)
    if number is None:
        fill = "╱" * room if part == 0 else " " * room
        return [Segment(" " * digits + "  ", styles["gutter"]), Segment(fill, styles["blank"])]
    pieces = chunks(text or "", max(1, room))
    if part >= len(pieces):  # the other side wraps further: leave this one blank
        return [Segment(" " * (digits + 2), styles["gutter"]), Segment(" " * room)]
    gutter = f"{number:>{digits}}{mark} " if part == 0 else " " * digits + mark + " "
    return [Segment(gutter, styles["gutter"]), Segment(_pad(pieces[part], room), style)]
