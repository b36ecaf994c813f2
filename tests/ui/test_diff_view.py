"""The side-by-side diff: pairing lines, jumping between changes, drawing only what shows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from hermes_tui.ui.widgets.diff_view import DiffView, diff_rows


def test_rows_pair_equal_replaced_inserted_and_deleted_lines():
    diff = diff_rows("a\nb\nc\nx\n", "a\nB\nc\nd\n")
    tags = [row.tag for row in diff.rows]
    assert tags[0] == "equal" and tags[2] == "equal"
    assert (diff.rows[1].left, diff.rows[1].right) == ("b", "B")
    assert diff.added == 2 and diff.removed == 2
    assert diff.hunks == (1, 3)


def test_a_new_file_is_all_insertions_and_a_removed_file_all_deletions():
    created = diff_rows(None, "one\ntwo\n")
    assert [r.tag for r in created.rows] == ["insert", "insert"]
    assert all(r.left_no is None for r in created.rows)
    removed = diff_rows("one\n", None)
    assert [r.tag for r in removed.rows] == ["delete"] and removed.rows[0].right is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", ""]), max_size=30),
       st.lists(st.sampled_from(["a", "b", "c", "e", ""]), max_size=30))
def test_each_side_reads_back_as_its_own_text(left, right):
    before, after = "\n".join(left), "\n".join(right)
    diff = diff_rows(before, after)
    assert [r.left for r in diff.rows if r.left is not None] == before.splitlines()
    assert [r.right for r in diff.rows if r.right is not None] == after.splitlines()


class DiffApp(App):
    def __init__(self) -> None:
        super().__init__()
        # End and the page keys scroll at once: the same lines at the end, without frames.
        self.animation_level = "none"

    def compose(self) -> ComposeResult:
        yield DiffView()


def text(view: DiffView, y: int) -> str:
    return "".join(segment.text for segment in view.render_line(y))


def screen_text(view: DiffView) -> list[str]:
    return [text(view, y) for y in range(view.size.height)]


async def test_bracket_keys_jump_between_changes_and_only_visible_rows_are_drawn():
    before = "\n".join(f"line {n}" for n in range(2000))
    after_lines = before.splitlines()
    after_lines[500] = "changed 500"
    after_lines[1500] = "changed 1500"
    app = DiffApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(DiffView)
        view.focus()
        view.show(diff_rows(before, "\n".join(after_lines)))
        await pilot.pause()
        assert view.diff.hunks == (500, 1500)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert view.scroll_offset.y == 500
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert view.scroll_offset.y == 1500
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert view.scroll_offset.y == 500
        assert "Before" in text(view, 0) and "After" in text(view, 0)  # the labels stay
        line = text(view, 1)
        assert "line 500" in line and "changed 500" in line
        assert len(view._cache) < 100  # a screenful or two, never the whole file


LONG = ("model.default: a-very-long-model-name-that-goes-on " * 3).strip()


async def test_wide_it_is_side_by_side_with_labels_and_narrow_one_column_and_d_toggles():
    before, after = "keep\nold value\n", "keep\nnew value\n"
    app = DiffApp()
    async with app.run_test(size=(100, 12)) as pilot:
        view = app.query_one(DiffView)
        view.show(diff_rows(before, after), "OpenClaw side", "Hermes side")
        await pilot.pause()
        assert view.layout_in_use == "split"
        head = text(view, 0)
        assert head.index("OpenClaw side") < head.index("│") < head.index("Hermes side")
        await pilot.resize_terminal(60, 12)
        await pilot.pause()
        assert view.layout_in_use == "unified"  # 60 columns: no useful line on each side
        lines = screen_text(view)
        assert "- OpenClaw side" in lines[0] and "+ Hermes side" in lines[0]
        removed = next(i for i, line in enumerate(lines) if "old value" in line)
        added = next(i for i, line in enumerate(lines) if "new value" in line)
        assert removed < added and "-" in lines[removed][:9] and "+" in lines[added][:9]
        assert view.toggle_layout() == "split" and view.layout_in_use == "split"
        assert view.toggle_layout() == "unified"


async def test_a_new_file_is_one_column_even_when_wide():
    app = DiffApp()
    async with app.run_test(size=(120, 12)) as pilot:
        view = app.query_one(DiffView)
        view.show(diff_rows(None, "one\ntwo\n"))
        await pilot.pause()
        assert view.layout_in_use == "unified"  # half the width would be empty


@pytest.mark.parametrize("width", [60, 100])
async def test_long_lines_wrap_so_every_character_shows(width):
    app = DiffApp()
    async with app.run_test(size=(width, 20)) as pilot:
        view = app.query_one(DiffView)
        view.show(diff_rows(f"x: 1\n{LONG}-old\n", f"x: 1\n{LONG}-new\n"))
        await pilot.pause()
        lines = screen_text(view)[1:]
        digits = 3
        if view.layout_in_use == "split":  # the columns of each side, read back in order
            half = (view.size.width - 1) // 2
            sides = {"-": [line[digits + 2:half] for line in lines],
                     "+": [line[half + 1 + digits + 2:] for line in lines]}
            marks = {"-": [line[digits] for line in lines],
                     "+": [line[half + 1 + digits] for line in lines]}
        else:
            sides = {m: [line[2 * digits + 3:] for line in lines] for m in "-+"}
            marks = {m: [line[2 * digits + 1] for line in lines] for m in "-+"}
        for mark, end in (("-", "old"), ("+", "new")):
            shown = "".join(t for t, m in zip(sides[mark], marks[mark], strict=True) if m == mark)
            # Every character, in order (a line broken after a space is padded to the edge).
            assert shown.split() == f"{LONG}-{end}".split(), lines


# -- 100,000 lines ---------------------------------------------------------------------

BIG = 100_000
TAIL = "the last line: " + "words that wrap " * 12 + "THE-END"


def big_pair() -> tuple[str, str]:
    """Lines changed every 1,000 (so side by side is chosen when wide), one in ten long
    enough to wrap in every layout at 80 columns, and a long last line."""
    before = [f"key_{n}: value {n}" + (" and a long tail of words" * 4 if n % 10 == 3 else "")
              for n in range(BIG - 1)] + [TAIL]
    after = [line + " (changed)" if n % 1000 == 500 else line for n, line in enumerate(before)]
    return "\n".join(before) + "\n", "\n".join(after) + "\n"


@pytest.fixture(scope="module")
def big_diff():
    return diff_rows(*big_pair())


async def laid_out(app, pilot, view: DiffView) -> None:
    """Until the whole layout is known (a thread works it out when many lines wrap)."""
    for _ in range(200):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        if view._pending is None:
            return
    raise AssertionError(f"the layout {view._pending} was never installed")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("toggled", [False, True])
async def test_a_100k_line_diff_shows_its_last_row_after_end(big_diff, size, toggled):
    app = DiffApp()
    async with app.run_test(size=size) as pilot:
        view = app.query_one(DiffView)
        view.focus()
        view.show(big_diff)
        await laid_out(app, pilot, view)
        assert view.layout_in_use == ("split" if size[0] >= 120 else "unified")
        if toggled:
            view.toggle_layout()
            await laid_out(app, pilot, view)
        await pilot.press("end")
        await pilot.pause()
        lines = screen_text(view)[1:]
        digits = len(str(BIG))
        if view.layout_in_use == "split":  # the after side: its number, then its text
            half = (view.scrollable_content_region.width - 1) // 2
            numbers = [line[half + 1:half + 1 + digits] for line in lines]
            texts = [line[half + 1 + digits + 2:] for line in lines]
        else:
            numbers = [line[digits + 1:2 * digits + 1] for line in lines]
            texts = [line[2 * digits + 3:] for line in lines]
        assert str(BIG) in numbers, lines  # the last row, numbered
        shown = "".join(texts[numbers.index(str(BIG)):])
        assert shown.split() == TAIL.split(), lines  # every character of it, to the end
        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_offset.y == 0 and "key_0: value 0" in text(view, 1)


async def test_page_down_and_up_move_by_the_lines_on_screen(big_diff):
    app = DiffApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        view.focus()
        view.show(big_diff)
        await laid_out(app, pilot, view)
        before = screen_text(view)
        await pilot.press("pagedown")
        await pilot.pause()
        page = view.size.height - 1  # the labels' line stays: the lines below it move
        assert view.scroll_offset.y == page  # the line after the last one shown is on top
        after = screen_text(view)
        assert after[0] == before[0] and after[1] != before[1]
        await pilot.press("pagedown", "pagedown", "pageup")
        await pilot.pause()
        assert view.scroll_offset.y == 2 * page
        await pilot.press("pageup", "pageup")
        await pilot.pause()
        assert view.scroll_offset.y == 0 and screen_text(view) == before


class CountingDiffView(DiffView):
    """The real widget, counting the screen lines it builds (a cache miss each)."""

    drawn = 0

    def _draw(self, line: int, width: int):
        CountingDiffView.drawn += 1
        return super()._draw(line, width)


class CountingApp(DiffApp):
    def compose(self) -> ComposeResult:
        yield CountingDiffView()


async def test_scrolling_by_a_line_builds_only_the_line_that_came_into_view(big_diff):
    app = CountingApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(CountingDiffView)
        view.focus()
        view.show(big_diff)
        await laid_out(app, pilot, view)
        screen_text(view)
        CountingDiffView.drawn = 0
        await pilot.press("down")
        await pilot.pause()
        screen_text(view)  # every line asked for again, as the compositor does
        assert CountingDiffView.drawn == 1
        CountingDiffView.drawn = 0
        view.scroll_end(animate=False)  # End, without the scroll animation's frames
        await pilot.pause()
        assert 0 < CountingDiffView.drawn <= view.size.height  # a screenful, not the file


async def test_while_a_big_layout_is_worked_out_the_lines_on_screen_are_already_wrapped(
        big_diff):
    app = DiffApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(DiffView)
        view.show(big_diff)
        await laid_out(app, pilot, view)
        view.scroll_to(y=50_000, animate=False)
        await pilot.pause()
        top = view._row_at(int(view.scroll_offset.y))
        assert view.toggle_layout() == "split"  # ~31 characters a side: most lines wrap
        assert view._pending is not None, "this many wrapped lines go to a thread"
        meanwhile = screen_text(view)
        await laid_out(app, pilot, view)
        assert view._row_at(int(view.scroll_offset.y)) == top  # the same row on top
        assert screen_text(view) == meanwhile


async def test_a_diff_shown_while_hidden_is_laid_out_when_the_view_appears(big_diff):
    app = DiffApp()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        view.display = False
        await pilot.pause()
        view.show(big_diff)  # no width yet: nothing to lay out (every line would be cut)
        assert view._index is None and view._pending is None
        view.display = True
        await laid_out(app, pilot, view)
        assert view._index is not None and view._index.width == view.scrollable_content_region.width
        assert "key_0: value 0" in text(view, 1)
