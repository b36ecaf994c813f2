"""A side-by-side diff (before | after) that draws only the lines on screen.

``diff_rows`` pairs the two texts with difflib (pure Python; run it off the event loop for
big files). ``DiffView`` is a Line-API ``ScrollView``: it keeps the rows as plain tuples
and builds a ``Strip`` for a row only when that row is visible, caching a screenful, so a
5,000-line file costs the same to show as a 50-line one. No widget per line.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import ClassVar

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


class DiffView(ScrollView, can_focus=True):
    """Before on the left, after on the right; ``]``/``[`` jump between changes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter", "diff-view--added", "diff-view--removed", "diff-view--blank",
    }
    DEFAULT_CSS = """
    DiffView {
        background: $surface;
    }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--added { background: $success 25%; }
    DiffView > .diff-view--removed { background: $error 25%; }
    DiffView > .diff-view--blank { color: $text-muted; }
    """
    BINDINGS = [
        Binding("right_square_bracket", "next_hunk", "Next change", id="next-hunk", key_display="]"),
        Binding("left_square_bracket", "prev_hunk", "Prev change", id="prev-hunk", key_display="["),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._diff = DiffRows((), (), 0, 0)
        self._cache: dict[int, Strip] = {}
        self._cache_key: tuple[int, int] | None = None

    @property
    def diff(self) -> DiffRows:
        return self._diff

    def show(self, diff: DiffRows) -> None:
        """Display ``diff`` from the top."""
        self._diff = diff
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(diff.rows))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._diff.rows))
        self._cache.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- navigation ---------------------------------------------------------------

    def action_next_hunk(self) -> None:
        hunks = self._diff.hunks
        at = bisect_right(hunks, int(self.scroll_offset.y))
        if at < len(hunks):
            self.scroll_to(y=hunks[at], animate=False)

    def action_prev_hunk(self) -> None:
        hunks = self._diff.hunks
        at = bisect_left(hunks, int(self.scroll_offset.y)) - 1
        if at >= 0:
            self.scroll_to(y=hunks[at], animate=False)

    # -- drawing ------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
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

    def _draw(self, index: int, width: int) -> Strip:
        rows = self._diff.rows
        if index >= len(rows):
            return Strip.blank(width)
        row = rows[index]
        gutter = self.get_component_rich_style("diff-view--gutter")
        added = self.get_component_rich_style("diff-view--added")
        removed = self.get_component_rich_style("diff-view--removed")
        blank = self.get_component_rich_style("diff-view--blank")
        digits = max(3, len(str(len(rows))))
        half = max(10, (width - 1) // 2)
        left_style = removed if row.tag in ("replace", "delete") else Style()
        right_style = added if row.tag in ("replace", "insert") else Style()
        mark_left = "-" if row.tag in ("replace", "delete") else " "
        mark_right = "+" if row.tag in ("replace", "insert") else " "
        segments = [
            *_side(row.left_no, row.left, mark_left, half, digits, gutter, left_style, blank),
            Segment("│", gutter),
            *_side(row.right_no, row.right, mark_right, width - half - 1, digits, gutter,
                   right_style, blank),
        ]
        return Strip(segments, width)


def _side(number: int | None, text: str | None, mark: str, width: int, digits: int,
          gutter: Style, style: Style, blank: Style) -> list[Segment]:
    room = max(0, width - digits - 2)
    if number is None:
        return [Segment(" " * digits + "  ", gutter), Segment("╱" * room if room else "", blank)]
    body = text.expandtabs(4).replace("\r", "")
    body = body[:room].ljust(room)
    return [Segment(f"{number:>{digits}}{mark} ", gutter), Segment(body, style)]
