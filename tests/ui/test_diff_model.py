"""The diff's data (no Textual): difflib's pairing found faster, lines kept as offsets, and
the wrap index that places every screen line without a list of them."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_tui.ui.widgets.diff_model import DiffRow, Lines, diff_rows
from hermes_tui.ui.widgets.diff_wrap import chunks, count_chunks, window_index, wrap_index

#: Few distinct lines: many equal runs, repeats and ties, where pairings can differ.
FEW = st.lists(st.sampled_from(["a", "b", "c", "", "a b"]), max_size=40)
#: Text with every kind of line break ``str.splitlines`` knows, tabs and wide characters.
BREAKS = ["\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"]
TEXT = st.lists(st.one_of(st.sampled_from(BREAKS), st.sampled_from(
    ["key: value", "x" * 70, "a b " * 20, "\ttab", "名前: 値" * 9, " ", "é"])), max_size=30
).map("".join)


@settings(max_examples=300, deadline=None)
@given(FEW, FEW)
def test_the_pairing_is_difflibs_own(left, right):
    before, after = "\n".join(left), "\n".join(right)
    expected = SequenceMatcher(None, before.splitlines(), after.splitlines(),
                               autojunk=False).get_opcodes()
    assert diff_rows(before, after).opcodes == expected


def test_the_pairing_is_difflibs_own_on_a_big_file_with_scattered_changes():
    rng = random.Random(13)
    before = [f"line {n}: {rng.choice(['alpha', 'beta', 'gamma'])}" for n in range(20_000)]
    after = list(before)
    for _ in range(400):
        at = rng.randrange(len(after) - 5)
        op = rng.choice(["replace", "insert", "delete", "repeat"])
        if op == "replace":
            after[at] += " (changed)"
        elif op == "insert":
            after[at:at] = [f"new {at}", ""]
        elif op == "delete":
            del after[at:at + 3]
        else:  # a copy of lines from elsewhere: runs that compete for the longest match
            after[at:at] = before[at - 40:at - 35]
    expected = SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    assert diff_rows("\n".join(before), "\n".join(after)).opcodes == expected


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_lines_read_back_as_splitlines(text):
    lines = Lines.of(text)
    assert list(lines) == text.splitlines()
    assert [lines[i] for i in range(len(lines))] == text.splitlines()
    if lines:
        assert lines[-1] == text.splitlines()[-1]


def test_a_big_text_is_kept_as_offsets_not_a_string_per_line():
    text = "".join(f"line {n}\n" for n in range(10_000))
    lines = Lines.of(text)
    assert isinstance(lines, Lines)  # one text and an array of starts
    assert len(lines) == 10_000 and lines[9_999] == "line 9999" and lines[0] == "line 0"


def test_rows_are_made_when_read_and_read_like_a_sequence():
    diff = diff_rows("a\nb\nc\n", "a\nB\nc\nd\n")
    rows = diff.rows
    assert len(rows) == 4 and list(rows) == [rows[i] for i in range(4)]
    assert rows[-1] == DiffRow("insert", None, None, 4, "d")
    assert rows[1:3] == [DiffRow("replace", 2, "b", 2, "B"), DiffRow("equal", 3, "c", 3, "c")]


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(1, 90))
def test_counting_pieces_agrees_with_cutting_them(text, room):
    for line in text.splitlines() or [""]:
        assert count_chunks(line, room) == len(chunks(line, room))


def screen_lines(diff, layout, room):
    """Every screen line as the widget laid them out before the wrap index: a list entry per
    line, (row, part) side by side, (row, side, part) in one column."""
    rows = list(diff.rows)
    lines = []
    if layout == "split":
        for index, row in enumerate(rows):
            parts = max(count_chunks(row.left, room), count_chunks(row.right, room))
            lines.extend((index, "both", part) for part in range(parts))
        return lines
    hunks = set(diff.hunks)
    index = 0
    while index < len(rows):
        if rows[index].tag == "equal":
            lines.extend((index, "both", part)
                         for part in range(count_chunks(rows[index].left, room)))
            index += 1
            continue
        end = index + 1
        while end < len(rows) and rows[end].tag != "equal" and end not in hunks:
            end += 1
        for side in ("left", "right"):
            for at in range(index, end):
                text = getattr(rows[at], side)
                if text is not None:
                    lines.extend((at, side, part) for part in range(count_chunks(text, room)))
        index = end
    return lines


def placed(index, diff):
    out = []
    for line in range(index.lines):
        entry, part = index.at(line)
        row, side = diff.entry(index.layout, entry)
        out.append((row, side, part))
    return out


@settings(max_examples=200, deadline=None)
@given(TEXT, TEXT, st.integers(1, 60), st.sampled_from(["split", "unified"]))
def test_the_wrap_index_places_every_screen_line_as_a_list_of_them_would(before, after,
                                                                           room, layout):
    diff = diff_rows(before, after)
    index = wrap_index(diff, layout, room, 100)
    expected = screen_lines(diff, layout, room)
    assert index.lines == len(expected)
    assert placed(index, diff) == expected
    for entry in range(diff.entry_count(layout)):  # each entry's first line, back again
        line = index.line_of(entry)
        assert index.at(line) == (entry, 0)


@settings(max_examples=100, deadline=None)
@given(TEXT, TEXT, st.integers(1, 40), st.sampled_from(["split", "unified"]),
       st.integers(0, 30), st.integers(1, 10))
def test_a_window_index_is_exact_for_its_window(before, after, room, layout, first, count):
    diff = diff_rows(before, after)
    entries = diff.entry_count(layout)
    window = window_index(diff, layout, room, 100, first, count)
    whole = wrap_index(diff, layout, room, 100)
    for entry in range(first, min(first + count, entries)):
        start, end = window.line_of(entry), window.line_of(entry + 1)
        exact = whole.line_of(entry)
        assert [window.at(line) for line in range(start, end)] == [
            whole.at(line) for line in range(exact, exact + end - start)]
        assert end - start == whole.line_of(entry + 1) - exact
