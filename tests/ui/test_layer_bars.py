"""LayerBars draws a pull row by row: only the rows that changed, nothing while idle, and each
row exactly as Textual would draw the same text (styles and selection offsets included)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.visual import Visual

from hermes_tui.engine.pull import PullProgress
from hermes_tui.ui.widgets.layer_bars import LayerBars

SIZE = 40_000_000
IDS = [f"{n:012x}" for n in range(0xA0, 0xA5)]


class CountingBars(LayerBars):
    """The real widget, counting the rows it draws and the repaints it schedules."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.drawn: Counter[int] = Counter()
        self.scheduled = 0
        self.repaints = 0

    def render_line(self, y: int) -> Strip:
        self.drawn[y] += 1
        return super().render_line(y)

    def _changed(self) -> None:
        self.scheduled += 1
        super()._changed()

    def _repaint(self) -> None:
        self.repaints += 1
        super()._repaint()


class BarsApp(App):
    def __init__(self, progress: PullProgress) -> None:
        super().__init__()
        self.progress = progress

    def compose(self) -> ComposeResult:
        yield CountingBars(self.progress)


def downloading(layer: str, current: int) -> dict:
    return {"status": "Downloading", "progressDetail": {"current": current, "total": SIZE},
            "id": layer}


def in_flight() -> PullProgress:
    """Five layers: two complete, one downloading, two waiting; the clock stands still."""
    progress = PullProgress(clock=lambda: 1000.0)
    for layer in IDS:
        progress.apply({"status": "Pulling fs layer", "progressDetail": {}, "id": layer})
    for layer in IDS[:2]:
        progress.apply(downloading(layer, SIZE))
        progress.apply({"status": "Pull complete", "progressDetail": {}, "id": layer})
    progress.apply(downloading(IDS[2], SIZE // 5))
    for layer in IDS[3:]:
        progress.apply(downloading(layer, 0))
    return progress


def row_of(layer: str) -> int:
    return 3 + IDS.index(layer)  # Overall, Download, a blank line, then the layers


def text(bars: LayerBars, y: int) -> str:
    return bars.render_line(y).text


async def until(pilot, condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):  # 10 s: generous on a loaded machine, then a loud failure
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} within 10 s")


async def settled(pilot, bars: CountingBars) -> None:
    """Wait until the bars show the model and that repaint reached the screen."""
    await until(pilot, lambda: bars.up_to_date and bars.throttle.idle, "the bars did not repaint")
    await pilot.pause()
    await pilot.pause()  # the screen's next update draws what the repaint marked


async def test_a_change_to_one_layer_repaints_only_its_row():
    progress = in_flight()
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        assert set(bars.drawn) == set(range(len(IDS) + 3))  # the first paint: every row
        bars.drawn.clear()

        # A retry note changes that layer's row and nothing else, not even the totals.
        progress.apply({"status": "Retrying in 5 seconds", "id": IDS[3]})
        await until(pilot, lambda: row_of(IDS[3]) in bars.drawn, "the changed row was not drawn")
        await settled(pilot, bars)
        assert set(bars.drawn) == {row_of(IDS[3])}
        assert "Retrying in 5 seconds" in text(bars, row_of(IDS[3]))

        # Bytes for one layer: its row and the two total lines, which count those bytes.
        bars.drawn.clear()
        progress.apply(downloading(IDS[2], SIZE // 2))
        await until(pilot, lambda: row_of(IDS[2]) in bars.drawn, "the changed row was not drawn")
        await settled(pilot, bars)
        assert set(bars.drawn) == {0, 1, row_of(IDS[2])}
        assert "20.0 MB / 40.0 MB" in text(bars, row_of(IDS[2]))


async def test_an_event_that_changes_nothing_shown_repaints_no_row():
    progress = in_flight()
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        bars.drawn.clear()
        repaints = bars.repaints
        # 100 bytes more: the model moved (a new version), but every figure reads the same.
        progress.apply(downloading(IDS[2], SIZE // 5 + 100))
        await until(pilot, lambda: bars.repaints > repaints, "the change was not looked at")
        await settled(pilot, bars)
        assert bars.drawn == Counter()


async def test_nothing_is_repainted_or_scheduled_while_the_model_is_unchanged():
    progress = in_flight()
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        bars.drawn.clear()
        scheduled, repaints = bars.scheduled, bars.repaints
        for _ in range(5):  # five repaint periods with no event
            await pilot.pause(bars.throttle.period)
        assert (bars.scheduled, bars.repaints) == (scheduled, repaints)
        assert bars.drawn == Counter()
        assert bars.throttle.idle


async def test_a_burst_of_events_schedules_one_repaint():
    progress = in_flight()
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        scheduled, repaints = bars.scheduled, bars.repaints
        for current in range(1000):  # as fast as a stream can come: no await in between
            progress.apply(downloading(IDS[2], SIZE // 5 + current * 1000))
        assert bars.scheduled == scheduled + 1
        await settled(pilot, bars)
        assert bars.repaints == repaints + 1
        assert "9.0 MB / 40.0 MB" in text(bars, row_of(IDS[2]))


async def test_rows_appear_as_layers_arrive_and_show_them_complete():
    progress = PullProgress(clock=lambda: 1000.0)
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        assert text(bars, 0).startswith("Asking the registry")
        for count, layer in enumerate(IDS, 1):
            progress.apply({"status": "Pulling fs layer", "progressDetail": {}, "id": layer})
            await settled(pilot, bars)
            assert bars.size.height == count + 3
            assert text(bars, row_of(layer)).startswith(f"{layer} Waiting")
        for layer in IDS:
            progress.apply(downloading(layer, SIZE))
            progress.apply({"status": "Pull complete", "progressDetail": {}, "id": layer})
        progress.finish()
        bars.flush()  # the pull ended: shown at once, not on the next period
        assert bars.up_to_date
        await settled(pilot, bars)
        assert text(bars, 0).startswith("Overall ") and "100%  5/5 layers done" in text(bars, 0)
        assert all("Complete" in text(bars, row_of(layer)) for layer in IDS)


async def test_a_narrower_terminal_redraws_the_same_rows_with_shorter_bars():
    progress = in_flight()
    app = BarsApp(progress)
    async with app.run_test(size=(100, 20)) as pilot:
        bars = app.query_one(CountingBars)
        await settled(pilot, bars)
        wide = text(bars, row_of(IDS[2]))
        await pilot.resize_terminal(70, 20)
        await until(pilot, lambda: bars.size.width == 70, "the bars did not take the new width")
        await pilot.pause()
        narrow = text(bars, row_of(IDS[2]))
        assert narrow.count("░") < wide.count("░") and "8.0 MB / 40.0 MB" in narrow


def expected_lines(bars: LayerBars) -> list[list]:
    """Every row as Textual draws the widget's whole text in one go (the old drawing)."""
    strips = Visual.to_strips(bars, bars.render(), bars.size.width, None, bars.visual_style)
    return [list(strip) for strip in strips]


async def test_each_row_is_drawn_exactly_as_textual_draws_the_whole_text():
    progress = in_flight()
    progress.apply({"status": "Retrying in 5 seconds", "id": IDS[3]})
    progress.apply({"status": "Extracting", "progressDetail": {"current": 7, "total": 9},
                    "id": IDS[4]})
    progress.apply({"status": "Already exists", "id": "f" * 12})
    progress.apply({"status": "Pulling fs layer", "id": "odd\x1bid\twith-controls"})
    app = BarsApp(progress)
    async with app.run_test(size=(120, 20)) as pilot:
        bars = app.query_one(CountingBars)
        for width in (120, 60, 30):  # 30: rows longer than the widget end in an ellipsis
            await pilot.resize_terminal(width, 20)
            await until(pilot, lambda w=width: bars.size.width == w, "no resize")
            await settled(pilot, bars)
            drawn = [list(bars.render_line(y)) for y in range(bars.size.height)]
            assert drawn == expected_lines(bars), f"at width {width}"
