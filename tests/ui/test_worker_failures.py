"""No worker failure ends the app: the screen shows the problem and keeps running."""

from __future__ import annotations

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.screens.dashboard import DashboardScreen
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.states import at


class GoneGateway:
    """A gateway whose engine went away: the socket refuses every call."""

    profile = "my-bot"

    async def status(self):
        raise ConnectionRefusedError(111, "Connection refused")


def dashboard_app(make_app):
    state = at(StepId.DONE, profile="my-bot")
    state.steps[StepId.DONE].status = StepStatus.DONE
    return make_app(state)


async def test_dashboard_watcher_failing_shows_the_problem_and_the_app_keeps_running(make_app,
                                                                                      paths):
    app = dashboard_app(make_app)

    async def gone():
        return GoneGateway()

    app.profile_gateway = gone
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and app.is_running
        shown = app.screen.query_one("#dash-problem", ProblemView).text
        assert "Unexpected error: ConnectionRefusedError" in shown
        assert "Press r to retry; the full log is at" in shown
        assert "hermes-tui.log" in shown
        assert "ConnectionRefusedError" in paths.log_file.read_text()


async def test_a_step_without_a_problem_view_of_its_own_shows_a_failure_at_the_end_of_its_body(
        make_app, paths):
    from textual import work
    from textual.widgets import Static

    from hermes_tui.ui.screens.base import StepScreen

    class Bare(StepScreen):
        STEP = StepId.PULL
        RETRY_KEY = "r"

        def compose_body(self):
            yield Static("nothing to see", id="bare-text")

        def on_mount(self) -> None:
            self.fail()

        @work(exit_on_error=False)
        async def fail(self) -> None:
            raise OSError(5, "Input/output error")

    app = make_app(at(StepId.PULL))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.switch_screen(Bare())
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        body = app.screen.query_one("#step-body")  # the problem's view made when it came
        assert [child.id for child in body.children] == ["bare-text", "step-problem"]
        shown = app.screen.query_one("#step-problem", ProblemView).text
        assert "Input/output error" in shown and "Press r to retry" in shown
        assert app.is_running
