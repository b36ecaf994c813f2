"""The diff as data: two texts paired line by line. No Textual: ``diff_view`` draws it,
``diff_wrap`` lays it out.

Sized for files of 100,000 lines (a ``config.yaml`` with that many synced models):
``diff_rows`` (run it off the event loop) pairs the lines with difflib's own answer, found
faster (``_matching_blocks``), and keeps the two texts (``Lines``: an offset per line) and the
opcodes, not an object per row: a ``DiffRow`` is made only when asked for. It also sorts each
text's lines by width once, so a layout finds the lines that wrap at a width without looking
at the others.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import sub
from typing import Literal, overload

from rich.cells import cell_len

Layout = Literal["split", "unified"]
Side = Literal["both", "left", "right"]
Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One screen row: a line on each side (or None), and how they differ."""

    tag: str  # "equal", "replace", "delete", "insert"
    left_no: int | None
    left: str | None
    right_no: int | None
    right: str | None


class DiffRows:
    """Two texts paired line by line: ``rows`` (made on access), ``hunks`` (the first row of
    every changed block), lines ``added`` and ``removed``.

    Side by side, row ``r`` is one entry. In one column (unified) a changed block shows its
    removed lines, then its added ones, so entries are counted per opcode: an equal line is
    one entry, a changed block ``removed + added`` entries.
    """

    __slots__ = ("_a_starts", "_b_starts", "_by_width", "_entry_starts", "_row_starts",
                 "_sorted_widths", "added", "after", "before", "hunks", "opcodes", "paired",
                 "removed")

    def __init__(self, before: Sequence[str], after: Sequence[str],
                 opcodes: list[Opcode]) -> None:
        self.before, self.after, self.opcodes = before, after, opcodes
        rows = [i2 - i1 if tag == "equal" else max(i2 - i1, j2 - j1)
                for tag, i1, i2, j1, j2 in opcodes]
        entries = [i2 - i1 if tag == "equal" else (i2 - i1) + (j2 - j1)
                   for tag, i1, i2, j1, j2 in opcodes]
        #: First row (entry) of each opcode; the last item is the total.
        self._row_starts = array("q", accumulate(rows, initial=0))
        self._entry_starts = array("q", accumulate(entries, initial=0))
        self._a_starts = array("q", (op[1] for op in opcodes))
        self._b_starts = array("q", (op[3] for op in opcodes))
        self.hunks = tuple(self._row_starts[s] for s, op in enumerate(opcodes)
                           if op[0] != "equal")
        self.removed = sum(op[2] - op[1] for op in opcodes if op[0] != "equal")
        self.added = sum(op[4] - op[3] for op in opcodes if op[0] != "equal")
        #: Some line was changed (a before and an after side by side), not only added or
        #: only removed.
        self.paired = any(op[0] == "replace" for op in opcodes)
        widths = (_widths(before), _widths(after))
        #: Per text: its line numbers from narrowest to widest, and those widths.
        self._by_width = tuple(array("l", sorted(range(len(w)), key=w.__getitem__))
                               for w in widths)
        self._sorted_widths = tuple(array("l", sorted(w)) for w in widths)

    @property
    def rows(self) -> Rows:
        return Rows(self)

    @property
    def row_count(self) -> int:
        return self._row_starts[-1]

    def entry_count(self, layout: Layout) -> int:
        return self.row_count if layout == "split" else self._entry_starts[-1]

    def row(self, index: int) -> DiffRow:
        s = bisect_right(self._row_starts, index, 0, len(self.opcodes)) - 1
        tag, i1, i2, j1, j2 = self.opcodes[s]
        k = index - self._row_starts[s]
        if tag == "equal":
            return DiffRow(tag, i1 + k + 1, self.before[i1 + k], j1 + k + 1, self.after[j1 + k])
        left, right = i1 + k < i2, j1 + k < j2
        kind = tag if tag != "replace" else (
            "replace" if left and right else "delete" if left else "insert")
        return DiffRow(kind, i1 + k + 1 if left else None, self.before[i1 + k] if left else None,
                       j1 + k + 1 if right else None, self.after[j1 + k] if right else None)

    def entry(self, layout: Layout, index: int) -> tuple[int, Side]:
        """The row an entry of ``layout`` shows, and which side of it."""
        if layout == "split":
            return index, "both"
        s = bisect_right(self._entry_starts, index, 0, len(self.opcodes)) - 1
        tag, i1, i2, _j1, _j2 = self.opcodes[s]
        k = index - self._entry_starts[s]
        if tag == "equal":
            return self._row_starts[s] + k, "both"
        if k < i2 - i1:
            return self._row_starts[s] + k, "left"
        return self._row_starts[s] + k - (i2 - i1), "right"

    def entry_of_row(self, layout: Layout, row: int) -> int | None:
        """The first entry of ``layout`` showing ``row`` or a later row (None: past the end)."""
        if not 0 <= row < self.row_count:
            return None
        if layout == "split":
            return row
        s = bisect_right(self._row_starts, row, 0, len(self.opcodes)) - 1
        tag, i1, i2, _j1, _j2 = self.opcodes[s]
        k = row - self._row_starts[s]
        start = self._entry_starts[s]
        return start + k if tag == "equal" or k < i2 - i1 else start + (i2 - i1) + k

    def entry_starts(self, layout: Layout) -> array:
        """The first entry of each opcode in ``layout``; the last item is the total."""
        return self._row_starts if layout == "split" else self._entry_starts

    def line_starts(self, side: int) -> array:
        """The first line of each opcode in one text (0: before, 1: after)."""
        return self._a_starts if side == 0 else self._b_starts

    def hunk_entries(self, layout: Layout) -> tuple[int, ...]:
        if layout == "split":
            return self.hunks
        return tuple(self._entry_starts[s] for s, op in enumerate(self.opcodes)
                     if op[0] != "equal")

    def text(self, layout: Layout, index: int) -> tuple[str | None, str | None]:
        """The texts an entry shows (left, right; one column: the one line, twice)."""
        row, side = self.entry(layout, index)
        shown = self.row(row)
        if side == "both":
            return (shown.left, shown.right) if layout == "split" else (shown.left, shown.left)
        text = shown.left if side == "left" else shown.right
        return text, text

    # -- what wraps -------------------------------------------------------------------------

    def wider_than(self, room: int) -> int:
        """How many lines (both texts) are wider than ``room`` cells: the work of a layout."""
        return sum(len(w) - bisect_right(w, room) for w in self._sorted_widths)

    def wide_lines(self, side: int, room: int) -> list[int]:
        """The lines of one text (0: before, 1: after) wider than ``room``, in order."""
        order, widths = self._by_width[side], self._sorted_widths[side]
        return sorted(order[bisect_right(widths, room):])


