"""The dashboard's stats panel takes readings from a stream that may outlive it."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from hermes_tui.engine.gateway import StatsSample
from hermes_tui.ui.widgets.gateway_stats import GatewayStats

SAMPLE = StatsSample(cpu_percent=12.5, memory=64 * 1024 * 1024, memory_limit=1 << 30)


class StatsApp(App):
    def compose(self) -> ComposeResult:
        yield GatewayStats()


async def test_a_reading_shows_in_the_labels():
    app = StatsApp()
    async with app.run_test() as pilot:
        stats = app.query_one(GatewayStats)
        stats.add(SAMPLE)
        await pilot.pause()
        assert "12.5%" in str(stats.query_one("#stats-cpu", Static).render())
        assert stats.samples == 1
        stats.stopped()
        assert "not running" in str(stats.query_one("#stats-cpu", Static).render())


async def test_a_reading_after_the_panel_was_removed_is_dropped():
    """Textual prunes a closing screen's widgets before it cancels the screen's workers,
    so the stats stream can deliver one more reading to a panel without its labels."""
    app = StatsApp()
    async with app.run_test() as pilot:
        stats = app.query_one(GatewayStats)
        await stats.remove()
        stats.add(SAMPLE)
        stats.stopped()
        await pilot.pause()
        assert stats.samples == 0
    assert app._exception is None
