"""StreamLog: a fast stream of lines is written in batches, from the widget's own loop
only, so a stream that outlives the widget can neither draw on it nor stop the app."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from hermes_tui.ui.widgets.stream_log import StreamLog


class CountingLog(StreamLog):
    """The real widget, counting the batches it writes into the Log."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.batches: list[int] = []

    def write_lines(self, lines, scroll_end=None):
        lines = list(lines)
        self.batches.append(len(lines))
        return super().write_lines(lines, scroll_end)


class LogApp(App):
    def compose(self) -> ComposeResult:
        yield CountingLog(max_lines=50)


async def until(pilot, condition, what: str) -> None:
    for _ in range(500):  # 10 s on a loaded machine, then a loud failure
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"{what} within 10 s")


async def test_a_burst_of_lines_is_one_write_keeping_the_last_max_lines():
    app = LogApp()
    async with app.run_test() as pilot:
        log = app.query_one(CountingLog)
        log.feed(*(f"line {n}" for n in range(500)))
        for n in range(500, 520):
            log.feed(f"line {n}")
        await until(pilot, lambda: log.throttle.idle and log.line_count, "no write")
        assert log.batches == [50]  # the 470 that Log would drop were never written
        assert log.lines[0] == "line 470" and log.lines[-1] == "line 519"


async def test_a_steady_stream_is_written_at_most_once_a_period():
    app = LogApp()
    async with app.run_test() as pilot:
        log = app.query_one(CountingLog)
        for n in range(200):
            log.feed(f"line {n}")
            await asyncio.sleep(0.001)  # a chatty gateway: about a line a millisecond
        await until(pilot, lambda: log.throttle.idle and "line 199" in log.lines,
                    "the last line was not written")
        assert sum(log.batches) == 200
        assert len(log.batches) < 50  # hundreds of lines, a handful of writes


async def test_clear_drops_lines_not_yet_written():
    app = LogApp()
    async with app.run_test() as pilot:
        log = app.query_one(CountingLog)
        log.feed("old")
        log.clear()
        log.feed("new")
        await until(pilot, lambda: log.throttle.idle and log.line_count, "no write")
        assert log.lines == ["new"]


async def test_lines_fed_after_the_log_was_removed_start_nothing():
    app = LogApp()
    async with app.run_test() as pilot:
        log = app.query_one(CountingLog)
        await log.remove()
        log.feed("too late")
        await pilot.pause()
        assert log.batches == [] and log.throttle.idle
        assert not [w for w in app.workers if w.node is log]
    assert app._exception is None


class Streaming(Screen):
    """A screen whose worker feeds the log as fast as it can until the screen goes (the
    dashboard following a chatty gateway)."""

    def compose(self) -> ComposeResult:
        for n in range(5):
            yield Static(f"panel {n}")
        yield StreamLog(max_lines=200)

    def on_mount(self) -> None:
        self.stream()

    @work(exit_on_error=False)
    async def stream(self) -> None:
        log = self.query_one(StreamLog)
        n = 0
        while True:
            log.feed(f"line {n}")
            n += 1
            await asyncio.sleep(0)


class StreamingApp(App):
    def on_mount(self) -> None:
        self.push_screen(Streaming())


async def test_quitting_while_a_stream_feeds_the_log_is_clean():
    """Textual prunes the screen's widgets before the screen's own workers are cancelled,
    so the stream keeps feeding a log that is being removed. With Log.write_line this
    stopped the app with NoActiveAppError in 8 runs of 10."""
    for _ in range(5):
        app = StreamingApp()
        async with app.run_test() as pilot:
            log = app.screen.query_one(StreamLog)
            await until(pilot, lambda log=log: log.line_count > 0, "the stream wrote nothing")
        assert app._exception is None