class Rows(Sequence[DiffRow]):
    """The rows of a ``DiffRows``, made one at a time as they are read."""

    __slots__ = ("_diff",)

    def __init__(self, diff: DiffRows) -> None:
        self._diff = diff

    def __len__(self) -> int:
        return self._diff.row_count

    @overload
    def __getitem__(self, index: int) -> DiffRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[DiffRow]: ...
    def __getitem__(self, index: int | slice) -> DiffRow | list[DiffRow]:
        if isinstance(index, slice):
            return [self._diff.row(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._diff.row(index)

    def __iter__(self) -> Iterator[DiffRow]:
        return (self._diff.row(i) for i in range(len(self)))


class Lines(Sequence[str]):
    """``text.splitlines()``, each line sliced out of ``text`` when read: an offset per line
    (8 bytes) instead of a string per line (50 bytes and more) next to the text itself."""

    __slots__ = ("_starts", "_text", "plain")

    def __init__(self, text: str, starts: array) -> None:
        self._text, self._starts = text, starts
        #: Every line is as wide as it is long (ASCII, no tabs).
        self.plain = text.isascii() and "\t" not in text

    @staticmethod
    def of(text: str) -> Sequence[str]:
        if any(mark in text for mark in _OTHER_BREAKS[:6]) or (
                not text.isascii() and any(mark in text for mark in _OTHER_BREAKS[6:])):
            return text.splitlines()  # line breaks other than \n: as they come
        if not text:
            return []
        # Where each line starts (from the lengths split gives; the split is let go at once).
        starts = array("q", accumulate(map((1).__add__, map(len, text.split("\n"))), initial=0))
        if text.endswith("\n"):  # no line after the last \n
            starts.pop()
        return Lines(text, starts)

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._text[self._starts[index]:self._starts[index + 1] - 1]

    def __iter__(self) -> Iterator[str]:
        text, starts, count = self._text, self._starts, len(self)
        for first in range(0, count, 4096):  # a few thousand lines at a time, split in C
            end = min(first + 4096, count)
            yield from text[starts[first]:starts[end] - 1].split("\n")

    @property
    def raw(self) -> tuple[str, array]:
        """The text, and where each line starts in it (line ``i`` ends before the \\n at
        ``starts[i + 1] - 1``)."""
        return self._text, self._starts

    def widths(self) -> array | None:
        """Each line's length, when that is its width (ASCII, no tabs); else None."""
        if not self.plain:
            return None
        starts = self._starts
        return array("l", map(sub, starts[1:], map((1).__add__, starts)))


#: What ``str.splitlines`` breaks at besides \n (the last three only in non-ASCII text).
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def diff_rows(before: str | None, after: str | None) -> DiffRows:
    """Pair ``before`` and ``after`` line by line (``None`` means the file does not exist).

    The same pairing as ``difflib.SequenceMatcher(None, a, b, autojunk=False)``. Pure
    Python, ~0.3 s for 100,000 lines (a tenth changed): run it off the event loop for big files.
    """
    a, b = Lines.of(before or ""), Lines.of(after or "")
    return DiffRows(a, b, _opcodes(a, b, _matching_blocks(a, b)))


# -- pairing ----------------------------------------------------------------------------


def _matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int, int]]:
    """``SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()``, found faster.

    difflib takes the longest matching block (ties: earliest in ``a``, then in ``b``) and
    recurses on each side of it, rescanning every line of a range at each level: for 5,000
    changes in 100,000 lines, some 17 scans of the whole file. Every block it can take is a
    piece of a maximal diagonal run of equal lines (``a[i:i+n] == b[j:j+n]``) cut to the
    range, so this finds the runs in one scan and recurses over the runs instead.
    """
    where: dict[str, int | list[int]] = {}
    for j, line in enumerate(b):
        seen = where.setdefault(line, j)
        if seen != j:
            if isinstance(seen, int):
                where[line] = [seen, j]
            else:
                seen.append(j)
    run_i: list[int] = []
    run_j: list[int] = []
    run_n: list[int] = []
    ending: dict[int, int] = {}  # j -> the run that ends at (i - 1, j)
    for i, line in enumerate(a):
        found = where.get(line)
        if found is None:
            if ending:
                ending = {}
            continue
        now: dict[int, int] = {}
        for j in (found,) if isinstance(found, int) else found:
            run = ending.get(j - 1)
            if run is None:
                run = len(run_n)
                run_i.append(i)
                run_j.append(j)
                run_n.append(1)
            else:
                run_n[run] += 1
            now[j] = run
        ending = now

    blocks: list[tuple[int, int, int]] = []
    queue: list[tuple[int, int, int, int, Sequence[int]]] = [
        (0, len(a), 0, len(b), range(len(run_n)))]
    while queue:
        alo, ahi, blo, bhi, runs = queue.pop()
        best_i, best_j, best = alo, blo, 0
        for run in runs:
            start, shift = run_i[run], run_j[run] - run_i[run]
            size = min(start + run_n[run], ahi, bhi - shift)
            start = max(start, alo, blo - shift)
            size -= start
            if size > best or (size == best > 0 and (
                    start < best_i or (start == best_i and start + shift < best_j))):
                best_i, best_j, best = start, start + shift, size
        if not best:
            continue
        blocks.append((best_i, best_j, best))
        left: list[int] = []
        right: list[int] = []
        top_i, top_j = best_i + best, best_j + best
        for run in runs:
            start, shift = run_i[run], run_j[run] - run_i[run]
            end = start + run_n[run]
            if max(start, alo, blo - shift) < min(end, best_i, best_j - shift):
                left.append(run)
            if max(start, top_i, top_j - shift) < min(end, ahi, bhi - shift):
                right.append(run)
        if left:
            queue.append((alo, best_i, blo, best_j, left))
        if right:
            queue.append((top_i, ahi, top_j, bhi, right))
    blocks.sort()

    joined: list[tuple[int, int, int]] = []
    i1 = j1 = k1 = 0
    for i2, j2, k2 in blocks:  # difflib joins blocks that touch
        if i1 + k1 == i2 and j1 + k1 == j2:
            k1 += k2
        else:
            if k1:
                joined.append((i1, j1, k1))
            i1, j1, k1 = i2, j2, k2
    if k1:
        joined.append((i1, j1, k1))
    joined.append((len(a), len(b), 0))
    return joined


def _opcodes(a: Sequence[str], b: Sequence[str],
             blocks: list[tuple[int, int, int]]) -> list[Opcode]:
    """``SequenceMatcher.get_opcodes`` from its matching blocks."""
    opcodes: list[Opcode] = []
    i = j = 0
    for ai, bj, size in blocks:
        tag = "replace" if i < ai and j < bj else "delete" if i < ai else "insert" if j < bj else ""
        if tag:
            opcodes.append((tag, i, ai, j, bj))
        i, j = ai + size, bj + size
        if size:
            opcodes.append(("equal", ai, i, bj, j))
    return opcodes


# -- widths -----------------------------------------------------------------------------


def clean(text: str) -> str:
    return text.expandtabs(4).replace("\r", "")


def _widths(lines: Sequence[str]) -> array:
    """The cells each line takes once cleaned: it wraps at ``room`` when wider than that."""
    known = lines.widths() if isinstance(lines, Lines) else None
    return known if known is not None else array("l", map(_width, lines))


def _width(line: str) -> int:
    text = clean(line)
    return len(text) if text.isascii() else cell_len(text)
