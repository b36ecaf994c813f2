"""Step 2 without an engine to talk to: what the screen says before any pull starts."""

from __future__ import annotations

from hermes_tui.state import StepId, StepStatus
from hermes_tui.ui.widgets.problem_view import ProblemView
from tests.support.states import at


async def test_a_malformed_image_reference_is_explained_not_blamed_on_the_network(make_app):
    app = make_app(at(StepId.PULL), image="nousresearch/Hermes-Agent:v1")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = app.screen.query_one("#pull-problem", ProblemView).text
        assert "'nousresearch/Hermes-Agent:v1' is not a valid image reference" in text
        assert "'Hermes-Agent' has upper-case letters" in text
        assert "proxy" not in text.lower() and "internet" not in text.lower()
        assert app.state.status(StepId.PULL) is StepStatus.FAILED
        assert app.screen.check_action("next", ()) is None
