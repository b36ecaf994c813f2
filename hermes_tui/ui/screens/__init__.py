"""One screen per wizard step, imported only when that step is opened."""

from __future__ import annotations

from importlib import import_module

from textual.screen import Screen

from hermes_tui.progress import StepId

_SCREENS: dict[StepId, tuple[str, str]] = {
    StepId.RUNTIME: ("runtime", "RuntimeScreen"),
    StepId.PULL: ("pull", "PullScreen"),
    StepId.PROFILE: ("profile", "ProfileScreen"),
    StepId.CHANNELS: ("channels", "ChannelsScreen"),
    StepId.BRIDGE: ("bridge", "BridgeScreen"),
    StepId.MIGRATION: ("migration", "MigrationScreen"),
    StepId.DONE: ("done", "DoneScreen"),
}


def screen_class(step: StepId) -> type[Screen]:
    module, name = _SCREENS[step]
    return getattr(import_module(f"hermes_tui.ui.screens.{module}"), name)
