"""The LLM bridge's model list: 50,000 rows that move and pick like an OptionList."""

from __future__ import annotations

from textual.app import App, ComposeResult

from hermes_tui.bridge.sync import Badge
from hermes_tui.ui.widgets.model_list import ModelList, ModelRow
from tests.support.openai_router import many_models

COUNT = 50_000


class ListApp(App):
    CSS = "ModelList { height: 12; }"

    def __init__(self) -> None:
        super().__init__()
        self.picked: list[str] = []

    def compose(self) -> ComposeResult:
        yield ModelList()

    def on_model_list_selected(self, event: ModelList.Selected) -> None:
        self.picked.append(event.row.id)


def screen_text(view: ModelList) -> list[str]:
    return [view.render_line(y).text.strip() for y in range(view.scrollable_content_region.height)]


async def test_fifty_thousand_models_move_page_and_pick_the_last_one():
    ids = many_models(COUNT)
    marks = dict.fromkeys(ids, Badge.SYNCED)
    app = ListApp()
    async with app.run_test(size=(90, 20)) as pilot:
        view = app.query_one(ModelList)
        view.show(marks, dict.fromkeys(ids, "library"), default=ids[0])
        view.focus()
        await pilot.pause()
        assert view.row_count == COUNT and view.virtual_size.height == COUNT
        assert screen_text(view)[0] == f"★ {ids[0]}  library  [Synced]"
        assert view.highlighted == 0  # focus shows the cursor, on the default model
        await pilot.press("down")
        assert view.highlighted == 1  # so the first Down moves to the next row
        await pilot.press("end")
        await pilot.pause()
        assert view.highlighted == COUNT - 1
        assert screen_text(view)[-1] == f"{ids[-1]}  library  [Synced]"
        await pilot.press("pageup", "up")
        await pilot.pause()
        page = view.scrollable_content_region.height
        assert view.highlighted == COUNT - 1 - page - 1
        await pilot.press("enter")
        await pilot.pause()
        assert app.picked == [ids[COUNT - 2 - page]]
        # New badges for the same rows keep the cursor where it was.
        view.show(dict.fromkeys(ids, Badge.PENDING), default=ids[COUNT - 2 - page])
        await pilot.pause()
        assert view.highlighted == COUNT - 2 - page
        assert f"★ {ids[COUNT - 2 - page]}  [Pending]" in screen_text(view)
        await pilot.press("home")
        await pilot.pause()
        assert view.highlighted == 0 and view.scroll_offset.y == 0


async def test_models_no_longer_served_are_skipped_and_cannot_be_picked():
    ids = many_models(5)
    marks = {ids[0]: Badge.SYNCED, ids[1]: Badge.GONE, ids[2]: Badge.SYNCED,
             ids[3]: Badge.GONE, ids[4]: Badge.GONE}
    app = ListApp()
    async with app.run_test(size=(90, 20)) as pilot:
        view = app.query_one(ModelList)
        view.show(marks)
        view.focus()
        await pilot.press("down", "down")
        assert view.highlighted == 2  # over the one that left the router
        await pilot.press("end")
        assert view.highlighted == 2  # the last enabled row
        view.highlighted = 4
        await pilot.press("enter")
        await pilot.pause()
        assert app.picked == []
        assert screen_text(view)[4] == f"{ids[4]}  [Not served]"


def test_a_long_id_is_cut_short_so_the_badge_always_shows():
    row = ModelRow("vendor/" + "x" * 200, "someone", Badge.PENDING, default=True)
    line = row.line(40).plain
    assert len(line) <= 40 and line.endswith("[Pending]") and "…" in line
    assert "someone" not in line
    assert row.line(None).plain == f"★ vendor/{'x' * 200}  someone  [Pending]"
