"""The side-by-side diff: pairing lines, jumping between changes, drawing only what shows."""

from __future__ import annotations

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
    def compose(self) -> ComposeResult:
        yield DiffView()


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
        line = "".join(segment.text for segment in view.render_line(0))
        assert "line 500" in line and "changed 500" in line
        assert len(view._cache) < 100  # a screenful or two, never the whole file
