"""Step 7 at 80×24: the words, the wrapped tables, the gateway outcome in view."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._footer import FooterKey

from hermes_tui.engine.gateway import GatewayStatus
from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.widgets.step_sidebar import StepSidebar
from tests.support.states import at


def done_state():
    state = at(StepId.DONE, profile="my-bot", channels=["telegram"],
               router_url="http://127.0.0.1:11434/v1")
    state.steps[StepId.MIGRATION].reason = "skipped by you"
    return state


def text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_step_seven_at_80x24_says_what_quitting_does_and_shows_the_outcome(make_app):
    app = make_app(done_state())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        steps = text(app, "#done-steps")
        assert "skipped by you" in steps and "skipped (skipped by you)" not in steps
        assert "next launch opens this step again" in text(app, "#done-next-launch")
        # Every key of the step fits in the footer; Next (nothing follows) is not offered.
        keys = {key.description: key for key in app.screen.query(FooterKey)}
        assert "Dashboard" in keys and "Start" in keys and "Next" not in keys
        assert all(key.region.right <= 80 for key in keys.values())
        # A value too long for its line wraps under itself, never under the labels.
        label_width = len("Default model")
        for line in text(app, "#done-details").splitlines():
            assert line[: label_width + 2].strip() == "" or not line.startswith(" ")
        app.screen.show_started(GatewayStatus(exists=True, state="running", health="ok",
                                              profile="my-bot", api_port=8650))
        await pilot.pause()
        await pilot.pause()
        await pilot.pause()
        assert text(app, "#done-headline").startswith(
            "Setup is complete and the gateway is running")
        assert "Press g" not in text(app, "#done-headline")
        assert text(app, "#done-next-launch").startswith("The next launch opens the dashboard")
        body = app.screen.query_one("#step-body")
        assert body.max_scroll_y > 0 and body.scroll_y == body.max_scroll_y
        assert app.focused is body  # so the arrows and PgUp scroll back up
    assert app.state.status(StepId.DONE) is StepStatus.PENDING


async def test_sidebar_reasons_keep_their_indent_when_wrapped(make_app):
    state = at(StepId.DONE, profile="my-bot")
    app = make_app(state)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        sidebar = app.screen.query_one(StepSidebar)
        migration = sidebar.get_option("migration").prompt.plain.splitlines()
        assert migration[1:] == ["  skipped", "  no OpenClaw setup", "  found"]
