"""A diff (before → after) that draws only the lines on screen: side by side when there is
room for a useful line on each side, one column (unified: removed lines, then added) when
not, and either on request (``toggle_layout``). Long lines wrap, so every character shows.

``diff_rows`` pairs the two texts with difflib (pure Python; run it off the event loop for
big files). ``DiffView`` is a Line-API ``ScrollView``: it keeps the rows as plain tuples,
lays them out into screen lines once per width and layout (a list of small tuples, no
text copied), and builds a ``Strip`` only for a line that is visible, caching a screenful,
so a 5,000-line file costs the same to show as a 50-line one. No widget per line. The top
line labels the sides and stays put while the rest scrolls.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import ClassVar, Literal

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One screen row: a line on each side (or None), and how they differ."""

    tag: str  # "equal", "replace", "delete", "insert"
    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None


@dataclass(frozen=True)
class DiffRows:
    rows: tuple[DiffRow, ...]
    #: Index of the first row of every changed block.
    hunks: tuple[int, ...]
    added: int
    removed: int


def diff_rows(before: str | None, after: str | None) -> DiffRows:
    """Pair ``before`` and ``after`` line by line (``None`` means the file does not exist)."""
    a = (before or "").splitlines()
    b = (after or "").splitlines()
    rows: list[DiffRow] = []
    hunks: list[int] = []
    added = removed = 0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            hunks.append(len(rows))
        if tag == "equal":
            rows.extend(DiffRow("equal", i + 1, a[i], j + 1, b[j]) for i, j in
                        zip(range(i1, i2), range(j1, j2)))
            continue
        removed += i2 - i1
        added += j2 - j1
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            left = (i + 1, a[i]) if i < i2 else (None, None)
            right = (j + 1, b[j]) if j < j2 else (None, None)
            kind = tag if tag != "replace" else (
                "replace" if left[0] and right[0] else "delete" if left[0] else "insert")
            rows.append(DiffRow(kind, left[0], left[1], right[0], right[1]))
    return DiffRows(tuple(rows), tuple(hunks), added, removed)


Layout = Literal["split", "unified"]

