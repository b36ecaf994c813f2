"""At 80×24 every step's footer shows its own keys whole, before the common ones."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from hermes_tui.profile import create_profile
from hermes_tui.state import StepId
from tests.support.states import at, with_api_key

CASES = {
    # step: (state fields, the step's own keys, in footer order)
    StepId.RUNTIME: ({}, ["Next", "Retry"]),
    StepId.PROFILE: ({}, ["Edit"]),  # no name yet: Enter enters the field
    StepId.CHANNELS: ({"channels": ["telegram"]}, ["Next", "Show secrets"]),
    StepId.BRIDGE: ({}, ["Edit", "Refresh"]),  # no router: Enter enters the URL field
    StepId.DONE: ({}, ["Start", "Dashboard", "Show key"]),
}


@pytest.mark.parametrize("step", list(CASES), ids=[s.value for s in CASES])
async def test_footer_keeps_the_steps_own_keys_at_80_columns(make_app, paths, step):
    fields, own = CASES[step]
    if step is StepId.DONE:
        with_api_key(paths, "my-bot")
    elif step is not StepId.RUNTIME:
        create_profile(paths, "my-bot")
    profile = {} if step in (StepId.RUNTIME, StepId.PROFILE) else {"profile": "my-bot"}
    app = make_app(at(step, **profile, **fields))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        shown = [key.description for key in keys if key.description]
        assert shown[: len(own)] == own, shown
        assert {"Steps", "Help", "Quit"} <= set(shown)
        palette = [key for key in keys if key.action == "command_palette"]
        limit = palette[0].region.x if palette else 80
        assert all(key.region.right <= limit for key in keys if key not in palette), shown


@pytest.mark.parametrize("state", ["running", "exited"])
async def test_dashboard_footer_keeps_its_keys_at_80_columns(make_app, paths, state):
    """With the API block (the longest footer): Stop while the gateway is up, else Start."""
    from hermes_tui.engine.gateway import GatewayStatus
    from hermes_tui.state import StepStatus

    with_api_key(paths, "my-bot")
    fields = at(StepId.DONE, profile="my-bot")
    fields.steps[StepId.DONE].status = StepStatus.DONE
    app = make_app(fields)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        app.screen.show_status(GatewayStatus(exists=True, state=state, profile="my-bot"))
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        shown = [key.description for key in keys if key.description]
        first = "Stop" if state == "running" else "Start"
        assert shown == [first, "Restart", "Log", "Show key", "Copy", "Re-run", "Profile",
                         "New", "Help", "Quit"], shown
        assert all(key.region.right <= 80 for key in keys), shown


def test_readme_key_table_names_every_footer_key_of_the_steps():
    from pathlib import Path

    from hermes_tui.ui.screens import bridge, channels, dashboard, done, profile, pull, runtime

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("## Keys\n", 1)[1].split("\n\n|", 1)[1].split("\n\n", 1)[0]
    cells = {cell.strip("` ") for row in table.splitlines() for cell in
             row.split("|")[1].replace("/", "`").split("`") if cell.strip("` ")}
    spelled = {"enter": "Enter", "escape": "Esc", "tab": "Tab", "space": "Space",
               "question_mark": "?", "ctrl+r": "Ctrl+R", "ctrl+q": "Ctrl+Q", "f1": "F1",
               "f2": "F2"}
    screens = [runtime.RuntimeScreen, pull.PullScreen, profile.ProfileScreen,
               channels.ChannelsScreen, bridge.BridgeScreen, done.DoneScreen,
               dashboard.DashboardScreen]
    for screen in screens:
        for key, one in screen._merged_bindings:
            if one.show:
                assert spelled.get(key, key) in cells, (screen.__name__, key)
