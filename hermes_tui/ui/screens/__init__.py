"""One screen per wizard step."""

from __future__ import annotations

from textual.screen import Screen

from hermes_tui.state import StepId


def screen_class(step: StepId) -> type[Screen]:
    from hermes_tui.ui.screens.channels import ChannelsScreen
    from hermes_tui.ui.screens.done import DoneScreen
    from hermes_tui.ui.screens.planned import BridgeScreen, MigrationScreen, PullScreen, RuntimeScreen
    from hermes_tui.ui.screens.profile import ProfileScreen

    return {
        StepId.RUNTIME: RuntimeScreen,
        StepId.PULL: PullScreen,
        StepId.PROFILE: ProfileScreen,
        StepId.CHANNELS: ChannelsScreen,
        StepId.BRIDGE: BridgeScreen,
        StepId.MIGRATION: MigrationScreen,
        StepId.DONE: DoneScreen,
    }[step]
