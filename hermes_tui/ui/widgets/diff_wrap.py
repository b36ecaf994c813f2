"""The screen lines of a diff once long lines wrap: ``WrapIndex``, one layout at one width.

Only the entries that wrap are stored (arrays of ints, in order, with where each starts);
every other screen line maps to its row by arithmetic and a bisect, so a layout of 100,000
lines costs the lines that wrap, and End, PageDown and Home a bisect. No Textual.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate
from operator import add

from rich.cells import chop_cells

from hermes_tui.ui.widgets.diff_model import DiffRows, Layout, Lines, clean


def chunks(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` cells, broken after a space where there is one
    (a word cut in two reads badly), every character kept, spaces included."""
    text = clean(text)
    if not text.isascii():  # wide characters: cut by cells
        return chop_cells(text, room) or [""]
    parts = []
    while len(text) > room:
        cut = text.rfind(" ", 0, room) + 1
        if cut <= room // 2:  # no space, or one so early the line would be mostly empty
            cut = room
        parts.append(text[:cut])
        text = text[cut:]
    parts.append(text)
    return parts


def count_chunks(text: str | None, room: int) -> int:
    """``len(chunks(text, room))`` without making the pieces."""
    if not text:
        return 1
    if not text.isascii() or "\t" in text or "\r" in text:
        return len(chunks(text, room))
    count, start, end, half = 1, 0, len(text), room // 2
    while end - start > room:
        cut = text.rfind(" ", start, start + room) + 1 - start
        start += cut if cut > half else room
        count += 1
    return count


class WrapIndex:
    """The screen lines of one layout at one text width (``room``).

    Entry ``e`` starts at line ``e + (extra lines of the wrapped entries before e)``; only
    the wrapped entries are stored, in order, with where each starts.
    """

    __slots__ = ("_extra", "_starts", "_wrapped", "diff", "layout", "lines", "room", "width")

    def __init__(self, diff: DiffRows, layout: Layout, room: int, width: int,
                 wrapped: array, parts: array) -> None:
        """``wrapped``: the entries taking more than one line, ascending; ``parts``: how many."""
        self.diff, self.layout, self.room, self.width = diff, layout, room, width
        self._wrapped = wrapped
        #: Extra lines before the k-th wrapped entry; the last item is the total.
        self._extra = array("q", accumulate((n - 1 for n in parts), initial=0))
        self._starts = array("q", map(add, wrapped, self._extra))
        self.lines = diff.entry_count(layout) + self._extra[-1]

    @property
    def key(self) -> tuple[int, Layout]:
        return self.width, self.layout

    def line_of(self, entry: int) -> int:
        """The first screen line of ``entry``."""
        return entry + self._extra[bisect_left(self._wrapped, entry)]

    def at(self, line: int) -> tuple[int, int]:
        """(entry, part) shown on screen line ``line`` (0 <= line < lines)."""
        k = bisect_right(self._starts, line) - 1
        if k >= 0:
            part = line - self._starts[k]
            if part <= self._extra[k + 1] - self._extra[k]:
                return self._wrapped[k], part
        return line - self._extra[k + 1], 0


def wrap_index(diff: DiffRows, layout: Layout, room: int, width: int) -> WrapIndex:
    """The layout of the whole diff; the work is in the lines wider than ``room`` only."""
    sides = []
    half = room // 2
    starts = diff.entry_starts(layout)
    for side, lines in enumerate((diff.before, diff.after)):
        # Per opcode: entry = base + line number (-1: this side's lines there are skipped).
        if side == 0:
            base = [starts[s] - op[1] for s, op in enumerate(diff.opcodes)]
        else:
            base = [-1 if op[0] == "equal" else  # the same text as its left side
                    starts[s] - op[3] + (0 if layout == "split" else op[2] - op[1])
                    for s, op in enumerate(diff.opcodes)]
        bounds = diff.line_starts(side)
        entries, parts = array("q"), array("l")
        plain = isinstance(lines, Lines) and lines.plain
        text, offsets = lines.raw if plain else ("", array("q"))
        rfind, last, s = text.rfind, len(bounds) - 1, 0
        for line in diff.wide_lines(side, room):  # ascending: the opcode only moves on
            while s < last and bounds[s + 1] <= line:
                s += 1
            if base[s] < 0:
                continue
            if plain:  # count_chunks, in place in the text (no copy of the line)
                count, at, end = 1, offsets[line], offsets[line + 1] - 1
                while end - at > room:
                    cut = rfind(" ", at, at + room) + 1 - at
                    at += cut if cut > half else room
                    count += 1
            else:
                count = count_chunks(lines[line], room)
            if count > 1:
                entries.append(base[s] + line)
                parts.append(count)
        sides.append((entries, parts))
    (ea, pa), (eb, pb) = sides
    if not eb:
        return WrapIndex(diff, layout, room, width, ea, pa)
    # Both sides wrap: merge by entry (a row side by side takes its longer side's lines).
    wrapped, parts = array("q"), array("l")
    i = j = 0
    while i < len(ea) or j < len(eb):
        if j == len(eb) or (i < len(ea) and ea[i] < eb[j]):
            wrapped.append(ea[i])
            parts.append(pa[i])
            i += 1
        elif i == len(ea) or eb[j] < ea[i]:
            wrapped.append(eb[j])
            parts.append(pb[j])
            j += 1
        else:
            wrapped.append(ea[i])
            parts.append(max(pa[i], pb[j]))
            i += 1
            j += 1
    return WrapIndex(diff, layout, room, width, wrapped, parts)


def window_index(diff: DiffRows, layout: Layout, room: int, width: int, first: int,
                 count: int) -> WrapIndex:
    """A layout exact for ``count`` entries from ``first`` only (the others taken as one
    line each): what is on screen while the whole layout is worked out in a thread."""
    wrapped, parts = array("q"), array("l")
    for entry in range(max(0, first), min(first + count, diff.entry_count(layout))):
        left, right = diff.text(layout, entry)
        lines = max(count_chunks(left, room), count_chunks(right, room))
        if lines > 1:
            wrapped.append(entry)
            parts.append(lines)
    return WrapIndex(diff, layout, room, width, wrapped, parts)
