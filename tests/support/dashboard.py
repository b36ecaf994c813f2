"""Opening the dashboard in Pilot tests: a state past setup, and waiting until it shows."""

from __future__ import annotations

from typing import Any

from hermes_tui.state import StepId, StepStatus, WizardState
from hermes_tui.ui.screens.dashboard import DashboardScreen
from tests.support.states import at


def dashboard_state(profile: str = "my-bot", **fields: Any) -> WizardState:
    """Setup complete for ``profile`` (step 7 done): the app opens the dashboard."""
    state = at(StepId.DONE, profile=profile, **fields)
    state.steps[StepId.DONE].status = StepStatus.DONE
    return state


async def open_dashboard(app, pilot) -> DashboardScreen:
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, DashboardScreen), app.screen
    return app.screen