#: Side by side only when each side has room for this many characters of text.
MIN_SIDE_TEXT = 32


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
        self._diff = DiffRows((), (), 0, 0)
        self._labels = (before_label, after_label)
        #: None: chosen by width; otherwise what the user asked for.
        self._chosen: Layout | None = None
        #: Some line was changed (a before and an after side by side).
        self._paired = False
        #: Screen lines for (width, layout): (row index, part) in split; unified entries.
        self._lines: list[tuple] = []
        self._hunk_lines: tuple[int, ...] = ()
        self._layout_key: tuple[int, Layout] | None = None
        self._cache: dict[int, Strip] = {}
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
        if not self._paired:  # a new file, or lines only added or only removed
            return "unified"
        return "split" if self._side_text(self._content_width()) >= MIN_SIDE_TEXT else "unified"

    def show(self, diff: DiffRows, before_label: str | None = None,
             after_label: str | None = None) -> None:
        """Display ``diff`` from the top, the sides named by the labels given."""
        self._diff = diff
        self._paired = any(row.tag == "replace" for row in diff.rows)
        if before_label is not None or after_label is not None:
            self._labels = (before_label or self._labels[0], after_label or self._labels[1])
        self._relayout()
        self.scroll_to(0, 0, animate=False)

    def toggle_layout(self) -> Layout:
        """Switch between side by side and one column; returns the layout now shown."""
        self._chosen = "unified" if self.layout_in_use == "split" else "split"
        top = self._row_at(int(self.scroll_offset.y))
        self._relayout()
        self.scroll_to(y=self._line_of_row(top), animate=False)
        return self._chosen

    def on_resize(self) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- layout -------------------------------------------------------------------

    def _content_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width

    def _digits(self) -> int:
        return max(3, len(str(len(self._diff.rows))))

    def _side_text(self, width: int) -> int:
        """Characters of text on each side when side by side at ``width``."""
        half = (width - 1) // 2
        return half - self._digits() - 2

    def _relayout(self) -> None:
        width = self._content_width()
        layout = self.layout_in_use
        self._lines, self._hunk_lines = (
            self._split_lines(width) if layout == "split" else self._unified_lines(width))
        self._layout_key = (width, layout)
        self._cache.clear()
        # One more line than the content: the labels, which stay at the top.
        self.virtual_size = Size(width, len(self._lines) + 1)
        self.refresh()

    def _split_lines(self, width: int) -> tuple[list[tuple], tuple[int, ...]]:
        room = max(1, self._side_text(width))
        lines: list[tuple] = []
        starts: list[int] = []
        for index, row in enumerate(self._diff.rows):
            starts.append(len(lines))
            parts = max(_parts(row.left, room), _parts(row.right, room))
            lines.extend((index, part) for part in range(parts))
        return lines, tuple(starts[h] for h in self._diff.hunks)

    def _unified_lines(self, width: int) -> tuple[list[tuple], tuple[int, ...]]:
        """Entries (row index, side, part): a changed block's removed lines, then its added."""
        room = max(1, width - 2 * self._digits() - 3)
        lines: list[tuple] = []
        hunk_lines: list[int] = []
        rows = self._diff.rows
        hunks = set(self._diff.hunks)
        index = 0
        while index < len(rows):
            if index in hunks:
                hunk_lines.append(len(lines))
            row = rows[index]
            if row.tag == "equal":
                lines.extend((index, "both", part) for part in range(_parts(row.left, room)))
                index += 1
                continue
            end = index + 1
            while end < len(rows) and rows[end].tag != "equal" and end not in hunks:
                end += 1
            for side in ("left", "right"):
                for at in range(index, end):
                    text = getattr(rows[at], side)
                    if text is not None:
                        lines.extend((at, side, part) for part in range(_parts(text, room)))
            index = end
        return lines, tuple(hunk_lines)

    def _row_at(self, line: int) -> int:
        return self._lines[line][0] if 0 <= line < len(self._lines) else 0

    def _line_of_row(self, row: int) -> int:
        return next((i for i, entry in enumerate(self._lines) if entry[0] >= row), 0)

    # -- navigation ---------------------------------------------------------------

    def action_next_hunk(self) -> None:
        hunks = self._hunk_lines
        at = bisect_right(hunks, int(self.scroll_offset.y))
        if at < len(hunks):
            self.scroll_to(y=hunks[at], animate=False)

    def action_prev_hunk(self) -> None:
        hunks = self._hunk_lines
        at = bisect_left(hunks, int(self.scroll_offset.y)) - 1
        if at >= 0:
            self.scroll_to(y=hunks[at], animate=False)

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self._content_width()
        if self._layout_key != (width, self.layout_in_use):
            self._relayout()
        if y == 0:
            return self._header(width).apply_style(self.rich_style)
        index = int(self.scroll_offset.y) + y - 1
        key = (width, hash(self.app.theme))
        if key != self._cache_key:
            self._cache.clear()
            self._cache_key = key
        strip = self._cache.get(index)
        if strip is None:
            strip = self._draw(index, width)
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[index] = strip
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

    def _draw(self, index: int, width: int) -> Strip:
        if index >= len(self._lines):
            return Strip.blank(width)
        styles = {name: self.get_component_rich_style(f"diff-view--{name}")
                  for name in ("gutter", "added", "removed", "blank")}
        if self.layout_in_use == "split":
            return self._draw_split(self._lines[index], width, styles)
        return self._draw_unified(self._lines[index], width, styles)

    def _draw_split(self, entry: tuple, width: int, styles: dict[str, Style]) -> Strip:
        row_index, part = entry
        row = self._diff.rows[row_index]
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

    def _draw_unified(self, entry: tuple, width: int, styles: dict[str, Style]) -> Strip:
        row_index, side, part = entry
        row = self._diff.rows[row_index]
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


def _clean(text: str) -> str:
    return text.expandtabs(4).replace("\r", "")


def _chunks(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` cells, broken after a space where there is one
    (a word cut in two reads badly), every character kept, spaces included."""
    text = _clean(text)
    if not text.isascii():  # wide characters: cut by cells
        return chop_cells(text, room) or [""]
    chunks = []
    while len(text) > room:
        cut = text.rfind(" ", 0, room) + 1
        if cut <= room // 2:  # no space, or one so early the line would be mostly empty
            cut = room
        chunks.append(text[:cut])
        text = text[cut:]
    chunks.append(text)
    return chunks


def _parts(text: str | None, room: int) -> int:
    """Screen lines ``text`` takes at ``room`` characters a line."""
    if not text or (len(text) <= room and text.isascii() and "\t" not in text):
        return 1
    return len(_chunks(text, room))


def _chunk(text: str, room: int, part: int) -> str:
    chunks = _chunks(text, room)
    return chunks[part] if part < len(chunks) else ""


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
    chunks = _chunks(text or "", max(1, room))
    if part >= len(chunks):  # the other side wraps further: leave this one blank
        return [Segment(" " * (digits + 2), styles["gutter"]), Segment(" " * room)]
    gutter = f"{number:>{digits}}{mark} " if part == 0 else " " * digits + mark + " "
    return [Segment(gutter, styles["gutter"]), Segment(_pad(chunks[part], room), style)]
