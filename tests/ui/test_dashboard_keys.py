"""The dashboard's keys do what the footer says, and nothing the user did not ask for:
``n`` (New profile) asks first, and declining or Esc leaves the progress as it was."""

from __future__ import annotations

import tomllib

import pytest

from hermes_tui.profile import create_profile
from hermes_tui.state import StepId
from hermes_tui.ui.widgets.confirm import ConfirmModal
from tests.support.dashboard import dashboard_state, open_dashboard


@pytest.mark.parametrize("answer", ["escape", "n"])
async def test_new_profile_asks_first_and_declining_keeps_the_dashboard_and_progress(
        make_app, paths, answer):
    create_profile(paths, "my-bot")
    app = make_app(dashboard_state())
    before = paths.state_file.read_text()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "'my-bot'" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press(answer)
        await open_dashboard(app, pilot)
        assert app.screen.query_one("#dashboard").border_title == "Hermes · my-bot"
    assert paths.state_file.read_text() == before


async def test_new_profile_confirmed_opens_step_3(make_app, paths):
    create_profile(paths, "my-bot")
    app = make_app(dashboard_state())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_dashboard(app, pilot)
        await pilot.press("n", "y")
        await pilot.pause()
        assert app.screen.STEP is StepId.PROFILE
    saved = tomllib.loads(paths.state_file.read_text())
    assert saved["current_step"] == "profile"
